"""The names of the flow's deployments and their tags: Metaflow's @project
rule (targets/naming.py), its parts joined with dots."""

from __future__ import annotations


from flowc.compiler import ir

from ..naming import deployment_name as joined_name
from ..naming import deployment_parts, project_branch
from ..base import Target  # the target, as its lowering sees it



def deployment_name(target: Target, flow: ir.Flow) -> str:
    """The flow's deployment: ``recs.prod.Flow``, ``recs.test.BRANCH.Flow``,
    ``recs.user.NAME.Flow``, or the flow's name without @project (the
    ``deployment`` option names it instead)."""
    return target.option("deployment") or joined_name(flow, target.option("user"))


def step_deployment_prefix(target: Target, flow: ir.Flow) -> str:
    """What a step's own deployment name starts with (under the steps' flow
    FLOW-step): the @project parts, ``recs.prod.``, or nothing."""
    parts = deployment_parts(flow, target.option("user"))[:-1]
    return "".join(f"{p}." for p in parts)


def tags(target: Target, flow: ir.Flow) -> list[str]:
    project = flow.decorators.project
    out = ["flowc"]
    if project is not None:
        out += [f"project:{project.name}", f"project_branch:{project_branch(project, target.option('user'))}"]
    return out
