"""Base classes and mixins defined in other modules of the user's project.

A flow may derive from classes imported from beside it (``from common.base
import BaseFlow``, ``from .mixins import M`` inside a package, ``import
common.base as cb`` then ``cb.BaseFlow``). Those modules are found against
the importing module's folder (relative imports), the flow's folder (what
Python puts first on sys.path for a script) and the project root (the folder
with pyproject.toml or .git), read with libcst and never imported. Each class
read from another module keeps the analyzer of its own module (its imports,
constants and positions), so its steps and Parameters are read exactly as if
they were written in the flow's module and their spans point into that file.

A base that cannot be read (an installed package, a module that is not
there, a name the module does not define) is a diagnostic naming the class
and the module, never a silently empty class.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .literals import dotted_name
from .parse import display_path, parse_text, project_root, read_source

if TYPE_CHECKING:  # the analyzer imports this module
    from .analyzer import ModuleAnalyzer

AUTHORING = ("flowc", "metaflow")
# Bases that hold no steps and no Parameters: dropped from the class graph.
_NEUTRAL = {"object", "Generic", "typing.Generic", "abc.ABC", "ABC"}


@dataclass(frozen=True)
class Unresolved:
    """A base class flowc cannot read; ``key`` is how the class graph names it."""

    key: str
    code: str
    message: str
    hint: str
    node: cst.CSTNode  # the base expression, in whichever module names it


@dataclass
class _Import:
    module: str  # dotted, "" for `from . import x`
    level: int  # leading dots of a relative import
    name: str | None  # the imported name (None: `import a.b [as x]`)


class Resolver:
    """Links a module's classes to the classes they derive from in other modules."""

    def __init__(self, analyzer: "ModuleAnalyzer", real_path: Path | None):
        self.top = analyzer
        self.real = real_path.resolve() if real_path is not None else None
        self.roots: list[Path] = []
        if self.real is not None:
            self.roots.append(self.real.parent)
            root = project_root(self.real)
            if root != self.real.parent and (self.real.parent == root or root in self.real.parents):
                self.roots.append(root)
        self.modules: dict[Path, "ModuleAnalyzer | None"] = {}  # files read (None: unreadable)
        self.files: dict["ModuleAnalyzer", Path] = {analyzer: self.real} if self.real else {}
        self.unresolved: dict[str, Unresolved] = {}
        self.broken: dict[Path, object] = {}  # modules that exist but cannot be read: their diagnostic
        self.top_parsed = analyzer.p

    # ------------------------------------------------------------ public

    def link(self) -> None:
        """Rewrite the bases of the analyzer's classes: an imported class becomes a
        key of ``analyzer.classes`` (added, with its owner), an unreadable one a
        ``?`` key recorded in ``unresolved``, a neutral one (object, ABC) goes."""
        pending = [(self.top, c) for c in list(self.top.classes.values())]
        done: set[int] = set()
        while pending:
            owner, cls = pending.pop()
            if id(cls) in done:
                continue
            done.add(id(cls))
            new_bases = []
            for expr, base in zip(cls.node.bases, cls.bases):
                key = self._base_key(owner, expr.value, base, pending)
                if key is not None:
                    new_bases.append(key)
            cls.bases = new_bases

    def report_unflowed(self, local: list[str]) -> None:
        """No flow was found: a class whose unreadable base looks like a flow
        (from the project, or named ...Flow) is reported rather than "no flow"."""
        for name in local:
            cls = self.top.classes[name]
            for key in cls.bases:
                un = self.unresolved.get(key)
                if un is not None and (un.code != "FC720" or "Flow" in key or "Flow" in name):
                    self.top.diag(un.code, un.node, f"class {name}: {un.message}", un.hint)

    @property
    def sources(self) -> dict[str, list[str]]:
        """The lines of every other module read, by display path, for rendering."""
        return {a.p.path: a.p.lines for a in self.modules.values() if a is not None and a is not self.top}

    def module_files(self) -> list[Path]:
        return sorted(p for p, a in self.modules.items() if a is not None and a is not self.top)

    def parsed_for(self, node: cst.CSTNode):
        """The parsed module a node belongs to (for its position), if it was read here."""
        if node in self.top_parsed.positions:
            return self.top_parsed
        for a in self.modules.values():
            if a is not None and node in a.p.positions:
                return a.p
        return None

    # ------------------------------------------------------------ one base

    def _base_key(self, owner: "ModuleAnalyzer", expr: cst.BaseExpression, base: str,
                  pending: list) -> str | None:
        if base == "FlowSpec":
            return base
        if owner is not self.top and base in owner.classes:  # a class of that other module
            return self._add(owner, base, pending)
        if owner is self.top and base in owner.classes:
            return base
        if base in _NEUTRAL:
            return None
        found = self._find(owner, base, expr, frozenset())
        if isinstance(found, Unresolved):
            self.unresolved.setdefault(found.key, found)
            return found.key
        if found is None:
            return None
        module, name = found
        return self._add(module, name, pending)

    def _add(self, module: "ModuleAnalyzer", name: str, pending: list) -> str:
        from .analyzer import _Class

        key = f"{module.p.path}:{name}"
        if key not in self.top.classes:
            src = module.classes[name]
            cls = _Class(src.node, list(src.bases), owner=module)
            self.top.classes[key] = cls
            pending.append((module, cls))
        return key

    def _find(self, owner: "ModuleAnalyzer", dotted: str, node: cst.CSTNode,
              seen: frozenset) -> "tuple[ModuleAnalyzer, str] | Unresolved | None":
        """The module and class a dotted name refers to in ``owner``."""
        if dotted == "?":
            return self._fail(owner, node, "?", "FC721", "a base class that is not a plain name cannot be read "
                              "without running the module", "derive from a class by its name: class F(Base, FlowSpec)")
        head, _, rest = dotted.partition(".")
        imports = _imports(owner)
        imp = imports.get(head)
        if imp is None:
            if not rest and head in owner.classes:
                return owner, head
            if hasattr(builtins, head):  # object, Exception...: no steps there
                return None
            return self._fail(owner, node, dotted, "FC721", f"base class {dotted} is neither defined nor imported in "
                              f"{owner.p.path}", f"import {head} from the module that defines it")
        if imp.name is None:  # import a.b [as x]: x.C, or a.b.C
            module_name = imp.module
            parts = rest.split(".") if rest else []
            if imp.module.split(".")[0] == head and "." in imp.module:  # import a.b binds a
                parts = dotted.split(".")[1:]
                module_name = head
            return self._lookup_path(owner, module_name, imp.level, parts, node, dotted, seen)
        # from M import N [as head]: head.rest, where N may itself be a module
        parts = [imp.name] + (rest.split(".") if rest else [])
        return self._lookup_path(owner, imp.module, imp.level, parts, node, dotted, seen)

    def _lookup_path(self, owner, module_name: str, level: int, parts: list[str], node, dotted: str,
                     seen: frozenset):
        """Resolve ``module_name`` + ``parts``: the last part is the class, the rest its module."""
        names = [n for n in module_name.split(".") if n] + parts
        top = names[0] if names else ""
        if level == 0 and top in AUTHORING:
            return self._fail(owner, node, dotted, "FC721", f"base class {dotted} is not a class flowc knows from {top}",
                              f"derive from {top}'s FlowSpec, or from a class of your project")
        if level == 0 and top in sys.stdlib_module_names:
            return None  # the standard library holds no steps or Parameters
        mod, name = ".".join(names[:-1]), names[-1]
        if level == 0 and not mod:
            return self._fail(owner, node, dotted, "FC721", f"{dotted} names a module, not a class",
                              "derive from a class defined in that module")
        module = self._module(owner, mod, level)
        if module is None:
            return self._missing(owner, node, dotted, mod, level)
        return self._class_in(module, name, owner, node, dotted, seen)

    def _class_in(self, module: "ModuleAnalyzer", name: str, owner, node, dotted: str, seen: frozenset):
        """Class ``name`` of ``module``: defined there, or imported there (a re-export)."""
        if name in module.classes:
            return module, name
        key = (id(module), name)
        if key in seen:
            return None
        if name in _imports(module):
            return self._find(module, name, node, seen | {key})
        where = module.p.path
        return self._fail(owner, node, dotted, "FC721", f"base class {dotted}: {where} defines no class {name}",
                          f"define {name} in {where}, or import it from where it is defined")

    # ------------------------------------------------------------ modules

    def _module(self, owner: "ModuleAnalyzer", dotted: str, level: int) -> "ModuleAnalyzer | None":
        for path in self._candidates(owner, dotted, level):
            if path.is_file():
                return self._read(path)
        return None

    def _candidates(self, owner: "ModuleAnalyzer", dotted: str, level: int) -> list[Path]:
        parts = [p for p in dotted.split(".") if p]
        if level > 0:
            here = self.files.get(owner)
            if here is None:
                return []
            folder = here.parent
            for _ in range(level - 1):
                folder = folder.parent
            bases = [folder]
        else:
            bases = list(self.roots)
        out = []
        for folder in bases:
            target = folder.joinpath(*parts) if parts else folder
            if parts:
                out.append(target.with_suffix(".py"))
            out.append(target / "__init__.py")
        return out

    def _read(self, path: Path) -> "ModuleAnalyzer | None":
        path = path.resolve()
        if path == self.real:
            return self.top
        if path not in self.modules:
            from .analyzer import ModuleAnalyzer

            self.modules[path] = None
            text, error = read_source(path)
            parsed, error = parse_text(text, display_path(path)) if text is not None else (None, error)
            if error is not None:
                self.broken[path] = error
            if parsed is not None:
                other = ModuleAnalyzer(parsed)
                other.read_module()
                self.modules[path] = other
                self.files[other] = path
        return self.modules[path]

    # ------------------------------------------------------------ failures

    def _missing(self, owner, node, dotted: str, module_name: str, level: int) -> Unresolved:
        shown = "." * level + module_name
        for path in self._candidates(owner, module_name, level):
            error = self.broken.get(path.resolve()) if path.is_file() else None
            if error is not None:  # there, but not valid Python (or not UTF-8)
                return self._fail(owner, node, dotted, "FC721", f"base class {dotted}: {error.span}: "
                                  f"{error.message}", error.hint or f"fix {error.span.file} first")
        top = module_name.split(".")[0]
        if level == 0 and top and _installed(top):
            return self._fail(owner, node, dotted, "FC720",
                              f"base class {dotted} comes from {module_name}, an installed package outside the "
                              "project; flowc reads only the project's modules, so its steps and parameters are "
                              "unknown", f"copy what the flow needs from {top} into a module of the project, or "
                              f"run this flow with Metaflow")
        where = " or ".join(dict.fromkeys(display_path(p) for p in self._candidates(owner, module_name, level)))
        return self._fail(owner, node, dotted, "FC005", f"base class {dotted}: module {shown} is not in the project "
                          "and not installed", f"flowc looked for {where}" if where else
                          f"put {shown} beside the flow or at the project root")

    def _fail(self, owner, node, dotted: str, code: str, message: str, hint: str) -> Unresolved:
        return Unresolved(f"?{dotted}", code, message, hint, node)


def flow_decorators(analyzer: "ModuleAnalyzer", name: str, mro: list[str]):
    """The flow's decorators and those of the FlowSpec classes it derives from,
    as Metaflow inherits them; one given twice is FC405, as Metaflow refuses it."""
    import dataclasses

    own = analyzer._flow_decorators(analyzer.classes[name].node)
    values = {f.name: getattr(own, f.name) for f in dataclasses.fields(own) if getattr(own, f.name) is not None}
    for cname in mro[1:]:
        cls = analyzer.classes.get(cname)
        if cls is None or not analyzer._is_flow(cname, set()):  # mixins' decorators are not inherited
            continue
        with reading(analyzer, cls.owner):
            theirs = analyzer._flow_decorators(cls.node)
        for f in dataclasses.fields(theirs):
            value = getattr(theirs, f.name)
            if value is None:
                continue
            if f.name in values:
                analyzer.diag("FC405", value.span, f"@{f.name} is on flow {name} and on its base class "
                              f"{cls.node.name.value}", "Metaflow refuses a flow decorator given twice; keep one")
            else:
                values[f.name] = value
    return dataclasses.replace(own, **values)


def _installed(top: str) -> bool:
    """Whether a top-level module is importable here: the finders look, nothing is imported."""
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


@contextlib.contextmanager
def reading(analyzer: "ModuleAnalyzer", owner: "ModuleAnalyzer | None") -> Iterator[None]:
    """Analyze a node of another module with that module's names, constants and positions."""
    if owner is None or owner is analyzer:
        yield
        return
    saved = analyzer.p, analyzer.aliases, analyzer.module_aliases, analyzer.constants
    analyzer.p, analyzer.aliases = owner.p, owner.aliases
    analyzer.module_aliases, analyzer.constants = owner.module_aliases, owner.constants
    try:
        yield
    finally:
        analyzer.p, analyzer.aliases, analyzer.module_aliases, analyzer.constants = saved


def _imports(analyzer: "ModuleAnalyzer") -> dict[str, _Import]:
    """Names a module binds by import at its top level (if/try blocks included)."""
    cached = getattr(analyzer, "_bases_imports", None)
    if cached is not None:
        return cached
    out: dict[str, _Import] = {}
    stack = list(reversed(analyzer.p.module.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (cst.If, cst.Try, cst.With)):
            inner = list(stmt.body.body) if hasattr(stmt.body, "body") else []
            for extra in (getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                if extra is not None and hasattr(extra, "body") and hasattr(extra.body, "body"):
                    inner += list(extra.body.body)
            for handler in getattr(stmt, "handlers", ()):
                inner += list(handler.body.body)
            stack.extend(reversed(inner))
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                module = dotted_name(small.module) if small.module is not None else ""
                level = len(small.relative)
                for alias in small.names:
                    real = dotted_name(alias.name) or ""
                    local = alias.asname.name.value if alias.asname else real
                    out[local] = _Import(module or "", level, real)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    real = dotted_name(alias.name) or ""
                    if alias.asname:
                        out[alias.asname.name.value] = _Import(real, 0, None)
                    else:
                        out.setdefault(real.split(".")[0], _Import(real, 0, None))
    analyzer._bases_imports = out
    return out
