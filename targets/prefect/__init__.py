"""The Prefect 3 target: a flow module, a prefect.yaml and a work pool template
(see target.py).

The package, one concern per file:

    target.py     the class: capabilities, options, the plan and the files a compile writes
    plan.py       the plan the templates render (tasks, statements, parameters, containers)
    tasks.py      one Prefect task per step; the flow's parameters; the runtime's command
    body.py       the flow function's statements, from the IR's graph facts
    pods.py       which steps run in a container of their own, and each pod's job variables
    names.py      the deployments' names and tags (@project)
    checks.py     values prefect deploy would substitute; Prefect block names
    yamltext.py   YAML scalars for prefect.yaml
    render.py     the Jinja templates (targets/templates/prefect*.j2)
"""

from ..python_emit import py_docstring, py_literal
from .plan import Container, ParamPlan, Plan, Stmt, TaskPlan
from .target import JOB_TEMPLATE, PrefectTarget
from .tasks import MODULE, YAML
from .yamltext import yaml_literal, yaml_str

__all__ = ["PrefectTarget", "Plan", "TaskPlan", "ParamPlan", "Stmt", "Container", "MODULE", "YAML", "JOB_TEMPLATE",
           "py_docstring", "py_literal", "yaml_literal", "yaml_str"]
