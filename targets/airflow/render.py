"""The Airflow DAG file, rendered from the plan by a Jinja template
(templates/airflow.py.j2 in this package) that writes readable, commented Python
importing only Airflow and the standard library."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from flowc import __version__

from ..python_emit import jinja_environment, py_literal
from .plan import Plan
from .render_helpers import comment_lines, doc_text, number, templated_literal, tolerations

# Airflow's placeholders in templated fields (KubernetesPodOperator, BatchOperator)
RUN_ID = "{{ run_id }}"
ATTEMPT = "{{ ti.try_number - 1 }}"
# the attempt a series of tries began with: Airflow's "Clear" raises max_tries
# by the task's retries + 1 (a retry does not), so a cleared task runs again
FIRST_ATTEMPT = "{{ ti.max_tries - task.retries }}"
PARAMS = "{{ flow_params(params) }}"
# the same, when parameters are mapped from the events that started the run
PARAMS_MAPPED = {3: "{{ flow_params(params, triggering_asset_events) }}",
                 2: "{{ flow_params(params, triggering_dataset_events) }}"}
TRIGGER = {3: "{{ run_trigger(triggering_asset_events) }}", 2: "{{ run_trigger(triggering_dataset_events) }}"}
# where KubernetesPodOperator's sidecar reads a pod's return value from
POD_XCOM_FILE = "/airflow/xcom/return.json"


@functools.lru_cache(maxsize=1)
def _environment():
    """One Jinja environment per process: its templates are compiled once."""
    return jinja_environment(__file__, {"py": py_literal, "tf": templated_literal, "comment": comment_lines,
                                        "doc": doc_text, "num": number, "tolerations": tolerations},
                              folder=Path(__file__).parent / "templates")


def render(plan: Plan) -> str:
    text = _environment().get_template("airflow.py.j2").render(
        plan=plan, version=__version__, RUN_ID=RUN_ID, ATTEMPT=ATTEMPT, FIRST_ATTEMPT=FIRST_ATTEMPT,
        PARAMS=PARAMS_MAPPED[plan.version] if plan.uses("mapped") else PARAMS,
        TRIGGER=TRIGGER[plan.version], POD_XCOM_FILE=POD_XCOM_FILE)
    return re.sub(r"\n{3,}(?=    \S)", "\n\n", text)  # at most one blank line inside the DAG
