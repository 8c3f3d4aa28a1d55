"""The events a flow waits for, completed once the flow's parameters are known.

Metaflow's rules (its Argo plugin applies them at deploy time; flowc at
compile time, so every target sees the same): a mapped parameter must exist
(names compare case-insensitively, as Metaflow's parameters do) and be
mapped once; one event without a mapping maps every parameter to the payload
field of its own name; @trigger and @trigger_on_finish are not used together.
A required parameter without a default that no event fills is a warning
(FC307): Metaflow deploys such a flow, and a run an event starts fails at its
start for want of the value (a target that cannot even start that run says so
itself: Airflow, FC501).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from . import ir
from .diagnostics import WARNING

Diag = Callable[..., None]  # (code, span, message, hint, severity=ERROR)


def mapped(flow: ir.Flow) -> frozenset[str]:
    """The parameters some event's payload fills (@trigger's completed mappings)."""
    trigger = flow.decorators.trigger
    return frozenset(param for event in (trigger.events if trigger else ()) for param, _ in event.parameters)


def unfilled(flow: ir.Flow) -> tuple[ir.Parameter, ...]:
    """The required parameters without a default that no event the flow waits
    for fills (a run an event starts has no value for them); none for a flow
    that waits for no event, or that runs on a @schedule too (a scheduled run
    lacks them as well, and the schedule is where that is said)."""
    decos = flow.decorators
    if (decos.trigger is None and decos.trigger_on_finish is None) or decos.schedule is not None:
        return ()
    filled = mapped(flow)
    return tuple(p for p in flow.parameters if p.required and p.default is None and p.name not in filled)


def complete(flow: ir.Flow, diag: Diag) -> ir.Flow:
    """The flow with its @trigger's parameter mappings checked and completed."""
    decos = flow.decorators
    if decos.trigger is not None and decos.trigger_on_finish is not None:
        diag("FC408", decos.trigger_on_finish.span, "the flow has both @trigger and @trigger_on_finish",
             "Metaflow refuses the two together; keep one (an upstream flow's end is an event: "
             "@trigger(event='metaflow.UpstreamFlow.end') waits for it too)")
    if decos.trigger_on_finish is not None and decos.project is None:
        for event in decos.trigger_on_finish.events:
            if event.project is not None and event.branch is None:
                diag("FC403", event.span, f"upstream flow {event.flow!r} is in project {event.project!r}, "
                     "but no branch says which of its deployments", "give project_branch too (e.g. 'prod'), "
                     "or write 'PROJECT.BRANCH.FLOW'")
    if decos.trigger is None:
        return _warn_unfilled(flow, diag)
    by_key = {p.name.lower(): p.name for p in flow.parameters}
    events, seen = [], set()
    for event in decos.trigger.events:
        pairs = []
        for param, payload_field in event.parameters:
            name = by_key.get(param.lower())
            if name is None:
                known = ", ".join(p.name for p in flow.parameters) or "none"
                diag("FC403", event.span, f"event {event.name!r} maps payload field {payload_field!r} to "
                     f"parameter {param!r}, which the flow does not have", f"the flow's parameters: {known}")
                continue
            if name.lower() in seen:
                diag("FC403", event.span, f"parameter {name!r} is mapped from more than one event field",
                     "map each parameter once")
                continue
            seen.add(name.lower())
            pairs.append((name, payload_field))
        events.append(dataclasses.replace(event, parameters=tuple(pairs)))
    if len(events) == 1 and not events[0].parameters:
        events[0] = dataclasses.replace(events[0], parameters=tuple((p.name, p.name) for p in flow.parameters))
    trigger = dataclasses.replace(decos.trigger, events=tuple(events))
    return _warn_unfilled(dataclasses.replace(flow, decorators=dataclasses.replace(decos, trigger=trigger)), diag)


def _warn_unfilled(flow: ir.Flow, diag: Diag) -> ir.Flow:
    for p in unfilled(flow):
        diag("FC307", p.span, f"required parameter '{p.name}' has no default and no event the flow waits for "
             "fills it: a run an event starts has no value for it", "give the parameter a default, or map it "
             "from an event's payload (@trigger(event={'name': ..., 'parameters': {...}}))", severity=WARNING)
    return flow

