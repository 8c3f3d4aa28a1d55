"""@trigger and @trigger_on_finish as Prefect deployment triggers (prefect.yaml).

Each subscription (targets/events.py) is an event trigger: ``expect`` the
event's name, ``match`` its resource (flowc's events are about ``flowc.*``
resources: an upstream run's end is about ``flowc.run.FLOW/RUN_ID``; see
flowc/engines/prefect.py ``emit``). Several subscriptions are one compound
trigger that requires all of them (Metaflow's rule), with no time limit.
The trigger's ``parameters`` are Prefect's parameter templates: each mapped
flow parameter is a Jinja expression over the event's payload (a missing
field gives the parameter's default), and the flow function's trigger
parameter gets every event that fired (``events``), which its start task
hands to the runtime as ``--trigger``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from flowc.compiler import ir

from ..base import Target, source_ref
from ..events import RUN, Subscription, subscriptions, trigger_of
from .plan import ParamPlan
from .yamltext import has_placeholder

# the resources flowc's events are about (flowc/engines/prefect.py RESOURCE_PREFIX)
FLOWC_RESOURCES = "flowc.*"


@dataclass
class TriggerPlan:
    """One deployment trigger: its notes (comments), fields and children (a compound's)."""

    notes: list[str]
    fields: dict[str, Any]
    children: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (flow.py:LINE, trigger)
    parameters: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (name, note, template)


def deployment_triggers(target: Target, flow: ir.Flow, params: list[ParamPlan], trigger_param: Optional[str],
                        deployment: str) -> list[TriggerPlan]:
    deco = trigger_of(flow)
    subs = subscriptions(flow, target.option("user"))
    if deco is None or not subs or trigger_param is None:
        return []
    if has_placeholder([s.name for s in subs]):
        target.unsupported("an event name holds {{ }}, which prefect deploy would substitute", deco.span,
                           "name the event without braces")
    which = "@trigger" if flow.decorators.trigger is not None else "@trigger_on_finish"
    ref = source_ref(flow, deco.span)
    single = len(subs) == 1
    names = " and ".join(s.name for s in subs)
    if single:
        notes = [f"{which} ({ref}): a run starts on each {names} event."]
    else:
        notes = [f"{which} ({ref}): a run starts once all of {', '.join(s.name for s in subs)} have arrived",
                 "(a compound trigger; after a run starts it waits for all of them again)."]
    by_name = {p.name: p for p in params}
    parameters = []
    for sub in subs:
        source = "event.payload" if single else (
            f"(events | selectattr('event', 'equalto', {jinja_literal(sub.name)}) | first).payload")
        for name, payload_field in sub.parameters:
            p = by_name[name]
            template, default = value_template(p, source, payload_field)
            parameters.append((p.py, f"{p.py}: field {payload_field!r} of {sub.name}'s payload, else {default}",
                               {"__prefect_kind": "json", "value": {"__prefect_kind": "jinja", "template": template}}))
    parameters.append((trigger_param, "the events that fired, for the start step's --trigger (current.trigger)",
                       {"__prefect_kind": "json", "value": {"__prefect_kind": "jinja",
                                                            "template": "{{ events | tojson }}"}}))
    head = {"name": f"{deployment} on {names}", "description": f"{which} at {ref}", "enabled": True}
    if single:
        return [TriggerPlan(notes=notes, fields={"type": "event", **head, **event_trigger(subs[0])},
                            parameters=parameters)]
    children = [(source_ref(flow, s.span) if s.span else f"line {s.line}", {"type": "event", **event_trigger(s)})
                for s in subs]
    return [TriggerPlan(notes=notes, fields={"type": "compound", **head, "require": "all"}, children=children,
                        parameters=parameters)]


def event_trigger(sub: Subscription) -> dict[str, Any]:
    """expect the event's name; match what it is about: any flowc resource, or,
    for an upstream's end, a run of that flow."""
    resource = f"flowc.run.{sub.flow}/*" if sub.kind == RUN else FLOWC_RESOURCES
    return {"expect": [sub.name], "match": {"prefect.resource.id": resource}}


# What each parameter type makes of a payload value ``v`` (a Jinja expression
# giving the JSON text Prefect reads back): what runtime/params.py's convert
# makes of the text `flowc trigger` passes (the value itself if text, else
# its JSON). Prefect checks a run's parameters against the deployment's schema
# before the flow's own typing could, so the template types them; what the
# type cannot take is null, which Prefect refuses (the automation's action
# fails: no run), or text that is not JSON for a JSON parameter.
_TRUE, _FALSE = "['true', '1', 'yes', 'y', 'on']", "['false', '0', 'no', 'n', 'off']"
CONVERT = {
    "str": "(v if v is string else v | tojson) | tojson",
    "json": "v if v is string else v | tojson",  # text is JSON text: Prefect parses it
    "int": "(v if v is integer else v | int(none) if v is string and '.' not in v and 'e' not in v | lower "
           "else none) | tojson",
    "float": "(v if v is number and v is not boolean else v | float(none) if v is string else none) | tojson",
    "bool": (f"(v if v is boolean else true if v | string | trim | lower in {_TRUE} "
             f"else false if v | string | trim | lower in {_FALSE} else none) | tojson"),
}


def value_template(p: ParamPlan, source: str, payload_field: str) -> tuple[str, str]:
    """A Jinja template (rendered by Prefect, then read as JSON) giving the
    parameter the payload's field, typed, else its default; and how the
    default reads."""
    if p.required:
        default, shown = "none", "nothing: Prefect refuses the run (a required parameter)"
    else:  # a JSON value (the compiler refuses non-finite numbers: FC302)
        default = jinja_literal(p.raw_default)
        shown = f"the default {p.default}"
    field_name = jinja_literal(payload_field)
    return (f"{{% if {field_name} in {source} %}}{{% set v = {source}[{field_name}] %}}{{{{ {CONVERT[p.type]} }}}}"
            f"{{% else %}}{{{{ {default} | tojson }}}}{{% endif %}}"), shown


def jinja_literal(value: Any) -> str:
    """A JSON value as a Jinja literal. Strings are single-quoted with braces
    escaped, so that no ``{{`` reaches prefect.yaml (prefect deploy would
    substitute it)."""
    if value is None:
        return "none"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a JSON number: {value}")
        return repr(value)
    if isinstance(value, str):
        return "'" + "".join(_escape(ch) for ch in value) + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jinja_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{jinja_literal(str(k))}: {jinja_literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(value)


def _escape(ch: str) -> str:
    # Jinja reads a string literal's escapes as Python's unicode-escape does
    if ch in "\\'{}%#" or not ch.isprintable():
        code = ord(ch)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch
