"""The cyclic garbage collector paused while flowc builds a great many
acyclic objects (a libcst tree and the analysis over it, a target's output).

Nothing there makes cycles worth reclaiming, yet each collection walks every
live object, more often the more there are: a third of analyzing a large
flow. A collector the caller had paused stays paused."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
