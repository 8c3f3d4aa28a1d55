"""Apache Airflow: one self-contained DAG file per flow (see target.py).

The package, one concern per file:

    target.py          the class: capabilities, options, the lowering's passes in order
    placement.py       where a step runs (pod, AWS Batch, worker) and what its task carries
    lowering.py        mapped groups for foreach levels, switch routing, edges
    plan.py            the typed plan the template renders
    names.py           Python names, task ids, the DAG id (@project)
    render.py, render_helpers.py   the Jinja rendering and its filters
    templates/         airflow.py.j2 (the file), airflow_tasks.py.j2 (one task, one group)
"""

from ..python_emit import py_literal
from .names import dag_id_of
from .plan import Plan
from .render import render
from .render_helpers import comment_lines, templated_literal
from .target import AirflowTarget, plan_dag

__all__ = ["AirflowTarget", "Plan", "plan_dag", "dag_id_of", "render", "py_literal", "templated_literal",
           "comment_lines"]
