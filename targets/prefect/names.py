"""The names of the flow's deployments and their tags (@project)."""

from __future__ import annotations

from flowc.compiler import ir


def project_part(project: ir.Project) -> str:
    branch = "prod" if project.production else (f"test.{project.branch}" if project.branch else "user")
    return f"{project.name}.{branch}"


def deployment_name(flow: ir.Flow) -> str:
    project = flow.decorators.project
    return f"{project_part(project)}.{flow.name}" if project else flow.name
