"""The modules a flow imports from beside it, which its code package must carry.

Followed transitively through those modules' own imports. Read with libcst,
never imported. Paths are relative to the flow's folder, POSIX, sorted.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from .cache import resolve_module
from .literals import dotted_name
from .parse import project_root


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


def local_modules(flow_path: Path, module: cst.Module, extra: tuple[Path, ...] = (),
                  probed: set[str] | None = None) -> tuple[str, ...]:
    """The modules beside the flow it imports, transitively; every import
    name looked up beside it is added to ``probed`` (what the analysis cache
    re-checks). ``extra``: modules read for the flow's base classes; those under the
    flow's folder are carried too (with the modules they import), and those
    found at the project root under their import path (``shared/base.py``,
    with the rest of their package and what it imports from the root): the
    package puts them beside the flow, where a container imports them, and
    the local runtime adds the project root to sys.path for them."""
    folder = flow_path.resolve().parent
    root = project_root(flow_path)
    pending = sorted(imported_names(module))
    root_pending: list[str] = []
    bases_beside: set[Path] = set()
    for path in extra:
        path = path.resolve()
        if folder in path.parents:
            bases_beside.add(path)
            pending.extend(sorted(_names_of(path)))
        elif root in path.parents:
            root_pending.append(path.relative_to(root).parts[0].removesuffix(".py"))
    found = _follow(folder, pending, {flow_path.resolve()}, seen_names=probed)
    found |= {p for p in bases_beside if p not in {f.resolve() for f in found}}
    out = {p.relative_to(folder).as_posix() for p in found}
    if root_pending:  # what is not beside the flow, from the project root
        beside = {p.resolve() for p in found}
        for path in _follow(root, root_pending, {flow_path.resolve()}, skip=lambda n: bool(resolve_module(folder, n))):
            if folder not in path.resolve().parents and path.resolve() not in beside:
                out.add(path.relative_to(root).as_posix())
    return tuple(sorted(out))


def _names_of(path: Path) -> set[str]:
    try:
        return imported_names(cst.parse_module(path.read_text(encoding="utf-8-sig")))
    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
        return set()


def _follow(folder: Path, pending: list[str], exclude: set[Path], skip=lambda name: False,
            seen_names: set[str] | None = None) -> set[Path]:
    """The files of the modules named (and of those they import), found in
    ``folder``; every name looked up is added to ``seen_names``."""
    found: set[Path] = set()
    seen_names = set() if seen_names is None else seen_names
    while pending:
        name = pending.pop()
        if name in seen_names or skip(name):
            continue
        seen_names.add(name)
        for path in resolve_module(folder, name):
            if path.resolve() in exclude or path in found:
                continue
            found.add(path)
            pending.extend(sorted(_names_of(path) - seen_names))
    return found
