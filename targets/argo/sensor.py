"""The Argo Events Sensor that starts a flow with @trigger or @trigger_on_finish.

Events reach Argo Events through one webhook EventSource (Metaflow's
layout: an EventSource named ``argo-events-webhook`` whose webhook event
``metaflow-event`` receives every event as a JSON body; the names are the
target's options). The runtime POSTs each event it publishes there
(``FLOWC_EVENTS``, containers.py): ``{"name", "type", "id", "timestamp",
"payload"}``. The Sensor has:

- one dependency per subscribed event (targets/events.py), on that webhook
  event, filtered on ``body.name`` (and on the presence of the payload
  fields of mapped parameters that have no default: without one the run
  could not start);
- one trigger, run when ALL dependencies have an event (Argo Events' default
  condition joins them with ``&&``: Metaflow's rule), that creates a Workflow
  from the WorkflowTemplate (``argo submit --from``, as a Kubernetes create
  of a Workflow with ``workflowTemplateRef``, as Metaflow does: no argo CLI
  in the sensor's pod), with
  - each mapped parameter set from ``body.payload.FIELD`` (``dataKey``),
    the parameter's default as the ``value`` Argo Events falls back to when
    the field is missing;
  - each event's whole body in a workflow parameter ``flowc-event-DEP``,
    which the start step passes to the runtime as ``--trigger``
    (``current.trigger``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flowc.compiler import ir

from ..base import Target, json_text, source_ref
from ..events import RUN, Subscription, subscriptions, trigger_of
from . import writer
from .names import dns_label

API_VERSION = "argoproj.io/v1alpha1"
WEBHOOK_PORT = 12000  # the port of the documented EventSource (docs/targets/argo.md)
EVENT_PARAM = "flowc-event-"  # workflow parameters carrying the events' bodies
_GJSON_SPECIAL = set(".*?|#@\\!=<>%")


@dataclass(frozen=True)
class Dependency:
    name: str  # the Sensor's dependency name
    param: str  # the workflow parameter that carries the event's body
    sub: Subscription


def dependencies(flow: ir.Flow, user: str = "") -> list[Dependency]:
    """One dependency per subscribed event, named after the event (unique)."""
    out: list[Dependency] = []
    taken: set[str] = set()
    for i, sub in enumerate(subscriptions(flow, user)):
        name = dns_label(sub.name, 50) or "event"
        if name in taken:
            name = f"{name}-{i}"
        taken.add(name)
        out.append(Dependency(name, EVENT_PARAM + name, sub))
    return out


def webhook_url(target: Target) -> str:
    """Where the runtime POSTs events (FLOWC_EVENTS): --events-url, else the
    in-cluster Service Argo Events creates for the EventSource (named
    ``NAME-eventsource-svc``); empty when the option is ``none``."""
    given = target.option("events_url")
    if given == "none":
        return ""
    return given or (f"http://{target.option('event_source')}-eventsource-svc:{WEBHOOK_PORT}/"
                     f"{target.option('webhook_event')}")


def gjson_key(text: str) -> str:
    """A payload field as one key of a gjson path (its special characters escaped)."""
    return "".join("\\" + ch if ch in _GJSON_SPECIAL else ch for ch in text)


def go_regexp_literal(text: str) -> str:
    """A regular expression matching exactly ``text`` (RE2 and Python alike:
    ASCII punctuation escaped, anchored)."""
    return "^" + "".join("\\" + ch if (ch.isascii() and not ch.isalnum() and ch != "_" and ch.isprintable())
                         else ch for ch in text) + "$"


def parameter_value(p: ir.Parameter) -> str | None:
    """A parameter's default as the workflow argument text (target.arguments' rule)."""
    if p.required:
        return None
    if p.default is None:
        return ""
    return p.default if isinstance(p.default, str) and p.type == "str" else json_text(p.default)


def event_arguments(flow: ir.Flow, user: str = "") -> list[tuple[str, str]]:
    """The WorkflowTemplate's extra arguments: (name, description) per event body."""
    return [(d.param, f"the event {d.sub.name} that started the run, as its webhook body "
                      "(set by the Sensor; empty when the run was not triggered)")
            for d in dependencies(flow, user)]


def sensor_document(target: Target, flow: ir.Flow, name: str, namespace: str, labels: dict, annotations: dict,
                    workflow: dict | None = None) -> writer.Commented:
    """The Sensor; ``workflow`` is the whole Workflow to create (``--kind
    workflow``), else it creates one from the WorkflowTemplate ``name``."""
    deps = dependencies(flow, target.option("user"))
    params = {p.name: p for p in flow.parameters}
    trigger = trigger_of(flow)
    triggered_by = {"flowc/triggered-by": json.dumps([d.sub.name for d in deps])}
    if workflow is None:
        arguments = [{"name": param, "value": _or_empty(parameter_value(params[param]))}
                     for d in deps for param, _ in d.sub.parameters]
        arguments += [{"name": d.param, "value": ""} for d in deps]
        meta = {"generateName": f"{name}-", "annotations": triggered_by}
        if namespace:
            meta["namespace"] = namespace
        resource = {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": meta,
                    "spec": {"workflowTemplateRef": {"name": name}, "arguments": {"parameters": arguments}}}
    else:
        resource = json.loads(json.dumps(workflow))  # plain data, without the comments
        resource["metadata"]["annotations"] = {**resource["metadata"].get("annotations", {}), **triggered_by}
        arguments = resource["spec"]["arguments"]["parameters"]
    position = {a["name"]: i for i, a in enumerate(arguments)}
    trigger_params: list[dict] = []
    for d in deps:
        for param, field in d.sub.parameters:
            src = {"dependencyName": d.name, "dataKey": "body.payload." + gjson_key(field)}
            default = parameter_value(params[param])
            if default is not None:
                src["value"] = default
            trigger_params.append({"src": src, "dest": f"spec.arguments.parameters.{position[param]}.value"})
    for d in deps:
        trigger_params.append({"src": {"dependencyName": d.name, "dataKey": "body"},
                               "dest": f"spec.arguments.parameters.{position[d.param]}.value"})
    spec: dict = {
        "eventBusName": target.option("event_bus"),
        "dependencies": [writer.Commented(_dependency(target, d, params), _dependency_comment(flow, d))
                         for d in deps],
        "triggers": [{"template": {"name": name, "k8s": {
            "operation": "create", "source": {"resource": resource}, "parameters": trigger_params}}}],
    }
    if target.option("sensor_service_account"):
        spec["template"] = {"serviceAccountName": target.option("sensor_service_account")}
    meta = {"name": name, "labels": labels, "annotations": annotations}
    if namespace:
        meta["namespace"] = namespace
    doc = {"apiVersion": API_VERSION, "kind": "Sensor", "metadata": meta, "spec": spec}
    which = "@trigger_on_finish" if flow.decorators.trigger_on_finish is not None else "@trigger"
    what = f"the WorkflowTemplate {name}" if workflow is None else "the Workflow above"
    comment = (f"{which} ({source_ref(flow, trigger.span)}): the Sensor submits {what} when every one of "
               f"these events has arrived: {', '.join(d.sub.name for d in deps)}")
    return writer.Commented(doc, comment)


def _or_empty(value: str | None) -> str:
    return "" if value is None else value


def _dependency(target: Target, d: Dependency, params: dict) -> dict:
    data = [{"path": "body.name", "type": "string", "value": [go_regexp_literal(d.sub.name)]}]
    for param, field in d.sub.parameters:
        if params[param].required:  # no default to fall back on: the field must be there
            data.append({"path": "body.payload." + gjson_key(field), "type": "string", "value": [".*"]})
    return {"name": d.name, "eventSourceName": target.option("event_source"),
            "eventName": target.option("webhook_event"), "filters": {"data": data}}


def _dependency_comment(flow: ir.Flow, d: Dependency) -> str:
    where = f"flow.py:{d.sub.line}" if d.sub.span is None else source_ref(flow, d.sub.span)
    if d.sub.kind == RUN:
        what = f"the end of a successful run of {d.sub.flow} (its end event {d.sub.name})"
    else:
        what = f"the event {d.sub.name}"
    mapped = ", ".join(f"{param} <- payload.{field}" for param, field in d.sub.parameters)
    return f"{where}: {what}" + (f"; parameters: {mapped}" if mapped else "")
