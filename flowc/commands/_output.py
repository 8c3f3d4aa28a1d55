"""Printing diagnostics for people, editors (JSON) and GitHub Actions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

from flowc.compiler.diagnostics import CompileError, Diagnostic, render_github, render_json, render_text

_LINES: dict[str, list[str]] = {}


def source_lines(path: str) -> list[str] | None:
    if path not in _LINES:
        try:
            _LINES[path] = Path(path).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            _LINES[path] = []
    return _LINES[path]


def remember(path: str, lines: list[str]) -> None:
    _LINES[path] = lines


def print_diagnostics(diags: Iterable[Diagnostic], fmt: str = "text", stream=None) -> None:
    stream = stream or sys.stdout
    diags = list(diags)
    if fmt == "json":
        stream.write(render_json(diags) + "\n")
    elif fmt == "github":
        for d in diags:
            stream.write(render_github(d) + "\n")
    else:
        color = hasattr(stream, "isatty") and stream.isatty()
        for d in diags:
            stream.write(render_text(d, source_lines(d.span.file), color=color) + "\n")


def print_compile_error(exc: CompileError) -> None:
    for path, lines in exc.sources.items():
        remember(path, lines)
    print_diagnostics(exc.diagnostics, "text", sys.stderr)
    errors = sum(1 for d in exc.diagnostics if d.is_error)
    print(f"flowc: {errors} error{'s' if errors != 1 else ''}; nothing was written", file=sys.stderr)
