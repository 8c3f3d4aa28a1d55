"""The files a compile writes, rendered from the plan with the Jinja templates
``targets/templates/prefect*.j2``."""

from __future__ import annotations

import functools
import json

from flowc import __version__

from ..python_emit import comment_text, jinja_environment, py_literal
from .plan import Plan
from .yamltext import yaml_literal, yaml_str


@functools.lru_cache(maxsize=None)
def environment():
    """The templates' environment, built once (jinja2 compiles each template on first use)."""
    return jinja_environment(__file__, {
        "py": py_literal, "comment": comment_text, "yaml": yaml_literal, "yaml_str": yaml_str,
        "json_text": lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False),
    })


def flow_module(plan: Plan, options: dict) -> str:
    """prefect_flow.py: the flow, one task per step."""
    return environment().get_template("prefect_flow.py.j2").render(plan=plan, version=__version__, opt=options)


def deployments(plan: Plan, options: dict) -> str:
    """prefect.yaml: the flow's deployment and one per container step."""
    return environment().get_template("prefect.yaml.j2").render(
        plan=plan, version=__version__, opt=options, containers=[t for t in plan.tasks if t.container])


def job_template() -> str:
    """kubernetes-job-template.json: the work pool's base job template."""
    return environment().get_template("prefect_job_template.json.j2").render()
