"""One deployment name for a flow, on every target: Metaflow's @project rule.

A flow with ``@project(name="recs")`` deploys as

    recs.prod.FlowName              @project(..., production=True)
    recs.prod.BRANCH.FlowName       @project(..., production=True, branch="BRANCH")
    recs.test.BRANCH.FlowName       @project(..., branch="BRANCH")
    recs.user.NAME.FlowName         neither: a personal deployment of user NAME

as in Metaflow, so that a production deployment, each test branch and each
person's own never overwrite one another. NAME is the ``user`` option
(``--user``, ``[tool.flowc] user``), else ``$METAFLOW_USER``, else ``$USER``
(Metaflow's order); a CI job that publishes flows should give a branch or
``production=True`` instead of relying on whoever runs it. A flow without
@project deploys under its own name.

The parts are the same everywhere; each target joins them in the characters
its engine allows (``deployment_name(..., sep="-")`` for a Kubernetes name).
"""

from __future__ import annotations

import re
from typing import Optional

from flowc.compiler import ir
from flowc.runtime.project import UNKNOWN_USER, user_name  # noqa: F401 (names targets import from here)
from flowc.runtime.project import branch_parts as _branch_parts


def branch_parts(project: ir.Project, user: str = "") -> tuple[str, ...]:
    """``("prod",)``, ``("prod", BRANCH)``, ``("test", BRANCH)`` or ``("user", NAME)``."""
    return _branch_parts(project.production, project.branch, user)


def deployment_parts(flow: ir.Flow, user: str = "") -> tuple[str, ...]:
    """The name's parts, outermost first: (project, *branch, flow) or (flow,)."""
    project = flow.decorators.project
    if project is None:
        return (flow.name,)
    return (project.name, *branch_parts(project, user), flow.name)


def project_branch(project: Optional[ir.Project], user: str = "") -> str:
    """The branch as Metaflow's ``current.branch_name`` gives it: ``user.NAME``, ``test.BRANCH``..."""
    return ".".join(branch_parts(project, user)) if project is not None else ""


def deployment_name(flow: ir.Flow, user: str = "", sep: str = ".", allowed: Optional[str] = None,
                    lower: bool = False) -> str:
    """The parts joined with ``sep``; with ``allowed`` (a regex character
    class body, e.g. ``"a-z0-9-"``), every other character becomes ``sep``."""
    parts = deployment_parts(flow, user)
    if lower:
        parts = tuple(p.lower() for p in parts)
    if allowed is not None:
        parts = tuple(re.sub(f"[^{allowed}]+", sep, p).strip(sep) for p in parts)
    return sep.join(p for p in parts if p)
