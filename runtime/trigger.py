"""``current.trigger``: the events that started this run, with Metaflow's API.

The start task keeps the events it was given (``--trigger``) in the run's
datastore folder (``trigger.json``); any task of the run reads them on first
use. ``.event``/``.events`` give name, id, timestamp, type and payload (the
payload is flowc's addition: Metaflow maps it to parameters only);
``.run``/``.runs`` the upstream runs of ``@trigger_on_finish`` events, read
from the same datastore; ``trigger["UpstreamFlow"]`` or ``trigger["event.name"]``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple, Optional

RUN_FILE = "trigger.json"


class Event(NamedTuple):
    name: str
    id: str
    timestamp: Optional[datetime]
    type: str
    payload: dict


class Trigger:
    def __init__(self, events: list[dict], datastore: Optional[str] = None):
        ordered = sorted(events, key=lambda e: e.get("timestamp") or float("-inf"), reverse=True)  # newest first
        self._events = [Event(e["name"], e.get("id") or "", _time(e.get("timestamp")), e.get("type") or "event",
                              dict(e.get("payload") or {})) for e in ordered]
        self._datastore = datastore
        self._runs: Optional[list] = None

    @property
    def event(self) -> Optional[Event]:
        return self._events[0] if self._events else None

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    @property
    def runs(self) -> list:
        if self._runs is None:
            from .client import Run

            self._runs = [Run("/".join(e.id.split("/")[:2]), self._datastore)
                          for e in self._events if e.type == "run" and e.id.count("/") >= 1]
        return list(self._runs)

    @property
    def run(self) -> Any:
        runs = self.runs
        return runs[0] if runs else None

    def __getitem__(self, key: str) -> Any:
        for run in self.runs:
            if run.flow_name == key:
                return run
        for event in self._events:
            if event.name == key:
                return event
        raise KeyError(f"no event or upstream flow {key!r} triggered this run")

    def __iter__(self):
        return iter(self._events)

    def __repr__(self) -> str:
        return f"Trigger({', '.join(e.name for e in self._events)})"


def _time(value: Any) -> Optional[datetime]:
    return datetime.fromtimestamp(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def load(datastore: str, flow_name: str, run_id: str) -> Optional[Trigger]:
    from .datastore import FlowDatastore

    data = FlowDatastore(datastore, flow_name).read_run_file(run_id, RUN_FILE)
    return Trigger(json.loads(data), datastore) if data else None
