"""Argo Events, as far as flowc's Sensors use it (test code).

No Argo Events controller runs here, so this does what its webhook
EventSource and its Sensor do with the objects flowc writes, following
argo-events v1.9.11 (the release whose schema is in tests/data/argo), and
is strict: anything outside the modelled subset is an error, not a guess.

- Webhook EventSource (pkg/eventsources/sources/webhook/start.go): a POST to
  a route's endpoint becomes an event of (EventSource, event name) whose data
  is ``{"header": {...}, "body": <the JSON body>, "metadata": ...}``; a route
  that does not exist answers 404, another method is refused.
- Sensor validation (pkg/reconciler/sensor/validate.go): triggers present with
  unique names, a k8s trigger with a source and a known operation, every
  trigger parameter with a source naming a dependency and a destination;
  every dependency with a name, an EventSource and an event name; data
  filters with a path, a type and non-empty values.
- Dependencies and filters (pkg/sensors/listener.go,
  pkg/sensors/dependencies/filter.go): an event is offered to each dependency
  on its (EventSource, event name); data filters are ANDed (the default
  operator); a ``string`` filter passes when one of its values, a Go regular
  expression, matches (unanchored) the text at its gjson ``path``; a missing
  path fails the filter. Without ``conditions`` the trigger waits for ALL
  dependencies (``&&``), each holding its latest event, and fires once they
  all have one; the events are then used up.
- Trigger parameters (pkg/sensors/triggers/params.go ResolveParamValue,
  ApplyParams): ``dataKey`` is a gjson path into the event data; an object or
  array gives its raw JSON, null ``null``, a string itself, a number or a
  boolean its text; a missing key falls back to ``value`` (an error without
  one). The result is set, as a string, at the sjson path ``dest`` of the
  resource (standard-k8s.go: create, with the sensor's labels).
- The created Workflow's ``workflowTemplateRef`` is resolved as Argo
  Workflows does for ``argo submit --from``: the template's spec, with the
  Workflow's arguments overriding the template's by name.

gjson/sjson paths are modelled for dotted keys with ``\\`` escapes and
array indices; wildcards and modifiers are refused.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.targets.argo.argo_harness import HarnessError
from tests.targets.argo.argo_network import Request

MISSING = object()


# ------------------------------------------------------------ gjson / sjson


def path_keys(path: str) -> list[str]:
    """A gjson path as its keys: split on unescaped dots, escapes removed."""
    keys, cur, i = [], [], 0
    while i < len(path):
        ch = path[i]
        if ch == "\\" and i + 1 < len(path):
            cur.append(path[i + 1])
            i += 2
            continue
        if ch == ".":
            keys.append("".join(cur))
            cur = []
        elif ch in "*?|#@":
            raise HarnessError(f"gjson path {path!r}: wildcards and modifiers are not modelled")
        else:
            cur.append(ch)
        i += 1
    keys.append("".join(cur))
    return keys


def gjson_get(data: Any, path: str) -> Any:
    node = data
    for key in path_keys(path):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return MISSING
    return node


class Number(str):
    """A JSON number kept as its text, as gjson keeps it (Result.Raw)."""


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_int=Number, parse_float=Number)


def dumps(value: Any) -> str:
    """Compact JSON (Go's encoding of a RawMessage: the same value, no spaces)."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def gjson_string(value: Any) -> str:
    """gjson's Result.String() (getValueByKey: raw JSON for objects, arrays and null)."""
    if isinstance(value, (dict, list)) or value is None:
        return dumps(value)
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Number):
        if re.fullmatch(r"-?\d+", value):
            return str(value)
        return format(Decimal(repr(float(value))).normalize(), "f")  # strconv.FormatFloat(f, 'f', -1, 64)
    return value


def sjson_set(doc: Any, path: str, value: str) -> None:
    keys = path_keys(path)
    node = doc
    for key in keys[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise HarnessError(f"sjson path {path!r}: {key!r} does not exist in the resource (not modelled)")
    last = keys[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    else:
        raise HarnessError(f"sjson path {path!r}: cannot set {last!r}")


# ------------------------------------------------------------ EventSource


@dataclass
class Event:
    source: str  # EventSource name
    name: str  # its event name (the webhook's key)
    data: dict  # {"header", "body", "metadata"?}


class WebhookEventSource:
    """A webhook EventSource: its Service (NAME-eventsource-svc, spec.service.ports) and routes."""

    def __init__(self, doc: dict):
        if doc.get("kind") != "EventSource":
            raise HarnessError(f"not an EventSource: {doc.get('kind')}")
        spec = doc["spec"]
        if set(spec) - {"service", "webhook", "eventBusName", "template"}:
            raise HarnessError(f"EventSource fields not modelled: {sorted(set(spec) - {'service', 'webhook'})}")
        self.name = doc["metadata"]["name"]
        self.service = f"{self.name}-eventsource-svc"
        self.ports = [int(p["port"]) for p in (spec.get("service") or {}).get("ports", [])]
        self.routes: dict[tuple[int, str], tuple[str, dict]] = {}
        for event_name, ctx in spec["webhook"].items():
            self.routes[(int(ctx["port"]), ctx["endpoint"])] = (event_name, ctx)
        self.events: list[Event] = []

    def __call__(self, req: Request) -> tuple[int, bytes]:
        """Serve one request reaching the Service (argo_network); record the event it makes."""
        route = self.routes.get((req.port, req.path))
        if route is None:
            return 404, b"404 page not found"
        event_name, ctx = route
        if req.method != ctx.get("method", "POST") or req.method != "POST":
            return 400, b"http method does not match"
        try:
            body = loads(req.body)
        except ValueError:
            return 400, b"failed to read request body"
        data: dict = {"header": req.headers, "body": body}
        if ctx.get("metadata"):
            data["metadata"] = ctx["metadata"]
        self.events.append(Event(self.name, event_name, data))
        return 200, b"success"

    def serve(self, network) -> None:
        for port in self.ports:
            network.add(self.service, port, self)


# ------------------------------------------------------------ Sensor


def validate_sensor(doc: dict) -> None:
    """pkg/reconciler/sensor/validate.go, for the fields flowc writes; others are refused."""
    spec = doc["spec"]
    unknown = set(spec) - {"dependencies", "triggers", "eventBusName", "template"}
    if unknown:
        raise HarnessError(f"Sensor fields not modelled: {sorted(unknown)}")
    deps = spec.get("dependencies") or []
    if not deps:
        raise HarnessError("no event dependencies found")
    names = set()
    for dep in deps:
        if not dep.get("name"):
            raise HarnessError("event dependency must define a name")
        if not dep.get("eventSourceName") or not dep.get("eventName"):
            raise HarnessError(f"dependency {dep['name']}: must define the EventSourceName and EventName")
        if dep["name"] in names:
            raise HarnessError(f"duplicate dependency {dep['name']}")
        names.add(dep["name"])
        filters = dep.get("filters") or {}
        if set(filters) - {"data"} or set(dep) - {"name", "eventSourceName", "eventName", "filters"}:
            raise HarnessError(f"dependency {dep['name']}: only data filters are modelled")
        for f in filters.get("data", []):
            if not f.get("path") or not f.get("type") or not f.get("value") or not all(f["value"]):
                raise HarnessError("one of data filters is not valid (type, path and value must be not empty)")
            if f["type"] != "string" or f.get("comparator", "=") not in ("=", "!=") or f.get("template"):
                raise HarnessError(f"data filter {f}: only string filters are modelled")
    triggers = spec.get("triggers") or []
    if not triggers:
        raise HarnessError("no triggers found")
    seen = set()
    for trigger in triggers:
        tmpl = trigger.get("template") or {}
        if not tmpl.get("name"):
            raise HarnessError("trigger must define a name")
        if tmpl["name"] in seen:
            raise HarnessError(f"duplicate trigger name: {tmpl['name']}")
        seen.add(tmpl["name"])
        if set(tmpl) != {"name", "k8s"} or set(trigger) != {"template"}:
            raise HarnessError(f"trigger {tmpl['name']}: only a k8s trigger without conditions is modelled")
        k8s = tmpl["k8s"]
        if not (k8s.get("source") or {}).get("resource"):
            raise HarnessError("k8s trigger does not contain an absolute action")
        if k8s.get("operation", "") not in ("", "create"):
            raise HarnessError(f"k8s operation {k8s.get('operation')!r} is not modelled")
        for i, param in enumerate(k8s.get("parameters") or []):
            src = param.get("src") or {}
            if not src.get("dependencyName"):
                raise HarnessError(f"resource parameter index: {i}. parameter dependency name can't be empty")
            if src["dependencyName"] not in names:
                raise HarnessError(f"resource parameter index: {i}. no dependency {src['dependencyName']!r}")
            if not param.get("dest"):
                raise HarnessError(f"resource parameter index: {i}. parameter destination can't be empty")
            if param.get("operation", "") not in ("", "overwrite") or set(src) - {"dependencyName", "dataKey", "value"}:
                raise HarnessError(f"resource parameter index: {i}: only dataKey and value sources are modelled")


def passes(dep: dict, event: Event) -> bool:
    for f in (dep.get("filters") or {}).get("data", []):
        found = gjson_get(event.data, f["path"])
        if found is MISSING:
            return False  # "path does not exist": the event is discarded
        text = gjson_string(found)
        matched = any(re.search(value, text) for value in f["value"])
        if matched != (f.get("comparator", "=") == "="):
            return False
    return True


def resolve(src: dict, events: dict[str, Event]) -> str:
    event = events[src["dependencyName"]]
    found = gjson_get(event.data, src["dataKey"])
    if found is not MISSING:
        return gjson_string(found)
    if "value" in src:
        return src["value"]
    raise HarnessError(f"unable to resolve '{src['dependencyName']}' parameter value: key {src['dataKey']} "
                       "does not exist in the event payload")


@dataclass
class Sensor:
    doc: dict
    held: dict[str, Event] = field(default_factory=dict)
    created: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        validate_sensor(self.doc)
        self.deps = self.doc["spec"]["dependencies"]
        self.trigger = self.doc["spec"]["triggers"][0]["template"]

    def offer(self, event: Event) -> dict | None:
        """One event reaching the sensor; the Workflow it creates, if it fires."""
        for dep in self.deps:
            if (dep["eventSourceName"], dep["eventName"]) == (event.source, event.name) and passes(dep, event):
                self.held[dep["name"]] = event  # the latest event of each dependency
        if all(dep["name"] in self.held for dep in self.deps):  # no conditions: all of them (&&)
            events, self.held = self.held, {}
            return self.fire(events)
        return None

    def fire(self, events: dict[str, Event]) -> dict:
        k8s = self.trigger["k8s"]
        resource = copy.deepcopy(k8s["source"]["resource"])
        for param in k8s.get("parameters") or []:
            sjson_set(resource, param["dest"], resolve(param["src"], events))
        meta = resource.setdefault("metadata", {})
        meta.setdefault("namespace", self.doc["metadata"].get("namespace", "argo"))
        meta.setdefault("labels", {}).update({"events.argoproj.io/sensor": self.doc["metadata"]["name"],
                                              "events.argoproj.io/trigger": self.trigger["name"]})
        self.created.append(resource)
        return resource


def from_template(workflow: dict, template: dict) -> dict:
    """The Workflow Argo runs for ``workflowTemplateRef``: the template's spec
    with the Workflow's arguments overriding the template's by name."""
    if workflow["kind"] != "Workflow" or template["kind"] != "WorkflowTemplate":
        raise HarnessError("a Workflow referencing a WorkflowTemplate is expected")
    ref = workflow["spec"]["workflowTemplateRef"]["name"]
    if ref != template["metadata"]["name"]:
        raise HarnessError(f"the Workflow references WorkflowTemplate {ref!r}, not {template['metadata']['name']!r}")
    if set(workflow["spec"]) - {"workflowTemplateRef", "arguments"}:
        raise HarnessError(f"Workflow spec fields not modelled: {sorted(workflow['spec'])}")
    spec = copy.deepcopy(template["spec"])
    given = {p["name"]: p for p in (workflow["spec"].get("arguments") or {}).get("parameters", [])}
    declared = [p["name"] for p in (spec.get("arguments") or {}).get("parameters", [])]
    unknown = set(given) - set(declared)
    if unknown:
        raise HarnessError(f"the Workflow gives parameters the template does not declare: {sorted(unknown)}")
    for p in (spec.get("arguments") or {}).get("parameters", []):
        if p["name"] in given:
            p["value"] = given[p["name"]]["value"]
    return {"apiVersion": workflow["apiVersion"], "kind": "Workflow", "metadata": workflow["metadata"], "spec": spec}
