"""What a decorator that is not one of flowc's is, read statically.

Metaflow 2.16+ lets a project define its own decorators:
``@user_step_decorator`` generator functions and ``UserStepDecorator``
subclasses wrap a step at run time (flowc's runtime runs them the same way, in
every task), while ``StepMutator`` / ``FlowMutator`` subclasses rewrite the
flow's decorators or graph when Metaflow loads it, which cannot be known
without running the module. This module follows a decorator's name to its
definition, in the flow's module or in a module beside it (parsed with
libcst, never imported), and says which of these it is.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from .literals import dotted_name

WRAPPER, STEP_MUTATOR, FLOW_MUTATOR = "wrapper", "step_mutator", "flow_mutator"
_BASES = {"UserStepDecorator": WRAPPER, "StepMutator": STEP_MUTATOR, "FlowMutator": FLOW_MUTATOR}
_AUTHORING = ("metaflow", "flowc")
_MAX_DEPTH = 8


class _Module:
    """The top-level definitions and imports of one parsed module."""

    def __init__(self, module: cst.Module, path: Path | None):
        self.path = path
        self.defs: dict[str, cst.CSTNode] = {}
        self.imports: dict[str, tuple[int, str, str]] = {}  # local -> (relative level, module, name)
        for stmt in module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.defs[stmt.name.value] = stmt
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                        mod = dotted_name(small.module) if small.module is not None else ""
                        for alias in small.names:
                            real = dotted_name(alias.name) or ""
                            local = alias.asname.name.value if alias.asname else real
                            self.imports[local] = (len(small.relative), mod or "", real)
                    elif isinstance(small, cst.Assign) and len(small.targets) == 1 \
                            and isinstance(small.targets[0].target, cst.Name):
                        self.defs[small.targets[0].target.value] = small


class Resolver:
    """Classifies decorator names of one flow module; caches parsed siblings."""

    def __init__(self, module: cst.Module, path: Path | None):
        self.root = _Module(module, path.resolve() if path is not None else None)
        self._parsed: dict[Path, _Module | None] = {}

    def kind(self, name: str) -> str | None:
        """WRAPPER, STEP_MUTATOR, FLOW_MUTATOR or None (not a user decorator we can read)."""
        head = name.split(".")[0]
        if "." in name:  # module.attribute: `import options_lib.deco as d` is not followed
            return None
        return self._kind(self.root, head, 0)

    # ---- following names

    def _kind(self, mod: _Module, name: str, depth: int) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        node = mod.defs.get(name)
        if isinstance(node, cst.FunctionDef):
            return WRAPPER if any(self._is_authoring(mod, d.decorator, "user_step_decorator")
                                  for d in node.decorators) else None
        if isinstance(node, cst.ClassDef):
            return self._class_kind(mod, node, depth)
        if isinstance(node, cst.Assign):
            value = node.value
            if isinstance(value, cst.Call) and self._is_authoring(mod, value, "user_step_decorator"):
                return WRAPPER
            if isinstance(value, cst.Name):
                return self._kind(mod, value.value, depth + 1)
            return None
        if name in mod.imports:
            target = self._import(mod, name)
            if target is not None:
                sub, real = target
                return self._kind(sub, real, depth + 1)
        return None

    def _class_kind(self, mod: _Module, node: cst.ClassDef, depth: int) -> str | None:
        found: set[str] = set()
        for base in node.bases:
            bname = dotted_name(base.value)
            if bname is None:
                continue
            last = bname.rsplit(".", 1)[-1]
            if last in _BASES and self._is_authoring(mod, base.value, last):
                found.add(_BASES[last])
            elif "." not in bname:
                inner = self._kind(mod, bname, depth + 1)
                if inner is not None:
                    found.add(inner)
        for kind in (FLOW_MUTATOR, STEP_MUTATOR, WRAPPER):  # a mutator that also wraps is a mutator
            if kind in found:
                return kind
        return None

    def _is_authoring(self, mod: _Module, node: cst.BaseExpression, wanted: str) -> bool:
        """Does ``node`` (a name, dotted name or call of one) mean metaflow's/flowc's ``wanted``?"""
        if isinstance(node, cst.Call):
            node = node.func
        name = dotted_name(node)
        if name is None:
            return False
        if "." in name:
            head, _, last = name.rpartition(".")
            return last == wanted and head.split(".")[0] in _AUTHORING
        if name in mod.imports:
            level, module, real = mod.imports[name]
            return level == 0 and module.split(".")[0] in _AUTHORING and real == wanted
        return False

    def _import(self, mod: _Module, name: str) -> tuple[_Module, str] | None:
        level, module, real = mod.imports[name]
        if mod.path is None or module.split(".")[0] in _AUTHORING:
            return None
        base = mod.path.parent
        for _ in range(max(0, level - 1)):
            base = base.parent
        parts = module.split(".") if module else []
        candidates = [base.joinpath(*parts).with_suffix(".py") if parts else None,
                      base.joinpath(*parts, "__init__.py")]
        for path in candidates:
            if path is not None and path.is_file():
                sub = self._parse(path)
                if sub is not None:
                    return sub, real
        return None

    def _parse(self, path: Path) -> _Module | None:
        path = path.resolve()
        if path not in self._parsed:
            try:
                module = cst.parse_module(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
                self._parsed[path] = None
            else:
                self._parsed[path] = _Module(module, path)
        return self._parsed[path]
