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
        self.modules: dict[str, str] = {}  # `import a.b as c`: c -> a.b; `import a.b`: a -> a
        for stmt in module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.defs[stmt.name.value] = stmt
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Import):
                        for alias in small.names:
                            real = dotted_name(alias.name) or ""
                            if alias.asname is not None:
                                self.modules[alias.asname.name.value] = real
                            else:
                                self.modules[real.split(".")[0]] = real.split(".")[0]
                    elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
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
        self._found = []
        if "." not in name:
            return self._kind(self.root, name, 0)
        # module.attribute: `import team.deco as d` / `from team import deco`, then @d.timed / @deco.timed
        head, *middle, attr = name.split(".")
        mod = self.root
        if head in mod.modules:
            level, dotted = 0, ".".join([mod.modules[head], *middle])
        elif head in mod.imports:
            level, module, real = mod.imports[head]
            dotted = ".".join(p for p in (module, real, *middle) if p)
        else:
            return None
        sub = self._module(mod, level, dotted)
        return self._kind(sub, attr, 1) if sub is not None else None

    def writes(self, name: str) -> set[str]:
        """The artifacts a user step decorator sets on the flow (``flow.x = ...`` in
        its generator or its pre_step/post_step, ``self.x = ...`` in a function it
        runs instead of the step): the step writes them too."""
        if self.kind(name) != WRAPPER:
            return set()
        out: set[str] = set()
        for node in self._found:
            out |= _flow_writes(node)
        return out

    # ---- following names

    def _kind(self, mod: _Module, name: str, depth: int) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        node = mod.defs.get(name)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self._found.append(node)
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
            root = head.split(".")[0]
            return last == wanted and (root in _AUTHORING or mod.modules.get(root, "").split(".")[0] in _AUTHORING)
        if name in mod.imports:
            level, module, real = mod.imports[name]
            return level == 0 and module.split(".")[0] in _AUTHORING and real == wanted
        return False

    def _import(self, mod: _Module, name: str) -> tuple[_Module, str] | None:
        level, module, real = mod.imports[name]
        sub = self._module(mod, level, module)
        return (sub, real) if sub is not None else None

    def _module(self, mod: _Module, level: int, dotted: str) -> "_Module | None":
        """The module ``dotted`` (relative ``level``) as a file beside ``mod``, parsed."""
        if mod.path is None or dotted.split(".")[0] in _AUTHORING:
            return None
        base = mod.path.parent
        for _ in range(max(0, level - 1)):
            base = base.parent
        parts = dotted.split(".") if dotted else []
        candidates = [base.joinpath(*parts).with_suffix(".py") if parts else None,
                      base.joinpath(*parts, "__init__.py")]
        for path in candidates:
            if path is not None and path.is_file():
                return self._parse(path)
        return None

    def _parse(self, path: Path) -> "_Module | None":
        path = path.resolve()
        if path not in self._parsed:
            try:
                module = cst.parse_module(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
                self._parsed[path] = None
            else:
                self._parsed[path] = _Module(module, path)
        return self._parsed[path]


def _flow_writes(node: cst.CSTNode) -> set[str]:
    """Attribute names assigned on the flow argument of a decorator's functions."""
    names: set[str] = set()

    class Writes(cst.CSTVisitor):
        def __init__(self) -> None:
            self.flow_names: list[set[str]] = []

        def visit_FunctionDef(self, fn: cst.FunctionDef) -> None:
            params = [p.name.value for p in fn.params.params]
            if self.flow_names or isinstance(node, cst.FunctionDef) and fn is not node:
                flow = params[:1]  # a function run instead of the step: (self[, inputs])
            elif fn is node:
                flow = params[1:2]  # (step_name, flow, inputs[, attributes])
            else:
                flow = params[2:3]  # a method: (self, step_name, flow, ...)
            self.flow_names.append(set(flow))

        def leave_FunctionDef(self, fn: cst.FunctionDef) -> None:
            self.flow_names.pop()

        def _target(self, target: cst.BaseExpression) -> None:
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                    and self.flow_names and target.value.value in self.flow_names[-1]:
                names.add(target.attr.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for el in target.elements:
                    self._target(el.value)

        def visit_AssignTarget(self, t: cst.AssignTarget) -> None:
            self._target(t.target)

        def visit_AugAssign(self, a: cst.AugAssign) -> None:
            self._target(a.target)

        def visit_AnnAssign(self, a: cst.AnnAssign) -> None:
            self._target(a.target)

    node.visit(Writes())
    return names
