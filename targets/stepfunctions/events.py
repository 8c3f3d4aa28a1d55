"""@trigger and @trigger_on_finish on Step Functions: one EventBridge rule
that starts the state machine, and the states that turn what the rule passes
into the start step's parameters and ``--trigger``.

An event a flow waits for is an EventBridge event whose ``detail-type`` is
the event's name and whose ``detail`` is its payload (what the runtime's
``eventbridge:BUS`` backend publishes). An upstream flow's end is Step
Functions' own "Execution Status Change" event with status SUCCEEDED from
the upstream state machine, named by Metaflow's @project rule (names.py);
its execution name is the upstream run id (the run-id rule of this target),
so the upstream run's pathspec is ``Flow/<execution name>/end/0``.

The rule's input transformer uses only what every matching event has: the
event id and the whole ``detail`` object (EventBridge replaces a path the
event lacks with nothing, which would leave the execution input broken), so
the execution input is always JSON:

    {"flowc_trigger": {event for --trigger}, "flowc_fields": {field: null, ...}}

The state machine then maps payload fields to parameters with
``States.JsonMerge(flowc_fields, payload)``: a field the payload lacks stays
null, and the runtime gives a null parameter its default (Metaflow's rule).

EventBridge starts a target on ONE matching event; Metaflow starts a run
when ALL of its events have arrived. With more than one event there is no
one rule with that meaning, so that is refused (FC501).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from flowc.compiler import ir

from ..base import Target, source_ref
from ..events import EVENT, Subscription, subscriptions, trigger_of
from ..naming import project_branch
from .names import machine_name

TRIGGER_KEY = "flowc_trigger"  # the execution input's key for the triggering event
FIELDS_KEY = "flowc_fields"  # the mapped payload fields, each null
STATUS_CHANGE = "Step Functions Execution Status Change"
END_TASK_ID = "0"  # the end step's task id (runtime/identity.py: a step outside any foreach)
PLAIN_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # named with a dot; others in brackets
BAD_FIELD = re.compile(r"['\\<>]|[^ -~]")  # no bracket literal or input template can hold these

CHOOSE = "flowc.start"  # the first state of a flow with a rule: triggered or started by hand?
FIELDS = "flowc.event"
PARAMS = "flowc.event.params"
TRIGGERED = "flowc.triggered"


@dataclass(frozen=True)
class Rule:
    """The one EventBridge rule of a flow (stack.py writes it as AWS::Events::Rule)."""

    sub: Subscription
    description: str
    pattern: dict
    paths: dict[str, str]
    template: str
    default_bus: bool  # an upstream's status change arrives on the default bus only


def the_subscription(t: Target, flow: ir.Flow) -> Optional[Subscription]:
    """The flow's one subscription; more than one is FC501 (EventBridge rules fire on any event)."""
    subs = subscriptions(flow, t.option("user"))
    if not subs:
        return None
    if len(subs) > 1:
        deco = trigger_of(flow)
        what = "events" if subs[0].kind == EVENT else "upstream flows"
        t.unsupported(f"the flow starts when ALL of {len(subs)} {what} have arrived "
                      f"({', '.join(s.name for s in subs)}), and an EventBridge rule starts the state "
                      "machine on any one matching event", deco.span,
                      "wait for one event (publish a combined event once all have happened), "
                      "or compile for Argo, which joins events")
        return None
    sub = subs[0]
    for param, field in sub.parameters:
        if not field or BAD_FIELD.search(field):
            t.unsupported(f"payload field {field!r} (parameter '{param}') has a quote, backslash, '<', '>' or a "
                          "character outside printable ASCII, which the state machine's JSONPath or the rule's "
                          "input template cannot hold", sub.span or flow.span, "rename the payload field")
            return None
    return sub


def field_path(field: str) -> str:
    """The JSONPath of a mapped payload field in the merged fields."""
    return f"$.fields.{field}" if PLAIN_FIELD.fullmatch(field) else f"$.fields['{field}']"


def upstream_machine(t: Target, flow: ir.Flow, sub: Subscription) -> str:
    """The upstream flow's state machine name: its @project namespace (given, else this flow's own)."""
    own = flow.decorators.project
    event = next(e for e in trigger_of(flow).events if e.flow == sub.flow and e.span.line == sub.line)
    project = event.project if event.project is not None else (own.name if own else None)
    branch = event.branch if event.branch is not None else (project_branch(own, t.option("user")) if own else None)
    parts = (project, *(branch.split(".") if branch else ()), sub.flow) if project else (sub.flow,)
    return machine_name(parts)


def rule_of(t: Target, flow: ir.Flow, sub: Subscription) -> Rule:
    where = source_ref(flow, sub.span) if sub.span is not None else f"line {sub.line}"
    if sub.kind == EVENT:
        fields = {field: None for _, field in sub.parameters}
        event: dict[str, Any] = {"name": sub.name, "type": "event", "id": "<id>", "payload": "<payload>"}
        body: dict[str, Any] = {TRIGGER_KEY: event}
        if fields:
            body[FIELDS_KEY] = fields
        mapped = ", ".join(f"{p} <- {f}" for p, f in sub.parameters) or "no parameters"
        return Rule(sub, f"starts {flow.name} on event {sub.name} ({where}: @trigger; {mapped})",
                    {"detail-type": [sub.name]}, {"id": "$.id", "payload": "$.detail"},
                    _template(body), default_bus=False)
    machine = upstream_machine(t, flow, sub)
    pathspec = f"{sub.flow}/<run>/end/{END_TASK_ID}"
    event = {"name": sub.name, "type": "run", "id": pathspec,
             "payload": {"flow_name": sub.flow, "run_id": "<run>", "pathspec": pathspec}}
    return Rule(sub, f"starts {flow.name} when a run of {sub.flow} (state machine {machine}) succeeds "
                     f"({where}: @trigger_on_finish)",
                {"source": ["aws.states"], "detail-type": [STATUS_CHANGE],
                 "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [{"suffix": f":stateMachine:{machine}"}]}},
                {"run": "$.detail.name"}, _template({TRIGGER_KEY: event}), default_bus=True)


def _template(body: dict) -> str:
    """The input template: JSON text where ``"<payload>"`` stands unquoted (an
    object goes in as JSON) and the other placeholders stay inside strings
    (ids and execution names need no escaping)."""
    return json.dumps(body, sort_keys=True).replace('"<payload>"', "<payload>")


def start_states(rule: Rule, scope_data: dict, start: str) -> dict[str, dict]:
    """The states before the start step: a Choice between a rule's input and a
    hand-started execution, each ending in the Pass that builds the state data
    with ``start``: the start step's parameters and its ``--trigger``, as text."""
    mapped = rule.sub.parameters
    states: dict[str, dict] = {
        CHOOSE: {
            "Type": "Choice",
            "Comment": f"started by the EventBridge rule ({rule.sub.name}), or by hand with the parameters "
                       "as the input",
            "Choices": [{"Variable": f"$.{TRIGGER_KEY}", "IsPresent": True,
                         "Next": FIELDS if mapped else TRIGGERED}],
            "Default": "flowc.init",
        },
    }
    if mapped:
        states[FIELDS] = {
            "Type": "Pass",
            "Comment": "every mapped payload field, null where the payload lacks it (the parameter's default)",
            "Parameters": {"fields.$": f"States.JsonMerge($.{FIELDS_KEY}, $.{TRIGGER_KEY}.payload, false)",
                           "event.$": f"$.{TRIGGER_KEY}"},
            "Next": PARAMS,
        }
        states[PARAMS] = {
            "Type": "Pass",
            "Comment": "parameters from payload fields: " + ", ".join(f"{p} <- {f}" for p, f in mapped),
            "Parameters": {"params": {f"{p}.$": field_path(f) for p, f in mapped},
                           TRIGGER_KEY + ".$": "$.event"},
            "Next": TRIGGERED,
        }
        params = "States.JsonToString($.params)"
    else:
        params = None
    start_data: dict[str, Any] = {"params.$": params} if params else {"params": "{}"}
    start_data["trigger.$"] = f"States.JsonToString($.{TRIGGER_KEY})"
    states[TRIGGERED] = {
        "Type": "Pass",
        "Comment": "the run id is the execution name; the start step gets the event as --trigger",
        "Parameters": {**scope_data, "start": start_data},
        "Next": start,
    }
    return states


def manual_start(scope_data: dict) -> dict:
    """flowc.init's parameters for a flow with a rule, started by hand: the input is the parameters."""
    return {**scope_data, "start": {"params.$": "States.JsonToString($)", "trigger": ""}}
