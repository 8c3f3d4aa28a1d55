"""Names in the generated DAG file: Python variables and task ids, checked
for clashes, and the DAG id (Metaflow's @project rule, targets/naming.py)."""

from __future__ import annotations

import keyword

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..naming import deployment_name
from ..base import Target  # the target, as its lowering sees it


# module-level names of the generated file, which step variables must not shadow
RESERVED_NAMES = frozenset({
    "annotations", "json", "os", "subprocess", "sys", "tempfile", "datetime", "timedelta", "timezone",
    "DAG", "BaseOperator", "Param", "literal", "task", "task_group", "AirflowSkipException",
    "CronTriggerTimetable", "KubernetesPodOperator", "Secret", "k8s", "BatchOperator",
    "FLOW_FILE", "IR_FILE", "START_STEP", "PARAMETERS", "RUN_ID", "ATTEMPT", "FIRST_ATTEMPT", "WORKDIR", "LOCAL_PYTHON",
    "step_command", "flow_params", "FlowcStep", "foreach_indices", "choose_case", "case_gate", "read_outcome",
    "dag", "str", "list", "dict", "int", "print", "range", "isinstance",
})


class Names:
    """Python variables and task ids of the generated file, checked for clashes (FC503)."""

    def __init__(self, flow: ir.Flow, target: Target):
        self.flow = flow
        self.target = target
        self.vars: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def var(self, name: str, span: Span, owner: str) -> str:
        var = name if name not in RESERVED_NAMES and not keyword.iskeyword(name) else f"{name}_"
        var = var.lower() if var.isupper() else var  # keep constants distinct from tasks
        return self._claim(self.vars, var, owner, span, "Python name")

    def task_id(self, name: str, span: Span, owner: str) -> str:
        return self._claim(self.ids, name, owner, span, "task id")

    def _claim(self, table: dict[str, str], key: str, owner: str, span: Span, what: str) -> str:
        if table.get(key, owner) != owner:
            self.target.error("FC503", f"the generated {what} '{key}' is needed twice: by {table[key]} and "
                              f"by {owner}", span, "rename the step")
        table[key] = owner
        return key


def group_var(group_id: str) -> str:
    return f"{group_id}_group"


def dag_id_of(flow: ir.Flow, user: str = "") -> str:
    """PROJECT.prod.FLOW, PROJECT.test.BRANCH.FLOW, PROJECT.user.NAME.FLOW, or FLOW
    (Metaflow's names; Airflow's dag_id takes letters, digits, '.', '-' and '_')."""
    return deployment_name(flow, user, sep=".", allowed="A-Za-z0-9_-")
