"""Find flow modules under the paths a user names (files or folders)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".flowc"}


AUTHORING = ("flowc", "metaflow")  # the packages whose FlowSpec makes a flow


def looks_like_flow(path: Path) -> bool:
    """A module defines a flow: a class deriving from FlowSpec imported from
    flowc or metaflow, directly or through base classes defined in it or in
    a module beside it (found by reading them, never importing). A mention
    in a docstring, a comment or a string is not a flow. A file that does
    not parse but names FlowSpec counts, so its error is reported."""
    return defines_flow(path)


def defines_flow(path: Path, _seen: frozenset = frozenset()) -> bool:
    return bool(_flow_classes(Path(path), _seen))


def _flow_classes(path: Path, seen: frozenset) -> set[str]:
    """The names of the flow classes (and flow base classes) a module defines or imports."""
    try:
        source = path.read_bytes()
    except OSError:
        return set()
    if b"FlowSpec" not in source and b"import" not in source:
        return set()
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError):
        return {"?"} if b"FlowSpec" in source else set()
    seen = seen | {os.path.realpath(path)}
    flowspec: set[str] = set()  # names bound to FlowSpec: FlowSpec, or an alias
    modules: set[str] = set()  # names bound to the flowc or metaflow module
    flows: set[str] = set()  # names bound to a flow class (defined here or imported from beside)
    classes: dict[str, list[ast.expr]] = {}
    for node in _module_statements(tree.body):
        if isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if node.level == 0 and top in AUTHORING:
                for alias in node.names:
                    if alias.name == "FlowSpec":
                        flowspec.add(alias.asname or alias.name)
            else:
                beside = _beside(path, node)
                if beside is not None and os.path.realpath(beside) not in seen:
                    theirs = _flow_classes(beside, seen)
                    flows.update(alias.asname or alias.name for alias in node.names if alias.name in theirs)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in AUTHORING and (alias.asname or "." not in alias.name):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node.bases

    def is_flowspec(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Name):
            return expr.id in flowspec or expr.id in flows
        return (isinstance(expr, ast.Attribute) and expr.attr == "FlowSpec"
                and isinstance(expr.value, ast.Name) and expr.value.id in modules)

    changed = True
    while changed:  # bases may be defined after the classes that use them
        changed = False
        for name, bases in classes.items():
            if name not in flows and any(is_flowspec(b) for b in bases):
                flows.add(name)
                changed = True
    return {n for n in flows if n in classes}


def _module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, those inside if/try/with blocks included."""
    out: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            inner = list(node.body) + list(getattr(node, "orelse", [])) + list(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                inner += handler.body
            stack.extend(reversed(inner))
    return out


def _beside(path: Path, node: ast.ImportFrom) -> Path | None:
    """The file of a module imported from beside the flow (``from base import X``,
    ``from .base import X``), if there is one."""
    if not node.module:
        return None
    folder = path.parent
    for _ in range(max(0, node.level - 1)):
        folder = folder.parent
    base = folder.joinpath(*node.module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def flow_files(paths: list[str]) -> list[Path]:
    """Files named directly are always included; folders are searched for
    ``*.py`` files that define a flow (looks_like_flow). Sorted, without duplicates."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    fp = Path(root) / f
                    if f.endswith(".py") and looks_like_flow(fp):
                        out.append(fp)
        else:
            out.append(p)
    seen = set()
    unique = []
    for p in out:
        key = os.path.normpath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
