"""Events on Airflow: data-aware scheduling (Assets; Datasets on Airflow 2).

An event travels as an asset whose URI is ``x-flowc-event:NAME`` (the DAG
file's ``event_asset`` says how NAME is written; Airflow leaves a URI of an
``x-`` scheme as it is). A flow's subscriptions (targets/events.py) are
the DAG's schedule, a list of assets, which Airflow reads as "all of them"
(Metaflow's rule); with @schedule too, the schedule or the events start a
run (AssetOrTimeSchedule). The start task maps the triggering asset events'
extras (their payloads) to parameters and passes the events to the
runtime's --trigger.

Every step task forwards what its step published (OUT.json's ``events``,
the end event included) as asset events after the step: the end task
declares the end event's asset as its outlet (so Airflow draws the
upstream DAG -> asset -> downstream DAG line), and every other event goes
through the DAG's asset alias, since its name is known only at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowc.compiler import ir
from flowc.compiler.events import unfilled

from ..base import Target, source_ref
from ..events import EVENT, subscriptions
from ..events import end_event_name as flow_end_event


@dataclass
class Subscribed:
    name: str  # the full event name
    kind: str  # "event" (@trigger) or "run" (@trigger_on_finish)
    fields: dict[str, str]  # flow parameter -> payload field
    ref: str  # flow.py:LINE of the decorator entry
    what: str  # @trigger(event=...) or @trigger_on_finish(flow=...)


@dataclass
class Events:
    end_event: str  # what this flow's successful run publishes
    alias: str  # the asset alias the steps' published events go through
    subscribed: list[Subscribed] = field(default_factory=list)

    @property
    def maps_params(self) -> bool:
        return any(s.fields for s in self.subscribed)


def lower_events(target: Target, flow: ir.Flow, dag_id: str) -> Events:
    user = target.option("user")
    out = Events(end_event=flow_end_event(flow, user), alias=f"{dag_id}.published")
    for sub in subscriptions(flow, user):
        what = f"@trigger(event={sub.name!r})" if sub.kind == EVENT else f"@trigger_on_finish(flow={sub.flow!r})"
        out.subscribed.append(Subscribed(name=sub.name, kind=sub.kind, fields=dict(sub.parameters),
                                         ref=source_ref(flow, sub.span) if sub.span else f"line {sub.line}",
                                         what=what))
    if out.subscribed:
        check_required(target, flow)
    return out


def check_required(target: Target, flow: ir.Flow) -> None:
    """A required parameter no event fills (compiler/events.unfilled): Airflow
    cannot even create the run an asset event starts."""
    for p in unfilled(flow):
        target.unsupported(f"required parameter '{p.name}' on a flow started by events, and no event's "
                           "payload fills it: Airflow starts the run with the parameters' defaults",
                           p.span, "give the parameter a default, or map it from an event's payload")
