"""Which corpus flows each target compiles with its default options, and
which it refuses (FC501): the per-target tests keep goldens and checks for
the first; tests/targets/test_matrix.py checks every refusal against the
target's capability table."""

from __future__ import annotations

import functools
from pathlib import Path

from tests.conftest import ALL_FLOWS, load_ir


@functools.lru_cache(maxsize=None)
def refusal(target: str, path: Path) -> tuple:
    """The errors of a default compile of the flow for the target (empty: it compiles)."""
    from flowc.compiler.diagnostics import CompileError
    from flowc.targets import registry

    try:
        registry.get(target)({}).compile(load_ir(path))
    except CompileError as err:
        return tuple(d for d in err.diagnostics if d.is_error)
    return ()


def compiling(target: str, flows: list[Path] | None = None) -> list[Path]:
    return [p for p in (ALL_FLOWS if flows is None else flows) if not refusal(target, p)]


def refused(target: str, flows: list[Path] | None = None) -> list[Path]:
    return [p for p in (ALL_FLOWS if flows is None else flows) if refusal(target, p)]
