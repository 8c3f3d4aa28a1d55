"""The AWS names a flow gets: its state machine (Metaflow's @project rule,
targets/naming.py, joined with '-') and one job definition per step."""

from __future__ import annotations


from flowc.compiler import ir

from ..naming import deployment_name
from ..base import Target  # the target, as its lowering sees it
from .aws import aws_name
from .checks import STATE_NAME_LIMIT



class Names:
    def __init__(self, target: Target, flow: ir.Flow):
        self.flow = flow
        default = deployment_name(flow, target.option("user"), sep="-", allowed="A-Za-z0-9_-")
        self.base = aws_name(target.option("state_machine_name") or default, STATE_NAME_LIMIT)
        self.jobs: dict[str, str] = {}
        seen: dict[str, str] = {}
        for s in flow.ordered_steps():
            job = aws_name(f"{self.base}-{s.name}")
            if job in seen:
                target.error("FC503", f"steps '{seen[job]}' and '{s.name}' both map to the AWS name {job!r}", s.span,
                             "rename one of the steps")
            seen[job] = s.name
            self.jobs[s.name] = job

    @property
    def state_machine(self) -> str:
        return self.base
