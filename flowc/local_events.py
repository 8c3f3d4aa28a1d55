"""Events on one machine: the local event log, and which local flows an event starts.

`flowc run` appends what its tasks publish (and its end event) to
``<datastore>/events/log.jsonl`` (runtime/events.py's file backend);
``flowc trigger EVENT`` appends an event and starts each flow under the given
paths whose subscriptions (targets/events.py, the rule every target uses)
all have an event newer than the flow's last start, then follows the
chain: what those runs publish may start further flows. Which events a flow
has used is kept in ``<datastore>/events/consumed.json``.
"""

from __future__ import annotations

import json
import os

from flowc.runtime import events as rt

TYPE_CHECKING = False
if TYPE_CHECKING:  # for annotations only: every `flowc run` imports this module for backend_for
    from typing import Any, Optional

    from flowc.compiler import ir
    from flowc.targets.events import Subscription

LOG, CONSUMED = "log.jsonl", "consumed.json"


class LocalEventsError(Exception):
    pass


def folder(datastore: str) -> str:
    if "://" in datastore and not datastore.startswith("file://"):
        raise LocalEventsError(f"the local event log lives in a local datastore folder, not {datastore}")
    return os.path.join(os.path.abspath(datastore.removeprefix("file://")), "events")


def log_path(datastore: str) -> str:
    return os.path.join(folder(datastore), LOG)


def backend_for(datastore: str) -> Optional[str]:
    """``FLOWC_EVENTS`` for a local run: the user's own, else the local log (None: a remote datastore)."""
    if os.environ.get(rt.ENV_BACKEND):
        return os.environ[rt.ENV_BACKEND]
    try:
        return "file:" + log_path(datastore)
    except LocalEventsError:
        return None


def run_event(datastore: str, pathspec: str) -> dict:
    """The end event of a finished local run ``FLOW/RUN_ID`` (Metaflow's ``--trigger``)."""
    from flowc.runtime.datastore import FlowDatastore

    flow_name, _, run_id = pathspec.partition("/")
    if not run_id or "/" in run_id:
        raise LocalEventsError(f"--trigger {pathspec!r}: name a run as FLOW/RUN_ID")
    ds = FlowDatastore(datastore, flow_name)
    for task in ds.tasks(run_id, "end"):
        for event in rt.read_task_events(ds, run_id, "end", task):
            if event.get("type") == "run":
                return event
    raise LocalEventsError(f"--trigger {pathspec}: that run has not finished successfully "
                           f"(no end event in {ds.location('runs/' + run_id)})")


def parse_trigger(datastore: str, text: str) -> dict:
    """One ``--trigger`` value: a run ``FLOW/RUN_ID``, or an event as JSON."""
    if text.lstrip().startswith("{"):
        try:
            return rt.normalize(json.loads(text))[0]
        except ValueError as exc:
            raise LocalEventsError(f"--trigger {text!r}: {exc}") from None
    return run_event(datastore, text)


def mapped_parameters(flow: ir.Flow, events: list[dict]) -> dict[str, Any]:
    """Parameter values from the events' payloads, by the flow's mappings (a missing field: no value)."""
    from flowc.targets.events import subscriptions

    values: dict[str, Any] = {}
    for sub in subscriptions(flow):
        for event in events:
            if event["name"] != sub.name:
                continue
            for param, payload_field in sub.parameters:
                if payload_field in event.get("payload", {}):
                    value = event["payload"][payload_field]
                    values[param] = value if isinstance(value, str) else json.dumps(value)
    return values


def read_log(datastore: str) -> list[dict]:
    return list(rt.read_log(log_path(datastore)))


def append(datastore: str, event: dict) -> None:
    rt.deliver(event, "file:" + log_path(datastore))


def consumed(datastore: str) -> dict[str, int]:
    """Flow key -> how many log entries it has used (it waits for events after those)."""
    try:
        with open(os.path.join(folder(datastore), CONSUMED), encoding="utf-8") as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return {}


def _save_consumed(datastore: str, data: dict[str, int]) -> None:
    os.makedirs(folder(datastore), exist_ok=True)
    path = os.path.join(folder(datastore), CONSUMED)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, sort_keys=True, indent=1)
    os.replace(tmp, path)


def ready(flow: ir.Flow, key: str, log: list[dict], consumed: dict[str, int]) -> Optional[list[dict]]:
    """The events that start the flow now (the newest of each subscribed name since its
    last start), or None while one of them has not arrived."""
    from flowc.targets.events import subscriptions

    subs: tuple[Subscription, ...] = subscriptions(flow)
    if not subs:
        return None
    since = consumed.get(key, 0)
    chosen = []
    for sub in subs:
        found = [e for e in log[since:] if e.get("name") == sub.name]
        if not found:
            return None
        chosen.append(found[-1])
    return chosen


def mark_consumed(datastore: str, key: str, upto: int) -> None:
    data = consumed(datastore)
    data[key] = max(upto, data.get(key, 0))
    _save_consumed(datastore, data)

