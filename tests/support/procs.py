"""Processes as Linux's /proc shows them, for the tests that check what a
run leaves behind, and waiting for a condition to hold."""

from __future__ import annotations

import os
import time
from typing import Callable


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (the state
    first, then the parent, the group, the session...); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Still there, and not a zombie (which does nothing)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def session_members(sid: int) -> list[int]:
    """The live processes of a session."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and fields[0] != "Z" and fields[3] == str(sid):
                out.append(int(entry))
    return out


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, step: float = 0.2) -> bool:
    """Whether ``predicate()`` held within ``timeout`` seconds, asked every ``step``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
