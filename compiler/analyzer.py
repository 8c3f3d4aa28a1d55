"""Stage 2: find the flows in a parsed module and describe them in the IR.

Reads imports (``flowc`` and ``metaflow`` alike), module-level literal
constants, FlowSpec subclasses (through local base classes and mixins),
their parameters, steps, transitions, decorators and artifacts. Produces IR
steps without derived graph facts (compiler/graph.py adds those) plus the
extra facts the checks need (spans of each read, of each transition target).
"""

from __future__ import annotations

import contextlib

import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from . import ir
from .artifacts import BodyScan, FLOW_API, scan_step
from .configs import ConfigInputs
from .decorators import FLOW_DECORATORS, OPTIONS, STEP_DECORATORS, UNSUPPORTED, Args, normalize
from .diagnostics import ERROR, WARNING, Diagnostic
from .literals import AMBIGUOUS, NotLiteral, dotted_name, evaluate
from .parse import ParsedModule
from .spans import Span
from .bases import Resolver, flow_decorators, reading
from .events import complete as complete_events
from .user_decorators import FLOW_MUTATOR, STEP_MUTATOR, WRAPPER
from .user_decorators import Resolver as DecoratorResolver

AUTHORING_MODULES = ("flowc", "metaflow")
KNOWN_NAMES = {"FlowSpec", "step", "Parameter", "JSONType", "current", "IncludeFile", "Config", "config_expr",
               *STEP_DECORATORS, *FLOW_DECORATORS, *UNSUPPORTED}


@dataclass
class StepExtras:
    """What the checks need beyond the IR: where things are written."""

    num_args: int
    self_name: str
    scan: BodyScan
    target_spans: dict[str, Span] = field(default_factory=dict)
    has_next: bool = False
    is_start: bool = False
    is_end: bool = False


@dataclass
class FlowFacts:
    flow: ir.Flow  # start/end may be "" when they could not be resolved
    extras: dict[str, StepExtras]
    members: frozenset[str]  # methods and class attributes (not artifacts)
    external_bases: tuple[str, ...]
    # the other modules read for base classes: their display paths' lines, and their files
    base_sources: dict[str, list[str]] = field(default_factory=dict)
    base_files: tuple[Path, ...] = ()


@dataclass
class _Class:
    node: cst.ClassDef
    bases: list[str]  # class keys (compiler/bases.py), or "FlowSpec", or "?dotted" for unreadable ones
    owner: Any = None  # the ModuleAnalyzer of the module defining it, when not this one


class ModuleAnalyzer:
    def __init__(self, parsed: ParsedModule, real_path: Path | None = None,
                 config_inputs: ConfigInputs | None = None):
        self.p = parsed
        self.config_inputs = config_inputs or ConfigInputs()
        self._user_configs: tuple[tuple[ir.Config, ...], tuple[ir.IncludeFile, ...]] = ((), ())
        self._config_scope = None  # the flow's configs, once read (compiler/configs.py ConfigScope)
        self.user_decorators = DecoratorResolver(parsed.module, real_path)  # user decorators, read statically
        self._wrappers: list[str] = []  # of the step being read
        self.real_path = real_path
        self.resolver: Resolver | None = None
        self.owner_of: dict[int, ModuleAnalyzer] = {}  # id(member node) -> its module, when not this one
        self.inconsistent_mro: set[str] = set()  # classes whose bases C3 cannot order
        self.tagged: list[tuple[str | None, Diagnostic]] = []  # (flow being analyzed, diagnostic)
        self.current_flow: str | None = None
        self.aliases: dict[str, str] = {}  # local name -> canonical flowc name
        self.module_aliases: set[str] = set()  # `import metaflow as mf`
        self.constants: dict[str, Any] = {}
        self.classes: dict[str, _Class] = {}
        self._path_helpers: dict[int, set[str]] = {}  # id(parsed module) -> its script_path-like functions
        self._steps_known: dict[int, bool] = {}  # id(function) -> decorated with @step (read in its own module)

    # ------------------------------------------------------------ helpers

    def span(self, node: cst.CSTNode) -> Span:
        if node not in self.p.positions and self.resolver is not None:  # a node of a base-class module
            other = self.resolver.parsed_for(node)
            if other is not None:
                return other.span(node)
        return self.p.span(node)

    def diag(self, code: str, node: cst.CSTNode | Span, message: str, hint: str | None = None,
             severity: str = ERROR) -> None:
        span = node if isinstance(node, Span) else self.span(node)
        self.add(Diagnostic(code, severity, message, span, hint))

    def add(self, diagnostic: Diagnostic) -> None:
        self.tagged.append((self.current_flow, diagnostic))

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for _, d in self.tagged]

    def canonical(self, node: cst.CSTNode) -> str | None:
        """The flowc name an expression refers to (``step``, ``FlowSpec``...), if any."""
        if isinstance(node, cst.Call):
            node = node.func
        name = dotted_name(node)
        if name is None:
            return None
        if name in self.aliases:
            return self.aliases[name]
        head, _, rest = name.partition(".")
        if head in self.module_aliases and rest and "." not in rest:
            return rest
        return None

    # ------------------------------------------------------------ module level

    def read_module(self) -> None:
        """The module-level pass: imports, constants and classes."""
        body = self.p.module.body
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._module_statement(small)
            elif isinstance(stmt, cst.ClassDef):
                self.classes[stmt.name.value] = _Class(stmt, [self._base_name(a.value) for a in stmt.bases])
            elif isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
                self._mark_conditional_bindings(stmt)

    def run(self) -> list[FlowFacts]:
        self.read_module()
        local = [name for name in self.classes]
        if any(b not in self.classes and b != "FlowSpec" for c in self.classes.values() for b in c.bases):
            self.resolver = Resolver(self, self.real_path)
            self.resolver.link()
        bases_in_module = {b for n in local for b in self.classes[n].bases}
        # A FlowSpec subclass that another class here derives from is a base, not
        # a flow: its steps are checked as part of the flows that use it.
        flows = [name for name in local if name not in bases_in_module and (
            self._is_flow(name, set()) or self._unreadable_with_steps(name))]
        result = []
        for name in flows:
            self.current_flow = name
            facts = self._flow(name)
            self._drop_config_cascades(name)
            self.current_flow = None
            if facts is not None:
                result.append(facts)
        if not result and self.resolver is not None:  # a flow class whose base flowc cannot read
            self.resolver.report_unflowed(local)
        if not result and not any(d.is_error for d in self.diagnostics):
            self.diag("FC002", Span.at(self.p.path, 1), "no flow found: no class here derives from FlowSpec",
                      "define `class MyFlow(FlowSpec)` with `from flowc import FlowSpec` (or from metaflow)")
        return result

    def _module_statement(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            mod = dotted_name(small.module) or ""
            if mod.split(".")[0] in AUTHORING_MODULES and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    real = dotted_name(alias.name) or ""
                    local = alias.asname.name.value if alias.asname else real
                    self.aliases[local] = real
            elif mod.split(".")[0] in AUTHORING_MODULES:
                for n in KNOWN_NAMES:
                    self.aliases.setdefault(n, n)
        elif isinstance(small, cst.Import):
            for alias in small.names:
                real = dotted_name(alias.name) or ""
                if real in AUTHORING_MODULES:
                    self.module_aliases.add(alias.asname.name.value if alias.asname else real)
        elif isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    self._bind_constant(target.target.value, small.value, len(small.targets) == 1)
                else:
                    for name in _names_in(target.target):
                        self.constants[name] = AMBIGUOUS
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
            self._bind_constant(small.target.value, small.value, True)
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            self.constants[small.target.value] = AMBIGUOUS

    def _bind_constant(self, name: str, value: cst.BaseExpression, single: bool) -> None:
        if name in self.constants or not single:
            self.constants[name] = AMBIGUOUS
            return
        try:
            self.constants[name] = evaluate(value, self.constants)
        except NotLiteral:
            self.constants[name] = AMBIGUOUS

    def _mark_conditional_bindings(self, stmt: cst.CSTNode) -> None:
        """A name bound inside if/try/for at module level has no single value."""

        class Binder(cst.CSTVisitor):
            def __init__(self, outer: ModuleAnalyzer):
                self.outer = outer

            def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
                for n in _names_in(node.target):
                    self.outer.constants[n] = AMBIGUOUS

            def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
                if node.module is not None and (dotted_name(node.module) or "").split(".")[0] in AUTHORING_MODULES:
                    if not isinstance(node.names, cst.ImportStar):
                        for alias in node.names:
                            real = dotted_name(alias.name) or ""
                            self.outer.aliases[alias.asname.name.value if alias.asname else real] = real

        stmt.visit(Binder(self))

    def _base_name(self, expr: cst.BaseExpression) -> str:
        if self.canonical(expr) == "FlowSpec":
            return "FlowSpec"
        name = dotted_name(expr)
        return name if name is not None else "?"

    def _is_flow(self, name: str, seen: set[str]) -> bool:
        if name in seen or name not in self.classes:
            return False
        seen.add(name)
        return any(b == "FlowSpec" or self._is_flow(b, seen) for b in self.classes[name].bases)

    def _unreadable_with_steps(self, name: str) -> bool:
        """A class with steps deriving from a base flowc cannot read (an installed
        package's flow class) is a flow, so that the unreadable base is reported."""
        mro = self._mro(name)
        return any(c.startswith("?") for c in mro) and any(
            isinstance(s, cst.FunctionDef) and self._is_step(s)
            for c in mro if c in self.classes for s in self.classes[c].node.body.body)

    def _mro(self, name: str) -> list[str]:
        """C3 linearization over the module's classes (external bases are leaves)."""

        def merge(seqs: list[list[str]]) -> list[str]:
            out: list[str] = []
            seqs = [s[:] for s in seqs if s]
            while seqs:
                for seq in seqs:
                    head = seq[0]
                    if not any(head in s[1:] for s in seqs):
                        break
                else:  # inconsistent hierarchy (Python raises TypeError): fall back to depth-first order
                    head = seqs[0][0]
                    self.inconsistent_mro.add(name)
                out.append(head)
                seqs = [[x for x in s if x != head] for s in seqs]
                seqs = [s for s in seqs if s]
            return out

        def lin(n: str, stack: tuple[str, ...]) -> list[str]:
            if n not in self.classes or n in stack:
                return [n]
            bases = self.classes[n].bases
            return [n] + merge([lin(b, stack + (n,)) for b in bases] + [list(bases)])

        return lin(name, ())

    # ------------------------------------------------------------ one flow

    def _flow(self, name: str) -> FlowFacts | None:
        cls = self.classes[name]
        mro = self._mro(name)
        local_mro = [c for c in mro if c in self.classes]
        external = tuple(c for c in mro if c not in self.classes and c != "FlowSpec")
        for key in external:  # a base flowc cannot read: an installed package, a missing module...
            un = self.resolver.unresolved.get(key) if self.resolver is not None else None
            if un is not None:
                self.diag(un.code, un.node, f"flow {name}: {un.message}", un.hint)
            else:
                self.diag("FC005", cls.node.name, f"flow {name} derives from {key.lstrip('?')}, which flowc cannot find",
                          "define the base class in the flow's module or in a module beside it")

        if name in self.inconsistent_mro:
            self.diag("FC721", cls.node.name, f"the base classes of flow {name} cannot be put in one method resolution "
                      "order: Python refuses the class (TypeError)", "list a class before the classes it derives from")

        # Members, walking the MRO from the most basic class: subclasses override.
        functions: dict[str, cst.FunctionDef] = {}
        attributes: dict[str, cst.BaseExpression | None] = {}
        step_names_seen: dict[str, cst.FunctionDef] = {}
        for cname in reversed(local_mro):
            owner = self.classes[cname].owner
            for stmt in self.classes[cname].node.body.body:
                if owner is not None:  # a member of a class from another module
                    self.owner_of[id(stmt)] = owner
                    for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
                        if getattr(small, "value", None) is not None:
                            self.owner_of[id(small.value)] = owner
                if isinstance(stmt, cst.FunctionDef):
                    fname = stmt.name.value
                    if cname == name and fname in step_names_seen and step_names_seen[fname] is not stmt \
                            and self._is_step(stmt) and self._defined_in(step_names_seen[fname], name):
                        self.diag("FC127", stmt.name, f"step '{fname}' is defined twice in {name}",
                                  "the second definition silently replaces the first in Python; rename one")
                    functions[fname] = stmt
                    attributes.pop(fname, None)
                    if self._is_step(stmt):
                        step_names_seen[fname] = stmt
                elif isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.Assign):
                            for t in small.targets:
                                for n in _names_in(t.target):
                                    attributes[n] = small.value if isinstance(t.target, cst.Name) else None
                                    functions.pop(n, None)
                        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                            attributes[small.target.value] = small.value
                            functions.pop(small.target.value, None)

        parameters = self._parameters(attributes)
        param_attrs = {p.attribute for p in parameters}
        steps_defs = [f for f in functions.values() if self._is_step(f)]
        # the flow's own module first, then each base module, each in source order
        steps_defs.sort(key=self._source_order)
        methods = {n: f for n, f in functions.items() if not self._is_step(f)}
        members = frozenset(set(functions) | (set(attributes) - param_attrs))

        start, end = self._start_end(name, cls.node, steps_defs)
        steps: list[ir.Step] = []
        extras: dict[str, StepExtras] = {}
        for fdef in steps_defs:
            with self.home(fdef):
                step, extra = self._step(fdef, start, end, methods, members)
            steps.append(step)
            extras[step.name] = extra

        flow = ir.Flow(
            name=name,
            source=ir.Source(self.p.path, self.p.sha256),
            span=self.span(cls.node.name),
            steps=tuple(steps),
            start=start or "",
            end=end or "",
            parameters=parameters,
            decorators=flow_decorators(self, name, mro),  # its own and its base flows'
            docstring=_docstring(cls.node),
            configs=self._user_configs[0],
            includes=self._user_configs[1],
        )
        flow = complete_events(flow, self.diag)
        facts = FlowFacts(flow, extras, members, external)
        if self.resolver is not None:
            facts.base_sources, facts.base_files = self.resolver.sources, tuple(self.resolver.module_files())
        return facts

    def _defined_in(self, fdef: cst.FunctionDef, cname: str) -> bool:
        return any(s is fdef for s in self.classes[cname].node.body.body)

    @contextlib.contextmanager
    def home(self, node: cst.CSTNode):
        """Read a member node with the names and constants of the module that
        defines it; the flow's configs stay readable there (a base class may
        read the Config it declares)."""
        owner = self.owner_of.get(id(node))
        with reading(self, owner):
            scope = self._config_scope
            if owner is not None and owner is not self and scope is not None:
                from .configs import ConfigScope

                self.constants = ConfigScope(owner.constants, scope.configs, scope.failed, scope.is_config_expr)
            yield

    def _source_order(self, node: cst.CSTNode) -> tuple[bool, str, int, int]:
        """The flow's own module first, then each other module, each in source order."""
        span = self.span(node)
        return span.file != self.p.path, span.file, span.line, span.col

    def _is_step(self, fdef: cst.FunctionDef) -> bool:
        known = self._steps_known.get(id(fdef))
        if known is None:
            with self.home(fdef):
                known = any(self.canonical(d.decorator) == "step" for d in fdef.decorators)
            self._steps_known[id(fdef)] = known
        return known

    def _step_flags(self, fdef: cst.FunctionDef) -> tuple[bool, bool]:
        start = end = False
        for d in fdef.decorators:
            if self.canonical(d.decorator) == "step" and isinstance(d.decorator, cst.Call):
                for arg in d.decorator.args:
                    if arg.keyword is None:
                        self.diag("FC403", arg, "@step takes only start= and end= keywords", 'write @step, @step(start=True) or @step(end=True)')
                        continue
                    key = arg.keyword.value
                    try:
                        value = evaluate(arg.value, self.constants)
                    except NotLiteral as exc:
                        self.diag("FC401", exc.node, f"argument '{key}' of @step is not a literal: {exc.reason}", 'write start=True or end=True')
                        continue
                    if key == "node_info":
                        self.diag("FC407", arg, f"@step(node_info=...) is accepted and ignored: {OPTIONS['step']['node_info'].note}",
                                  "remove it to silence this warning; see docs/options.md", severity=WARNING)
                    elif key not in ("start", "end"):
                        self.diag("FC402", arg, f"@step has no argument '{key}'", "known arguments: end, node_info, start")
                    elif not isinstance(value, bool):
                        self.diag("FC403", arg.value, f"@step({key}=...) must be True or False", 'write start=True or end=True')
                    elif key == "start":
                        start = value
                    else:
                        end = value
        return start, end

    def _start_end(self, flow_name: str, cls: cst.ClassDef, defs: list[cst.FunctionDef]) -> tuple[str | None, str | None]:
        names = [f.name.value for f in defs]
        flags = {}
        for f in defs:
            with self.home(f):
                flags[f.name.value] = self._step_flags(f)
        if len(defs) == 1:
            return names[0], names[0]
        resolved = []
        for which, idx, default, code in (("start", 0, "start", "FC101"), ("end", 1, "end", "FC102")):
            annotated = [n for n in names if flags[n][idx]]
            if len(annotated) > 1:
                for n in annotated[1:]:
                    f = defs[names.index(n)]
                    self.diag("FC103", f.name, f"several steps are marked @step({which}=True): {', '.join(annotated)}",
                              f"a flow has exactly one {which} step")
                resolved.append(None)
            elif annotated:
                if default in names and annotated[0] != default:
                    f = defs[names.index(default)]
                    self.diag("FC104", f.name,
                              f"step '{annotated[0]}' is marked @step({which}=True) but a step named '{default}' also exists",
                              f"rename '{default}' or drop the {which}=True annotation")
                resolved.append(annotated[0])
            elif default in names:
                resolved.append(default)
            else:
                if defs:
                    self.diag(code, cls.name, f"flow {flow_name} has no {which} step",
                              f"name a step '{default}' or mark one with @step({which}=True)")
                resolved.append(None)
        if not defs:
            self.diag("FC101", cls.name, f"flow {flow_name} has no steps",
                      "add methods decorated with @step, starting with `def start(self)`")
        return resolved[0], resolved[1]

    # ------------------------------------------------------------ parameters

    def _parameters(self, attributes: dict[str, cst.BaseExpression | None]) -> tuple[ir.Parameter, ...]:
        params: list[ir.Parameter] = []
        seen: dict[str, ir.Parameter] = {}
        self._read_user_configs(attributes)  # before the Parameters, whose arguments may read them
        for attr, value in attributes.items():
            if not isinstance(value, cst.Call):
                continue
            with self.home(value):  # an attribute of a base class: read in its module
                if self.canonical(value) != "Parameter":
                    continue
                param = self._parameter(attr, value)
                if param is None:
                    continue
                if param.name in seen:
                    self.diag("FC305", value, f"parameter '{param.name}' is defined twice",
                              "parameter names must be unique in a flow")
                    continue
            seen[param.name] = param
            params.append(param)
        params.sort(key=lambda p: (p.span.file != self.p.path, p.span.file, p.span.line, p.span.col))
        self._check_user_config_names(tuple(params))
        return tuple(params)

    def _beside_flow(self, node: cst.BaseExpression) -> str | None:
        """A default file written as the file beside the module that reads it
        (Metaflow's ``script_path("x.csv")``), relative to the flow's folder."""
        import os

        from .flow_paths import beside_module, path_helpers

        helpers = self._path_helpers.get(id(self.p))
        if helpers is None:
            helpers = self._path_helpers[id(self.p)] = path_helpers(self.p.module)
        name = beside_module(node, helpers, getattr(self.constants, "base", self.constants))
        if name is None:
            return None
        module_file = self.real_path or self.p.path
        if self.resolver is not None:  # a base class's module
            module_file = next((path for path, other in self.resolver.modules.items()
                                if other is not None and other.p is self.p), module_file)
        module_folder = os.path.dirname(os.path.abspath(module_file))
        flow_folder = os.path.abspath(self._flow_folder)
        return os.path.relpath(os.path.join(module_folder, name), flow_folder).replace(os.sep, "/")

    def _read_user_configs(self, attributes: dict[str, cst.BaseExpression | None]) -> None:
        """Config and IncludeFile declarations (compiler/configs.py); from here
        on, literal evaluation in this flow resolves reads of its configs."""
        from pathlib import Path

        from .configs import ConfigScope, Declarations
        from .parse import display_path

        base = getattr(self.constants, "base", self.constants)
        self.constants = base
        inputs = self.config_inputs
        if inputs.folder is None:
            inputs = ConfigInputs(Path(self.p.path).parent, inputs.files, inputs.values)
        self._flow_folder = inputs.folder
        decls = Declarations(inputs, base, self.span, display_path, self.canonical, self._beside_flow)
        for attr, value in attributes.items():
            if not isinstance(value, cst.Call):
                continue
            with self.home(value):  # declared in a base class: read in its module
                kind = self.canonical(value)
                if kind == "Config":
                    decls.config(attr, value)
                elif kind == "IncludeFile":
                    decls.include(attr, value)
        for d in decls.diagnostics:
            self.add(d)
        configs = sorted(decls.configs, key=lambda c: (c.span.file != self.p.path, c.span.file, c.span.line, c.span.col))
        includes = sorted(decls.includes, key=lambda i: (i.span.file != self.p.path, i.span.file, i.span.line, i.span.col))
        self._user_configs = (tuple(configs), tuple(includes))
        self._config_scope = None
        if configs or decls.failed:
            self.constants = self._config_scope = scope = ConfigScope(base, {c.attribute: c for c in configs}, decls.failed,
                                                 lambda node: self.canonical(node) == "config_expr")
            cls = self.classes.get(self.current_flow or "")
            if cls is not None and cls.node.decorators:  # the class decorators run in the module's scope
                first, last = self.span(cls.node.decorators[0]), self.span(cls.node.decorators[-1])
                scope.outside_class = lambda node: (first.line, first.col) <= (self.span(node).line, self.span(
                    node).col) <= (last.end_line, last.end_col)

    def _unpack_config(self, arg: cst.Arg, kwargs: dict[str, cst.BaseExpression]) -> bool:
        """``**cfg.section`` in a decorator call: its keys become arguments (compiler/configs.py)."""
        from .configs import ConfigProblem, unpack

        try:
            expanded = unpack(self.constants, arg, self.p.positions)
        except ConfigProblem as exc:
            if exc.code:
                self.diag(exc.code, exc.node, exc.reason, exc.hint)
            return True
        if expanded is None:
            return False
        for key, node in expanded.items():
            kwargs.setdefault(key, node)
            self._arg_nodes.setdefault(key, arg)
        return True

    def _drop_config_cascades(self, flow: str) -> None:
        """A config whose declaration has an error: what its reads then break on
        the same lines (a decorator missing its argument) says nothing more."""
        nodes = getattr(self.constants, "cascades", None)
        if not nodes:
            return
        lines = {(self.span(n).file, self.span(n).line) for n in nodes}
        self.tagged = [(f, d) for f, d in self.tagged
                       if f != flow or d.code.startswith("FC7") or (d.span.file, d.span.line) not in lines]

    def _check_user_config_names(self, parameters: tuple[ir.Parameter, ...]) -> None:
        from .cli_options import reserved_parameter_names
        from .configs import check_names

        configs, includes = self._user_configs
        for d in check_names(list(configs), list(includes), parameters, reserved_parameter_names()):
            self.add(d)

    def _parameter(self, attr: str, call: cst.Call) -> ir.Parameter | None:
        kwargs: dict[str, cst.BaseExpression] = {}
        positional = []
        for arg in call.args:
            if arg.star:
                self.diag("FC301", arg, "Parameter(*args/**kwargs) cannot be read without running the module", 'write every argument out: Parameter("name", default=...)')
                return None
            if arg.keyword is None:
                positional.append(arg.value)
            else:
                kwargs[arg.keyword.value] = arg.value
        if positional:
            kwargs.setdefault("name", positional[0])
        if len(positional) > 1:
            self.diag("FC301", positional[1], "Parameter takes its name positionally; pass the rest by keyword", 'write Parameter("name", default=..., help=...)')
        span = self.span(call)

        def lit(key: str) -> tuple[bool, Any]:
            node = kwargs.get(key)
            if node is None:
                return False, None
            try:
                return True, evaluate(node, self.constants)
            except NotLiteral as exc:
                if getattr(exc, "code", None) is not None:  # a config read that failed (compiler/configs.py)
                    if exc.code:
                        self.diag(exc.code, exc.node, exc.reason, exc.hint)
                    return False, AMBIGUOUS
                code = "FC302" if key == "default" else "FC301"
                self.diag(code, exc.node, f"argument '{key}' of Parameter '{attr}' is not a literal: {exc.reason}",
                          "flowc reads flows without running them; give a literal value")
                return False, AMBIGUOUS

        _, name = lit("name")
        if name is AMBIGUOUS:
            return None
        if not isinstance(name, str) or not name:
            self.diag("FC301", call, f"Parameter '{attr}' needs a name: Parameter(\"{attr}\", ...)", 'the name is what users pass on the command line and to orchestrators')
            return None
        if not all(c.isalnum() or c in "_-" for c in name) or not name[0].isalpha():
            self.diag("FC301", kwargs["name"], f"parameter name {name!r} must start with a letter and hold only letters, digits, - and _", 'e.g. learning-rate or learning_rate')
            return None
        has_default, default = lit("default")
        _, help_text = lit("help")
        _, required = lit("required")
        if help_text is not None and help_text is not AMBIGUOUS and not isinstance(help_text, str):
            self.diag("FC301", kwargs["help"], "help= must be a string", 'write help="what the parameter means"')
            help_text = None
        if help_text is AMBIGUOUS:
            help_text = None
        if required is AMBIGUOUS or required is None:
            required = False
        elif not isinstance(required, bool):
            self.diag("FC301", kwargs["required"], "required= must be True or False", 'write required=True or leave it out')
            required = False
        known = OPTIONS["Parameter"]
        for key in kwargs:
            if key not in known:
                self.diag("FC402", kwargs[key], f"Parameter has no argument '{key}'",
                          f"known arguments: {', '.join(sorted(known))}")
        separator, is_flag = self._parameter_flags(attr, kwargs, lit)
        if is_flag and "type" not in kwargs and not has_default:
            ptype = "bool"  # a flag with no default: None until given, as in Metaflow
        else:
            ptype = self._parameter_type(attr, kwargs.get("type"), default if has_default else None)
        if ptype is None or default is AMBIGUOUS:
            return None
        if separator is not None and ptype != "str":
            self.diag("FC301", kwargs["separator"], f"separator= needs a str parameter; '{attr}' is {ptype}",
                      "Metaflow allows a separator only on text parameters; the value is split into a list")
            return None
        if is_flag and ptype != "bool":
            self.diag("FC301", kwargs["is_flag"], f"is_flag=True needs a bool parameter; '{attr}' is {ptype}",
                      "give default=False (or type=bool)")
            return None
        default = self._coerce_default(attr, ptype, default, kwargs.get("default"))
        if default is AMBIGUOUS:
            return None
        return ir.Parameter(name=name, attribute=attr, type=ptype, span=span, default=default,
                            required=bool(required), help=help_text, separator=separator, is_flag=is_flag)

    def _parameter_flags(self, attr: str, kwargs: dict[str, cst.BaseExpression], lit) -> tuple[str | None, bool]:
        """Parameter(separator=..., is_flag=...), checked."""
        _, separator = lit("separator")
        if separator is AMBIGUOUS or separator == "":
            separator = None
        elif separator is not None and not isinstance(separator, str):
            self.diag("FC301", kwargs["separator"], "separator= must be a string", "e.g. separator=','")
            separator = None
        _, is_flag = lit("is_flag")
        if is_flag is AMBIGUOUS or is_flag is None:
            is_flag = False
        elif not isinstance(is_flag, bool):
            self.diag("FC301", kwargs["is_flag"], "is_flag= must be True or False", "write is_flag=True")
            is_flag = False
        return separator, is_flag

    def _parameter_type(self, attr: str, node: cst.BaseExpression | None, default: Any) -> str | None:
        if node is not None:
            canon = self.canonical(node)
            if canon == "JSONType":
                return "json"
            name = dotted_name(node)
            if name in ("str", "int", "float", "bool"):
                return name
            self.diag("FC303", node, f"type of Parameter '{attr}' must be str, int, float, bool or JSONType",
                      "other types cannot be passed through an orchestrator's parameters")
            return None
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, int):
            return "int"
        if isinstance(default, float):
            return "float"
        if isinstance(default, (list, dict)):
            return "json"
        return "str"

    def _coerce_default(self, attr: str, ptype: str, default: Any, node: cst.BaseExpression | None) -> Any:
        if default is None:
            return None
        bad = False
        if ptype == "json":
            if isinstance(default, str):
                import json

                def no_constant(name: str) -> Any:
                    raise ValueError(f"{name} is not JSON")

                try:
                    default = json.loads(default, parse_constant=no_constant)
                    _bounded_json(default)
                except (ValueError, RecursionError) as exc:
                    self.diag("FC304", node, f"default of JSON parameter '{attr}' is not valid JSON: {exc}", 'a JSONType default is JSON text (or a dict/list literal)')
                    return AMBIGUOUS
            elif not _is_json(default):
                bad = True
        elif ptype == "bool":
            bad = not isinstance(default, bool)
        elif ptype == "int":
            bad = not isinstance(default, int) or isinstance(default, bool)
        elif ptype == "float":
            bad = not isinstance(default, (int, float)) or isinstance(default, bool)
            if not bad:
                default = float(default)
        elif ptype == "str":
            bad = not isinstance(default, str)
        if bad:
            self.diag("FC304", node, f"default {default!r} of parameter '{attr}' is not of type {ptype}",
                      "make the default match type=, or drop type= to infer it from the default")
            return AMBIGUOUS
        return default

    # ------------------------------------------------------------ decorators

    def _decorator_call(self, deco: cst.Decorator) -> tuple[str | None, dict[str, cst.BaseExpression]]:
        canon = self.canonical(deco.decorator)
        kwargs: dict[str, cst.BaseExpression] = {}
        self._arg_nodes: dict[str, cst.CSTNode] = {}
        if isinstance(deco.decorator, cst.Call):
            for arg in deco.decorator.args:
                if arg.keyword is None and self._unpack_config(arg, kwargs):  # **cfg.section
                    continue
                if arg.keyword is None:
                    self.diag("FC403", arg, f"@{canon} takes keyword arguments only",
                              f"write @{canon}(name=value)")
                elif arg.keyword.value in kwargs:
                    self.diag("FC403", arg, f"argument '{arg.keyword.value}' given twice", 'keep one')
                else:
                    kwargs[arg.keyword.value] = arg.value
                    self._arg_nodes[arg.keyword.value] = arg
        return canon, kwargs

    def _normalize(self, canon: str, deco: cst.Decorator, kwargs: dict[str, cst.BaseExpression]) -> Any:
        args = Args(canon, self.span(deco.decorator), kwargs, self.constants, self.span,
                    arg_nodes=dict(getattr(self, "_arg_nodes", {})))
        value = normalize(args)
        for d in args.diagnostics:
            self.add(d)
        return value

    def _unknown_decorator(self, deco: cst.Decorator, where: str, below_step: bool = False) -> None:
        name = dotted_name(deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator) or "?"
        canon = self.canonical(deco.decorator)
        kind = self.user_decorators.kind(name) if canon is None and name != "?" else None
        if kind == STEP_MUTATOR:
            self.diag("FC740", deco.decorator,
                      f"@{name} is a StepMutator: it changes the step's decorators when Metaflow loads the flow, "
                      "which flowc cannot see without running it",
                      "write the decorators it adds on the step itself (a @user_step_decorator that wraps the "
                      "step at run time is fine), or run this flow with Metaflow")
        elif kind == FLOW_MUTATOR:
            self.diag("FC741", deco.decorator,
                      f"@{name} is a FlowMutator: it changes the flow's steps, parameters or decorators when "
                      "Metaflow loads the flow, which flowc cannot see without running it",
                      "write what it adds in the flow itself, or run this flow with Metaflow")
        elif kind == WRAPPER and where == "flow":
            self.diag("FC406", deco.decorator, f"@{name} is a user step decorator; it applies to steps, not to the flow",
                      f"put @{name} on each step it should wrap")
        elif kind == WRAPPER and below_step:
            self.diag("FC406", deco.decorator, f"@{name} is below @step",
                      "put @step last, right above `def`, and the other decorators above it")
        elif kind == WRAPPER:
            self._wrappers.append(name)  # runs around the step in every task, as in Metaflow
        elif canon in UNSUPPORTED:
            self.diag("FC404", deco.decorator, f"@{canon} is not supported: {UNSUPPORTED[canon]}", 'remove the decorator, or run this flow with Metaflow')
        elif canon is not None:
            self.diag("FC404", deco.decorator, f"@{canon} is not a {where} decorator flowc knows", "flowc's decorators: run `flowc targets` for what each target supports")
        else:
            self.diag("FC409", deco.decorator,
                      f"@{name} is not a flowc decorator and flowc cannot read its definition; it runs with the "
                      "step's code, but what it changes is invisible to flowc's checks and targets",
                      "define it beside the flow (as a @user_step_decorator, which flowc reads), or express it "
                      "with flowc's decorators", severity=WARNING)

    def _step_decorators(self, fdef: cst.FunctionDef) -> ir.StepDecorators:
        values: dict[str, Any] = {}
        step_seen = False
        for deco in fdef.decorators:  # outermost first
            canon = self.canonical(deco.decorator)
            if canon == "step":
                step_seen = True
                continue
            if canon in STEP_DECORATORS:
                if step_seen:
                    self.diag("FC406", deco.decorator, f"@{canon} is below @step",
                              "put @step last, right above `def`, and the other decorators above it")
                canon_kw = self._decorator_call(deco)[1]
                if canon == "card":  # several cards on a step, each its own id
                    card = self._normalize(canon, deco, canon_kw)
                    cards = values.setdefault("card", [])
                    if card is not None and any((c.type or "default", c.id) == (card.type or "default", card.id)
                                                for c in cards):
                        self.diag("FC405", deco.decorator, f"step '{fdef.name.value}' has two @card of type "
                                  f"{card.type or 'default'!r} with id {card.id!r}", "give each card its own id=")
                    elif card is not None:
                        cards.append(card)
                    continue
                if canon in values:
                    self.diag("FC405", deco.decorator, f"@{canon} is used twice on step '{fdef.name.value}'", 'keep one; merge their arguments')
                    continue
                values[canon] = self._normalize(canon, deco, canon_kw)
            elif canon in FLOW_DECORATORS:
                self.diag("FC406", deco.decorator, f"@{canon} applies to the flow class, not to a step",
                          f"move @{canon} above `class ...(FlowSpec)`")
            else:
                self._unknown_decorator(deco, "step", below_step=step_seen)
        if "pypi" in values and "conda" in values:
            self.diag("FC408", values["conda"].span, f"step '{fdef.name.value}' has both @pypi and @conda",
                      "use one package manager per step")
        if "kubernetes" in values and "batch" in values:
            self.diag("FC408", values["batch"].span, f"step '{fdef.name.value}' has both @kubernetes and @batch",
                      "a step runs in one place; keep one of them")
        if "card" in values:
            values["card"] = tuple(values["card"]) or None
        return ir.StepDecorators(**values)

    def _flow_decorators(self, cls: cst.ClassDef) -> ir.FlowDecorators:
        values: dict[str, Any] = {}
        for deco in cls.decorators:
            canon = self.canonical(deco.decorator)
            if canon in FLOW_DECORATORS:
                if canon in values:
                    self.diag("FC405", deco.decorator, f"@{canon} is used twice on the flow", 'keep one; merge their arguments')
                    continue
                value = self._normalize(canon, deco, self._decorator_call(deco)[1])
                if value is not None:
                    values[canon] = value
            elif canon in STEP_DECORATORS:
                self.diag("FC406", deco.decorator, f"@{canon} applies to steps, not to the flow class",
                          f"put @{canon} on each step that needs it"
                          + (f", or use @{canon}_base on the flow" if canon in ("pypi", "conda") else ""))
            else:
                self._unknown_decorator(deco, "flow")
        if "pypi_base" in values and "conda_base" in values:
            self.diag("FC408", values["conda_base"].span, "the flow has both @pypi_base and @conda_base",
                      "use one package manager per flow")
        return ir.FlowDecorators(**values)

    # ------------------------------------------------------------ steps

    def _step(self, fdef: cst.FunctionDef, start: str | None, end: str | None,
              methods: dict[str, cst.FunctionDef], members: frozenset[str]) -> tuple[ir.Step, StepExtras]:
        name = fdef.name.value
        params = list(fdef.params.params)
        extra_params = fdef.params.star_arg, fdef.params.kwonly_params, fdef.params.star_kwarg
        if any(isinstance(p, cst.Param) for p in extra_params if p is not None) or fdef.params.kwonly_params \
                or fdef.params.posonly_params:
            self.diag("FC122", fdef.name, f"step '{name}' takes *args, **kwargs or keyword-only arguments",
                      "a step takes `self`, and a join also `inputs`")
        num_args = len(params)
        self_name = params[0].name.value if params else "self"
        join_arg = params[1].name.value if num_args == 2 else None
        if num_args == 0:
            self.diag("FC122", fdef.name, f"step '{name}' is missing the 'self' argument", "write `def %s(self):`" % name)
        elif num_args > 2:
            self.diag("FC122", params[2], f"step '{name}' takes too many arguments",
                      "a step takes `self`; a join takes `self` and one argument for its inputs")
        if isinstance(fdef.asynchronous, cst.Asynchronous):
            self.diag("FC006", fdef.name, f"step '{name}' is async; steps must be plain functions", 'write `def step(self):` and call async code with asyncio.run() inside it')

        self._wrappers = []
        decorators = self._step_decorators(fdef)
        wrappers = tuple(self._wrappers)
        scan = scan_step(fdef, self_name, join_arg, methods, members, self.span)
        for code, node, message, hint, severity in scan.problems:
            self.diag(code, node, message, hint, severity)

        is_end = name == end
        extra = StepExtras(num_args=num_args, self_name=self_name, scan=scan, is_start=name == start, is_end=is_end)
        kind, nxt, foreach, condition, cases, next_span = self._transition(fdef, self_name, extra, scan)
        if is_end:
            if nxt:
                self.diag("FC109", next_span or fdef.name, f"the end step '{name}' has a self.next()",
                          "the end step finishes the flow; remove self.next()")
            if join_arg is not None and start != end:
                self.diag("FC122", fdef.name, f"the end step '{name}' takes inputs (it is a join)",
                          "add a join step before the end step")
            kind, nxt, foreach, condition, cases = ir.END, (), None, None, {}
        elif join_arg is not None:
            if name == start:  # nothing precedes the start step, so nothing can split before it
                self.diag("FC114", fdef.name, f"step '{name}' is a join (it takes '{join_arg}') but no split precedes it",
                          "the start step takes only self; remove the inputs argument")
            if kind != ir.LINEAR and nxt:
                self.diag("FC121", next_span or fdef.name, f"step '{name}' is a join and also splits",
                          "add a step after the join that does the split")
            kind = ir.JOIN
            if not extra.has_next:  # a join that is not the end step must go on
                self.diag("FC107", fdef.name, f"step '{name}' has no self.next() as its last statement",
                          "end the step with self.next(self.<next_step>)")
        elif not extra.has_next:
            self.diag("FC107", fdef.name, f"step '{name}' has no self.next() as its last statement",
                      "end the step with self.next(self.<next_step>)")

        if kind == ir.FOREACH and decorators.catch is not None:  # Metaflow refuses it too
            self.diag("FC406", decorators.catch.span, f"@catch on step '{name}', which starts a foreach",
                      "move the work that may fail into a step inside the foreach, and put @catch there")

        step = ir.Step(
            name=name, kind=kind, span=self.span(fdef.name), next=nxt, next_span=next_span,
            foreach=foreach, condition=condition, cases=cases, join_arg=join_arg,
            decorators=decorators, reads=tuple(sorted(scan.reads)),
            writes=tuple(sorted(set(scan.writes).union(*(self.user_decorators.writes(w) for w in wrappers)))),
            merge=scan.merge, docstring=_docstring(fdef), wrappers=wrappers,
        )
        return step, extra

    def _transition(self, fdef: cst.FunctionDef, self_name: str, extra: StepExtras, scan: BodyScan):
        body = [s for s in fdef.body.body] if isinstance(fdef.body, cst.IndentedBlock) else []
        last_call = _tail_next_call(body, self_name)
        for call in scan.next_calls:
            if call is not last_call:
                self.diag("FC108", call, f"self.next() in step '{fdef.name.value}' is not the step's last statement",
                          "call self.next() exactly once, unconditionally, as the last statement of the step")
        if last_call is None:
            return ir.LINEAR, (), None, None, {}, None
        extra.has_next = True
        next_span = self.span(last_call)
        positional = [a for a in last_call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a for a in last_call.args if a.keyword is not None}
        for a in last_call.args:
            if a.star:
                self.diag("FC111", a, "self.next() cannot take *args or **kwargs", 'list the steps: self.next(self.a, self.b)')
        for key in keywords:
            if key == "num_parallel":
                self.diag("FC404", keywords[key], "self.next(num_parallel=...) needs @parallel, which flowc does not support", "use a foreach: self.next(self.body, foreach='items')")
            elif key not in ("foreach", "condition"):
                self.diag("FC111", keywords[key], f"self.next() has no argument '{key}'",
                          "self.next(self.a), self.next(self.a, self.b), self.next(self.a, foreach='items'), "
                          "or self.next({'x': self.a, 'y': self.b}, condition='attr')")

        def attr_name(key: str) -> str | None:
            arg = keywords[key]
            try:
                value = evaluate(arg.value, {})
            except NotLiteral:
                value = None
            if not isinstance(value, str) or not value.isidentifier():
                self.diag("FC125", arg.value, f"{key}= must name an artifact as a string, e.g. {key}='items'", 'the name of an artifact this step sets, as a string literal')
                return None
            return value

        def target(node: cst.BaseExpression) -> str | None:
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
                extra.target_spans.setdefault(node.attr.value, self.span(node))
                return node.attr.value
            self.diag("FC111", node, "self.next() takes steps as self.<step_name>",
                      "write self.next(self.train), not a string or another expression")
            return None

        if "condition" in keywords:
            condition = attr_name("condition")
            if len(positional) != 1 or not isinstance(positional[0].value, cst.Dict) or "foreach" in keywords:
                self.diag("FC119", last_call, "a switch is self.next({'case': self.step, ...}, condition='attr')", 'the cases are a dict literal mapping each value to a step')
                return ir.SWITCH, (), None, condition, {}, next_span
            cases: dict[str, str] = {}
            for el in positional[0].value.elements:
                if isinstance(el, cst.StarredDictElement):
                    self.diag("FC119", el, "switch cases cannot be unpacked from another dict", 'write the cases out in the self.next() call')
                    continue
                try:
                    key = evaluate(el.key, self.constants)
                except NotLiteral as exc:
                    self.diag("FC119", el.key, f"switch case keys must be literals: {exc.reason}", 'write the case values as literals')
                    continue
                if not isinstance(key, (str, int, bool)):
                    self.diag("FC119", el.key, "switch case keys must be strings, integers or booleans", "e.g. {'small': self.a, 'large': self.b}")
                    continue
                step = target(el.value)
                skey = _case_key(key)
                if skey in cases:
                    self.diag("FC119", el.key, f"switch case {skey!r} is given twice", 'each case value leads to one step')
                elif step is not None:
                    cases[skey] = step
            if len(cases) < 2 and not any(d.code == "FC119" and d.span.line == next_span.line for d in self.diagnostics):
                self.diag("FC119", last_call, "a switch needs at least two cases", 'a switch chooses between two or more steps; for one, use self.next(self.step)')
            nxt = tuple(dict.fromkeys(cases.values()))
            return ir.SWITCH, nxt, None, condition, cases, next_span

        names = [t for t in (target(a.value) for a in positional) if t is not None]
        if not positional:
            self.diag("FC111", last_call, "self.next() needs at least one step", 'write self.next(self.<next_step>)')
        dupes = sorted({n for n in names if names.count(n) > 1})
        for d in dupes:
            self.diag("FC112", last_call, f"self.next() names step '{d}' twice",
                      "each branch of a split must be a different step")
        nxt = tuple(dict.fromkeys(names))
        if "foreach" in keywords:
            foreach = attr_name("foreach")
            if len(positional) != 1:
                self.diag("FC111", last_call, "a foreach goes to exactly one step: self.next(self.body, foreach='items')", 'to run several steps in parallel per item, chain them inside the foreach body')
            return ir.FOREACH, nxt, foreach, None, {}, next_span
        kind = ir.BRANCH if len(nxt) > 1 else ir.LINEAR
        return kind, nxt, None, None, {}, next_span


# ------------------------------------------------------------ small helpers


def _tail_next_call(body: list[cst.BaseStatement], self_name: str) -> cst.Call | None:
    if not body:
        return None
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine) and last.body:
        small = last.body[-1]
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            func = small.value.func
            if isinstance(func, cst.Attribute) and func.attr.value == "next" \
                    and isinstance(func.value, cst.Name) and func.value.value == self_name:
                return small.value
    return None


def _case_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _names_in(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names_in(el.value)]
    if isinstance(target, cst.StarredElement):
        return _names_in(target.value)
    return []


def _docstring(node: cst.ClassDef | cst.FunctionDef) -> str | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = node.get_docstring(clean=True)
    except (SyntaxError, ValueError):  # a docstring with an invalid escape
        return None
    return doc if doc and doc.strip() else None  # a docstring of only whitespace says nothing


def _bounded_json(value: Any) -> None:
    """Numbers in a JSON default must fit every target (finite, 64-bit); ValueError otherwise."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, float) and not math.isfinite(v) or (
                isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 63):
            raise ValueError(f"number {str(v)[:20]} is out of range")


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def analyze_module(parsed: ParsedModule, real_path: Path | None = None,
                   config_inputs: ConfigInputs | None = None,
                   ) -> tuple[list[FlowFacts], dict[str | None, list[Diagnostic]]]:
    """The flows of a module, and the diagnostics found for each (None: the module's own).
    ``real_path``, the file on disk, lets it read base classes and user
    decorators from the modules the flow imports; ``config_inputs`` holds
    where config files are read from and the --config overrides."""
    analyzer = ModuleAnalyzer(parsed, real_path, config_inputs)
    flows = analyzer.run()
    by_flow: dict[str | None, list[Diagnostic]] = {}
    for flow, diag in analyzer.tagged:
        by_flow.setdefault(flow, []).append(diag)
    return flows, by_flow


__all__ = ["FlowFacts", "StepExtras", "analyze_module", "FLOW_API"]
