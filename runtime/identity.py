"""Task identity: run ids, index paths and task ids (docs/runtime-contract.md)."""

from __future__ import annotations

import os
import re

_SAFE = re.compile(r"[A-Za-z0-9_.\-]")


def hostname() -> str:
    """This machine's name, as a run's claim records it (socket.gethostname()
    is the same name on POSIX, for a module that costs every run to import)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def safe_run_id(run_id: str) -> str:
    """A path-safe spelling of any orchestrator's run id, reversible and
    collision-free: characters outside [A-Za-z0-9_.-] become %XX."""
    if not run_id:
        raise ValueError("the run id is empty")
    out = []
    for i, ch in enumerate(run_id):
        if _SAFE.match(ch) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
    return "".join(out)


def parse_index(text: str, depth: int) -> tuple[int, ...]:
    """``"2.1"`` -> (2, 1). A task outside any foreach has index ``"0"`` -> ()."""
    try:
        parts = tuple(int(p) for p in str(text).split("."))
    except ValueError:
        raise ValueError(f"--index {text!r} must be dot-separated whole numbers, e.g. 0 or 2.1") from None
    if any(p < 0 for p in parts):
        raise ValueError(f"--index {text!r} has a negative component")
    if depth == 0:
        if parts != (0,):
            raise ValueError(f"--index {text!r}: a step outside any foreach has index 0")
        return ()
    if len(parts) != depth:
        raise ValueError(f"--index {text!r}: this step is {depth} foreach level(s) deep, so it needs {depth} component(s)")
    return parts


def index_text(index: tuple[int, ...]) -> str:
    return ".".join(str(i) for i in index) if index else "0"


def task_id(index: tuple[int, ...], iteration: int = 0) -> str:
    base = index_text(index)
    return f"{base}@{iteration}" if iteration else base


def split_task_id(tid: str) -> tuple[tuple[int, ...], int]:
    base, _, it = tid.partition("@")
    index = () if base == "0" else tuple(int(p) for p in base.split("."))
    return index, int(it or 0)
