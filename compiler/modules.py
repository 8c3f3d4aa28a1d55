"""The modules a flow imports from beside it, which its code package must carry.

Followed transitively through those modules' own imports. Read with libcst,
never imported. Paths are relative to the flow's folder, POSIX, sorted.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from .literals import dotted_name


def imported_names(module: cst.Module) -> set[str]:
    """Top-level names of every absolute import anywhere in a module."""
    names: set[str] = set()

    class Imports(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                name = dotted_name(alias.name)
                if name:
                    names.add(name.split(".")[0])

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if node.relative or node.module is None:
                return
            name = dotted_name(node.module)
            if name:
                names.add(name.split(".")[0])

    module.visit(Imports())
    return names


def _resolve(folder: Path, name: str) -> list[Path]:
    single = folder / f"{name}.py"
    if single.is_file():
        return [single]
    package = folder / name
    if (package / "__init__.py").is_file():
        return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return []


def local_modules(flow_path: Path, module: cst.Module) -> tuple[str, ...]:
    folder = flow_path.resolve().parent
    found: set[Path] = set()
    pending = sorted(imported_names(module))
    seen_names: set[str] = set()
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
