"""The AWS names a flow gets: its state machine (Metaflow's @project rule,
targets/naming.py, joined with '-') and one job definition per step."""

from __future__ import annotations

import re

from flowc.compiler import ir

from ..naming import deployment_parts
from ..base import Target  # the target, as its lowering sees it
from .aws import aws_name
from .checks import STATE_NAME_LIMIT


def machine_name(parts: tuple[str, ...]) -> str:
    """A state machine's name from its @project parts (targets/naming.py), each
    part's other characters as '-', joined with '-': also how a
    @trigger_on_finish rule names its upstream's state machine."""
    cleaned = (re.sub(r"[^A-Za-z0-9_-]+", "-", p).strip("-") for p in parts)
    return aws_name("-".join(p for p in cleaned if p), STATE_NAME_LIMIT)


class Names:
    def __init__(self, target: Target, flow: ir.Flow):
        self.flow = flow
        given = target.option("state_machine_name")
        self.base = aws_name(given, STATE_NAME_LIMIT) if given else \
            machine_name(deployment_parts(flow, target.option("user")))
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
