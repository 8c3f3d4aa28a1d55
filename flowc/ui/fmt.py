"""How times, durations, sizes and addresses are written on the pages (Jinja filters)."""

from __future__ import annotations

import time
from urllib.parse import quote


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "–"


def size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def path(*segments: object) -> str:
    """An address inside the app, each segment quoted whole (names may hold anything)."""
    return "/" + "/".join(quote(str(s), safe="") for s in segments)


FILTERS = {"duration": duration, "when": when, "size": size}
GLOBALS = {"path": path}
