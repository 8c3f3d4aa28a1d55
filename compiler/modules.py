"""The modules a flow imports from beside it, which its code package must carry.

Followed transitively through those modules' own imports. Read with libcst,
never imported. Paths are relative to the flow's folder, POSIX, sorted.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from .cache import resolve_module as _resolve
from .literals import dotted_name


def _statements(body) -> "list[cst.CSTNode]":
    """Every statement, nested ones included (imports can sit in functions,
    classes, if/try blocks), walking statement blocks only, not expressions."""
    out = []
    stack = list(body)
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        for attr in ("body", "orelse", "finalbody", "handlers"):
            child = getattr(stmt, attr, None)
            if child is None:
                continue
            if isinstance(child, (list, tuple)):
                stack.extend(child)
            elif isinstance(child, cst.SimpleStatementSuite):
                out.append(child)
            elif hasattr(child, "body") and isinstance(child.body, (list, tuple)):
                stack.extend(child.body)
            else:
                stack.append(child)
    return out


def imported_names(module: cst.Module) -> set[str]:
    """Top-level names of every absolute import anywhere in a module."""
    names: set[str] = set()
    for stmt in _statements(module.body):
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = dotted_name(alias.name)
                    if name:
                        names.add(name.split(".")[0])
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                name = dotted_name(small.module)
                if name:
                    names.add(name.split(".")[0])
    return names


def local_modules(flow_path: Path, module: cst.Module, probed: set[str] | None = None) -> tuple[str, ...]:
    """The modules beside the flow it imports, transitively; every import
    name looked up is added to ``probed`` (what the analysis cache re-checks)."""
    folder = flow_path.resolve().parent
    found: set[Path] = set()
    pending = sorted(imported_names(module))
    seen_names: set[str] = set() if probed is None else probed
    while pending:
        name = pending.pop()
        if name in seen_names:
            continue
        seen_names.add(name)
        for path in _resolve(folder, name):
            if path.resolve() == flow_path.resolve() or path in found:
                continue
            found.add(path)
            try:
                sub = cst.parse_module(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
                continue
            pending.extend(sorted(imported_names(sub) - seen_names))
    return tuple(sorted(p.relative_to(folder).as_posix() for p in found))
