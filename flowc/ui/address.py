"""Where a running `flowc ui` can be reached, recorded in the datastore it serves.

`flowc ui` writes ``.flowc-ui.json`` (host, port, pid, machine) into the
datastore's root and removes it when it stops; `flowc run` reads it to print
the address of the run's page. Reading it is one small read, so a run pays
nothing more when no UI is serving; a stale record (its process gone, or
another machine's) is ignored.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import quote

from flowc.runtime.identity import hostname

RECORD = ".flowc-ui.json"
CONNECT_TIMEOUT = 0.3  # the UI is on this machine: it answers at once or not at all


def base_url(host: str, port: int) -> str:
    """The address to give people: a wildcard bind is reached on loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_path(flow: str, run: str) -> str:
    return f"/runs/{quote(flow, safe='')}/{quote(run, safe='')}"


def publish(storage, host: str, port: int) -> None:
    """Record this process as the UI of the datastore (the newest UI wins)."""
    record = {"host": host, "port": port, "pid": os.getpid(), "machine": hostname(),
              "url": base_url(host, port), "started_at": time.time()}
    storage.write_atomic(RECORD, json.dumps(record, indent=1, sort_keys=True).encode("utf-8"))


def withdraw(storage) -> None:
    """Remove the record if it is still this process's (another UI may have taken over)."""
    record = _read(storage)
    if not record or record.get("pid") != os.getpid() or record.get("machine") != hostname():
        return
    try:
        if hasattr(storage, "fs"):  # an fsspec store
            storage.fs.rm_file(storage._p(RECORD))
        else:
            os.remove(storage._p(RECORD))
    except (OSError, ValueError):
        pass  # the datastore went away: nothing left to remove


def _read(storage) -> dict | None:
    try:
        raw = storage.read(RECORD)
    except Exception:  # an unreachable datastore: no UI to point at
        return None
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def serving_url(storage) -> str | None:
    """The base address of a live UI of this datastore on this machine, or None."""
    record = _read(storage)
    if record is None:
        return None
    pid, port, host = record.get("pid"), record.get("port"), record.get("host")
    if not isinstance(pid, int) or not isinstance(port, int) or not isinstance(host, str):
        return None
    if record.get("machine") != hostname():
        return None  # another machine's loopback is not ours
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        pass  # alive, another user's
    import socket  # here only: most runs find no record

    url = base_url(host, port)
    target = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
    try:
        with socket.create_connection((target, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError:
        return None
    return url


def run_page(storage, flow: str, run: str) -> str | None:
    """The address of a run's page in a live UI of this datastore, or None."""
    url = serving_url(storage)
    return url + run_path(flow, run) if url else None
