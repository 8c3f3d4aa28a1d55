"""Names in the generated DAG file: Python variables (python_emit.PyNames:
unique, never a keyword or a name the file defines), task ids, checked for
clashes (a task id is what a user sees, so it is never renamed), and the DAG
id (Metaflow's @project rule, targets/naming.py)."""

from __future__ import annotations

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..naming import deployment_name
from ..python_emit import PyNames
from ..base import Target  # the target, as its lowering sees it


# module-level names of the generated file, which step variables must not shadow
RESERVED_NAMES = frozenset({
    "annotations", "json", "os", "subprocess", "sys", "tempfile", "datetime", "timedelta", "timezone",
    "DAG", "BaseOperator", "Param", "literal", "task", "task_group", "AirflowSkipException",
    "CronTriggerTimetable", "KubernetesPodOperator", "Secret", "k8s", "BatchOperator",
    "FLOW_FILE", "IR_FILE", "START_STEP", "PARAMETERS", "RUN_ID", "ATTEMPT", "FIRST_ATTEMPT", "WORKDIR", "LOCAL_PYTHON",
    "step_command", "flow_params", "FlowcStep", "foreach_indices", "choose_case", "case_gate", "read_outcome",
    "hashlib", "quote", "Asset", "AssetAlias", "AssetOrTimeSchedule", "Dataset", "DatasetAlias",
    "DatasetOrTimeSchedule", "END_EVENT", "PUBLISHED", "SUBSCRIBED", "event_asset", "forward_events",
    "triggering_events", "run_trigger", "alias_extra", "event_payload",
    "dag", "index", "str", "list", "dict", "int", "print", "range", "isinstance",
})


class Names:
    """Python variables and task ids of the generated file."""

    def __init__(self, flow: ir.Flow, target: Target):
        self.flow = flow
        self.target = target
        self.vars = PyNames(RESERVED_NAMES)
        self.ids: dict[str, str] = {}

    def var(self, name: str) -> str:
        """A Python variable for ``name``: the name itself where it is free, else
        the name with a suffix (step names are lower case, so never a constant's)."""
        return self.vars.claim(name)

    def task_id(self, name: str, span: Span, owner: str) -> str:
        """A task id, which two things needing it is an error (FC503)."""
        if self.ids.get(name, owner) != owner:
            self.target.error("FC503", f"the generated task id '{name}' is needed twice: by {self.ids[name]} "
                              f"and by {owner}", span, "rename the step")
        self.ids[name] = owner
        return name


def dag_id_of(flow: ir.Flow, user: str = "") -> str:
    """PROJECT.prod.FLOW, PROJECT.test.BRANCH.FLOW, PROJECT.user.NAME.FLOW, or FLOW
    (Metaflow's names; Airflow's dag_id takes letters, digits, '.', '-' and '_')."""
    return deployment_name(flow, user, sep=".", allowed="A-Za-z0-9_-")
