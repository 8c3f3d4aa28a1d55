"""Find flow modules under the paths a user names (files or folders)."""

from __future__ import annotations

import ast
import functools
import os
import sys
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
    defined, _ = _flow_classes(Path(path), _seen)
    return bool(defined)


def _flow_classes(path: Path, seen: frozenset) -> tuple[set[str], set[str]]:
    """The flow classes (and flow base classes) a module defines, and every
    name it binds to one (those it imports included: a package's __init__
    re-exporting a base flow)."""
    try:
        source = path.read_bytes()
    except OSError:
        return set(), set()
    if b"FlowSpec" not in source and b"import" not in source:
        return set(), set()
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError):
        return ({"?"}, {"?"}) if b"FlowSpec" in source else (set(), set())
    seen = seen | {os.path.realpath(path)}
    flowspec: set[str] = set()  # names bound to FlowSpec: FlowSpec, or an alias
    modules: set[str] = set()  # names bound to the flowc or metaflow module
    flows: set[str] = set()  # names bound to a flow class (defined here or imported from beside)
    imported: dict[str, str] = {}  # `import a.b` binds a -> a; `import a.b as x` binds x -> a.b
    unreadable: set[str] = set()  # names imported from modules that are not in the project
    submodules: dict[str, Path] = {}  # `from pkg import mod` binds mod -> its file
    classes: dict[str, list[ast.expr]] = {}
    stepped: set[str] = set()  # classes with @step methods
    for node in _module_statements(tree.body):
        if isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if node.level == 0 and top in AUTHORING:
                for alias in node.names:
                    if alias.name == "FlowSpec":
                        flowspec.add(alias.asname or alias.name)
            else:
                for alias in node.names:  # `from common import base`: a submodule, for `base.BaseFlow`
                    sub = _module_file(path, f"{node.module}.{alias.name}" if node.module else alias.name, node.level)
                    if sub is not None and (node.module or node.level):
                        submodules[alias.asname or alias.name] = sub
                beside = _beside(path, node)
                if beside is not None and os.path.realpath(beside) not in seen:
                    _, theirs = _flow_classes(beside, seen)
                    flows.update(alias.asname or alias.name for alias in node.names if alias.name in theirs)
                elif beside is None and node.level == 0 and top not in sys.stdlib_module_names:
                    unreadable.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in AUTHORING and (alias.asname or "." not in alias.name):
                    modules.add(alias.asname or alias.name)
                elif alias.asname:
                    imported[alias.asname] = alias.name
                else:
                    imported[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node.bases
            if any(isinstance(f, ast.FunctionDef) and any(_is_step_decorator(d) for d in f.decorator_list)
                   for f in node.body):
                stepped.add(node.name)

    def imported_flow(expr: ast.expr) -> bool:
        """`mod.Base` / `pkg.mod.Base`, where the module was imported whole."""
        parts = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if isinstance(expr, ast.Name) and expr.id in submodules and len(parts) == 1:
            module = submodules[expr.id]
            return os.path.realpath(module) not in seen and parts[0] in _flow_classes(module, seen)[1]
        if not isinstance(expr, ast.Name) or expr.id not in imported or not parts:
            return False
        dotted = imported[expr.id].split(".") + list(reversed(parts))
        module = _module_file(path, ".".join(dotted[:-1]), 0)
        if module is None or os.path.realpath(module) in seen:
            return False
        return dotted[-1] in _flow_classes(module, seen)[1]

    def is_flowspec(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Name):
            return expr.id in flowspec or expr.id in flows
        if (isinstance(expr, ast.Attribute) and expr.attr == "FlowSpec"
                and isinstance(expr.value, ast.Name) and expr.value.id in modules):
            return True
        return imported_flow(expr)

    def is_unreadable(expr: ast.expr) -> bool:  # e.g. an installed package's flow class
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return isinstance(expr, ast.Name) and (expr.id in unreadable or (
            expr.id in imported and imported[expr.id].split(".")[0] not in sys.stdlib_module_names
            and _module_file(path, imported[expr.id], 0) is None))

    changed = True
    while changed:  # bases may be defined after the classes that use them
        changed = False
        for name, bases in classes.items():
            if name not in flows and (any(is_flowspec(b) for b in bases)
                                      or (name in stepped and any(is_unreadable(b) for b in bases))):
                flows.add(name)
                changed = True
    return {n for n in flows if n in classes}, flows


def _is_step_decorator(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Name) and node.id == "step") or (isinstance(node, ast.Attribute) and node.attr == "step")


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
    ``from .base import X``) or from the project root, if there is one."""
    if not node.module:
        return None
    return _module_file(path, node.module, node.level)


def _module_file(path: Path, module: str, level: int) -> Path | None:
    """A module's file: relative to the importing file's package, else beside
    it, else at the project root (compiler/bases.py resolves the same way)."""
    if not module:
        return None
    if level > 0:
        folder = path.parent
        for _ in range(level - 1):
            folder = folder.parent
        folders = [folder]
    else:
        folders = [path.parent, _project_root(path.resolve().parent)]
    for folder in folders:
        base = folder.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


@functools.lru_cache(maxsize=256)
def _project_root(folder: Path) -> Path:
    """The nearest folder holding pyproject.toml or .git (compiler/parse.py's rule)."""
    for f in (folder, *folder.parents):
        if (f / "pyproject.toml").is_file() or (f / ".git").exists():
            return f
    return folder


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
