"""Events: what a step publishes, how it travels, and a flow's end event.

``publish(name, payload)`` is the API a step calls (``flowc.events.publish``;
Metaflow's ``ArgoEvent`` is runtime/integrations.py). Every event a task
publishes is kept in the task's datastore folder (``events.json``: orchestrator
code that forwards events after a task reads it with ``read_task_events``) and
delivered by the backend ``FLOWC_EVENTS`` names:

    unset            kept only
    file:PATH        one JSON line appended to PATH (the local event log)
    http(s)://URL    POSTed as JSON (an Argo Events webhook EventSource)
    eventbridge:BUS  PutEvents to that EventBridge bus (Step Functions rules;
                     boto3 where the image has it)

A target with another way adds a backend to ``BACKENDS`` (scheme -> function).
An event is a dict: name, type ("event" or "run": a run's end), id,
timestamp (epoch seconds), payload; the end event of a run carries the end
task's pathspec in ``id`` and ``payload["pathspec"]``, as Metaflow's does.
Standard library only: this runs in every container.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any, Callable, Iterable, Optional

from .project import branch_parts

ENV_BACKEND = "FLOWC_EVENTS"
ENV_END_EVENT = "FLOWC_END_EVENT"
TASK_FILE = "events.json"


class EventError(ValueError):
    pass


# ------------------------------------------------------------ names

def end_event_name(flow_name: str, project: Optional[str] = None, branch: Optional[str] = None) -> str:
    """The event a successful run of a flow publishes (Metaflow's name):
    ``metaflow.FLOW.end``, or ``metaflow.PROJECT.BRANCH.FLOW.end`` in a @project."""
    parts = [p for p in (project, branch, flow_name) if p]
    return "metaflow." + ".".join(parts) + ".end"


def flow_end_event(ir_data: dict, user: str = "") -> str:
    """This flow's end event from its IR: ``FLOWC_END_EVENT`` when the target set it
    (it resolved the user at compile time), else the same rule with this machine's user."""
    given = os.environ.get(ENV_END_EVENT)
    if given:
        return given
    project = (ir_data.get("decorators") or {}).get("project")
    if not project:
        return end_event_name(ir_data["name"])
    branch = ".".join(branch_parts(bool(project.get("production")), project.get("branch"), user))
    return end_event_name(ir_data["name"], project["name"], branch)


# ------------------------------------------------------------ events

def make_event(name: str, payload: Optional[dict] = None, kind: str = "event", id: Optional[str] = None) -> dict:
    if not isinstance(name, str) or not name:
        raise EventError(f"an event needs a name, not {name!r}")
    if payload is not None and not isinstance(payload, dict):
        raise EventError(f"an event's payload is a dict, not {type(payload).__name__}")
    try:
        payload = json.loads(json.dumps(payload or {}))
    except (TypeError, ValueError) as exc:
        raise EventError(f"the payload of event {name!r} is not JSON: {exc}") from None
    return {"name": name, "type": kind, "id": id or os.urandom(16).hex(), "timestamp": int(time.time()),
            "payload": payload}


def run_end_event(name: str, flow_name: str, run_id: str, end_task_id: str) -> dict:
    pathspec = f"{flow_name}/{run_id}/end/{end_task_id}"
    return make_event(name, {"flow_name": flow_name, "run_id": run_id, "pathspec": pathspec}, kind="run", id=pathspec)


def normalize(data: Any) -> list[dict]:
    """``--trigger``'s value: one event or a list of them; only ``name`` is required
    (an engine passes what it has), the rest is filled in. An item may be the
    event's JSON text (an engine that can only template text, such as Argo
    passing a webhook's body), and an empty text is no event (a dependency
    the run was not started by)."""
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                item = json.loads(item)
            except ValueError:
                raise EventError(f"a triggering event given as text is JSON, not {item[:80]!r}") from None
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise EventError(f"a triggering event is an object with a name, not {item!r}")
        payload = item.get("payload")
        if isinstance(payload, str):  # an engine that can only template text
            try:
                payload = json.loads(payload) if payload.strip() else {}
            except ValueError:
                payload = {"value": payload}
        event = {"name": item["name"], "type": item.get("type") or "event", "id": str(item.get("id") or ""),
                 "timestamp": _int(item.get("timestamp")), "payload": payload if isinstance(payload, dict) else {}}
        if event["type"] == "run" and not event["id"] and isinstance(event["payload"].get("pathspec"), str):
            event["id"] = event["payload"]["pathspec"]
        out.append(event)
    return out


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------ delivery

def _to_file(where: str, event: dict) -> None:
    import fcntl

    os.makedirs(os.path.dirname(os.path.abspath(where)), exist_ok=True)
    line = (json.dumps(event, sort_keys=True) + "\n").encode()
    with open(where, "ab") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # one line per event, whole, whatever runs beside it
        try:
            f.write(line)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _to_webhook(url: str, event: dict) -> None:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except OSError as exc:
        raise EventError(f"cannot publish event {event['name']!r} to {url}: {exc}") from None


EVENTBRIDGE = "eventbridge"
EVENTBRIDGE_SOURCE = "flowc"


def _to_eventbridge(spec: str, event: dict) -> None:
    """One EventBridge event: detail-type the event's name, detail its payload
    (what a Step Functions target's rule matches and maps). The bus is
    ``eventbridge:BUS``; region and credentials are boto3's own."""
    try:
        import boto3
    except ImportError:
        raise EventError(f"{ENV_BACKEND}={spec!r} needs boto3 in the task's image to call EventBridge") from None
    entry = {"Source": EVENTBRIDGE_SOURCE, "DetailType": event["name"], "Detail": json.dumps(event["payload"]),
             "EventBusName": spec[len(EVENTBRIDGE) + 1:] or "default"}
    try:
        answer = boto3.client("events").put_events(Entries=[entry])
    except Exception as exc:  # botocore's errors: no credentials, no endpoint, a refused call
        raise EventError(f"cannot publish event {event['name']!r} to EventBridge: {exc}") from None
    if answer.get("FailedEntryCount"):
        failed = answer["Entries"][0]
        raise EventError(f"EventBridge refused event {event['name']!r}: {failed.get('ErrorCode')} "
                         f"{failed.get('ErrorMessage')}")


BACKENDS: dict[str, Callable[[str, dict], None]] = {
    "file": lambda spec, event: _to_file(spec[len("file:"):], event),
    "http": _to_webhook,
    "https": _to_webhook,
    EVENTBRIDGE: _to_eventbridge,
}


def deliver(event: dict, backend: Optional[str] = None) -> bool:
    """Send one event through the configured backend; False when none is configured."""
    spec = os.environ.get(ENV_BACKEND, "") if backend is None else backend
    if not spec:
        return False
    scheme = spec.split(":", 1)[0]
    send = BACKENDS.get(scheme)
    if send is None:
        raise EventError(f"{ENV_BACKEND}={spec!r}: unknown event backend {scheme!r} "
                         f"(known: {', '.join(sorted(BACKENDS))})")
    send(spec, event)
    return True


_recorders: dict[str, "TaskEvents"] = {}


def task_recorder() -> Optional["TaskEvents"]:
    """The running task's record of its events (``current`` says which task), if in one."""
    from .current import current

    if not current.is_running_flow or not current.datastore:
        return None
    found = _recorders.get(current.pathspec)
    if found is None:
        from .datastore import FlowDatastore

        found = _recorders[current.pathspec] = TaskEvents(
            FlowDatastore(current.datastore, current.flow_name), current.run_id, current.step_name, current.task_id)
    return found


def publish(name: str, payload: Optional[dict] = None) -> dict:
    """Publish an event (from a step, or from any program with ``FLOWC_EVENTS`` set).
    In a task, the event is kept with the task whatever the backend; outside a
    task with no backend configured, nothing would carry it: an error."""
    event = make_event(name, payload)
    recorder = task_recorder()
    if recorder is not None:
        recorder(event)
    delivered = deliver(event)
    if not delivered and recorder is None:
        raise EventError(f"nowhere to publish event {name!r}: set {ENV_BACKEND} "
                         "(file:PATH, or the URL of a webhook)")
    return event


class TaskEvents:
    """The events one task published, written to its datastore folder as they come."""

    def __init__(self, ds: Any, run: str, step: str, task: str):
        self.ds, self.where = ds, (run, step, task)
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.events.append(event)
        self.ds.write_task_file(*self.where, TASK_FILE, json.dumps(self.events, sort_keys=True).encode())


def read_task_events(ds: Any, run: str, step: str, task: str) -> list[dict]:
    """What a task published (a FlowDatastore's task folder), for code that forwards it."""
    data = ds.storage.read(f"{ds.task_key(run, step, task)}/{TASK_FILE}")
    return json.loads(data) if data else []


def read_log(path: str) -> Iterable[dict]:
    """The events of a local event log, oldest first; a torn last line is skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue
    except FileNotFoundError:
        return
