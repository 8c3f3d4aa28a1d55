"""The events a flow waits for and the one it publishes, resolved once for every target.

``subscriptions(flow, user)`` turns @trigger and @trigger_on_finish into full
event names (an upstream flow's end event carries its @project namespace,
this flow's own unless the decorator names another), each with the
(parameter, payload field) pairs to fill; the run starts when ALL of them
have arrived (Metaflow's rule). ``end_event_name(flow, user)`` is what this
flow's successful run publishes. The naming rule itself is
runtime/events.end_event_name, which the runtime applies too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flowc.compiler import ir
from flowc.compiler.spans import Span
from flowc.runtime.events import end_event_name as _end_event_name

from .naming import project_branch

EVENT, RUN = "event", "run"


@dataclass(frozen=True)
class Subscription:
    name: str  # the full event name
    parameters: tuple[tuple[str, str], ...]  # (flow parameter, payload field)
    kind: str  # EVENT (@trigger) or RUN (@trigger_on_finish: an upstream run's end)
    flow: Optional[str]  # RUN: the upstream flow's name
    line: int  # flow.py:LINE of the decorator entry
    span: Optional[Span] = None


def subscriptions(flow: ir.Flow, user: str = "") -> tuple[Subscription, ...]:
    decos = flow.decorators
    out: list[Subscription] = []
    if decos.trigger is not None:
        out += [Subscription(e.name, e.parameters, EVENT, None, e.span.line, e.span) for e in decos.trigger.events]
    if decos.trigger_on_finish is not None:
        own = decos.project
        for e in decos.trigger_on_finish.events:
            project = e.project if e.project is not None else (own.name if own else None)
            branch = e.branch if e.branch is not None else (project_branch(own, user) if own else None)
            out.append(Subscription(_end_event_name(e.flow, project, branch), (), RUN, e.flow, e.span.line, e.span))
    return tuple(out)


def trigger_of(flow: ir.Flow) -> Optional[ir.Trigger]:
    """The decorator the subscriptions come from (its span and options), if any."""
    return flow.decorators.trigger or flow.decorators.trigger_on_finish


def end_event_name(flow: ir.Flow, user: str = "") -> str:
    project = flow.decorators.project
    if project is None:
        return _end_event_name(flow.name)
    return _end_event_name(flow.name, project.name, project_branch(project, user))
