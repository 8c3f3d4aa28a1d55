"""Which ``self.X`` a step writes and reads, found by walking its body.

Writes: assignment targets (plain, augmented, annotated, for/with targets,
``setattr(self, "x", ...)``). Reads: every other ``self.X`` that is not a
method, class attribute or part of the FlowSpec API. Calls to the flow's own
helper methods (``self.prepare()``) are followed, so artifacts they set are
the calling step's. When ``self`` escapes (passed to a function) or is
accessed with a computed name, the scan says so: the checks then stop
claiming that a read has no writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from . import ir
from .diagnostics import WARNING
from .literals import NotLiteral, evaluate
from .spans import Span
from .walk import walk

# Attributes of a FlowSpec that are not artifacts.
FLOW_API = frozenset({
    "next", "merge_artifacts", "input", "index", "foreach_stack", "name", "script_name", "cmd",
})
# Names a step may not assign: Metaflow fails on them (read-only properties; self.next is then not callable).
RESERVED_ARTIFACTS = frozenset({"next", "input", "index", "script_name"})
# Names Metaflow lets a step assign but does not keep: later steps see the FlowSpec's own again.
NOT_KEPT = FLOW_API - RESERVED_ARTIFACTS
# Exceptions whose handler makes the reads in a try body guarded (a missing artifact is an AttributeError).
_GUARDING = frozenset({"AttributeError", "Exception", "BaseException"})


@dataclass
class BodyScan:
    reads: dict[str, Span] = field(default_factory=dict)  # first read of each artifact
    writes: dict[str, Span] = field(default_factory=dict)  # first write of each artifact
    next_calls: list[cst.Call] = field(default_factory=list)
    merge: ir.Merge | None = None
    inputs_attrs: list[tuple[str, Span]] = field(default_factory=list)  # `inputs.<name>` uses
    dynamic: Span | None = None  # where self escapes or is accessed by a computed name
    problems: list[tuple] = field(default_factory=list)  # (code, node, message, hint, severity)
    # artifacts whose every read (or write) is guarded: in a try that catches AttributeError, or
    # tested with hasattr(self, "x") in the step; a missing one is then handled, not a failure
    guarded_reads: set[str] = field(default_factory=set)
    guarded_writes: set[str] = field(default_factory=set)
    plain_reads: set[str] = field(default_factory=set)
    plain_writes: set[str] = field(default_factory=set)
    hasattr_names: set[str] = field(default_factory=set)
    guarded_nodes: set[int] = field(default_factory=set)  # ids of nodes inside such a try body

    def read_guarded(self, name: str) -> bool:
        return name in self.hasattr_names or (name in self.guarded_reads and name not in self.plain_reads)

    def write_guarded(self, name: str) -> bool:
        return name in self.guarded_writes and name not in self.plain_writes


class _Scanner:
    """Walks a step body (compiler/walk.py) and records what it reads and writes."""

    def __init__(self, self_name: str, inputs_name: str | None, methods: dict[str, cst.FunctionDef],
                 members: frozenset[str], span_of: Callable[[cst.CSTNode], Span], scan: BodyScan,
                 visiting: frozenset[str], top: bool):
        self.self_name = self_name
        self.inputs_name = inputs_name
        self.methods = methods
        self.members = members
        self.span_of = span_of
        self.scan = scan
        self.visiting = visiting
        self.top = top
        self.store: set[int] = set()  # ids of Attribute nodes being written
        self.consumed: set[int] = set()  # ids of Name(self) nodes used as attribute bases
        self.handlers = {
            cst.Assign: self.visit_Assign, cst.AnnAssign: self.visit_AnnAssign, cst.AugAssign: self.visit_AugAssign,
            cst.For: self.visit_For, cst.CompFor: self.visit_CompFor, cst.WithItem: self.visit_WithItem,
            cst.Del: self.visit_Del, cst.Attribute: self.visit_Attribute, cst.Name: self.visit_Name,
            cst.Call: self.visit_Call, cst.Try: self.visit_Try,
        }

    def dispatch(self, node: cst.CSTNode) -> None:
        handler = self.handlers.get(type(node))
        if handler is not None:
            handler(node)

    # ---- helpers

    def _self_attr(self, node: cst.CSTNode) -> str | None:
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self.self_name:
            return node.attr.value
        return None

    def _mark_store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._mark_store(el.value)
        elif isinstance(target, cst.StarredElement):
            self._mark_store(target.value)
        else:
            name = self._self_attr(target)
            if name is not None:
                self.store.add(id(target))
                self._write(name, target)

    def _write(self, name: str, node: cst.CSTNode) -> None:
        guarded = id(node) in self.scan.guarded_nodes
        if name in RESERVED_ARTIFACTS:
            self.scan.problems.append((
                "FC207", node, f"self.{name} is part of the FlowSpec API and cannot be assigned",
                "choose another artifact name", WARNING if guarded else "error"))
            return
        if name in NOT_KEPT:
            self.scan.problems.append((
                "FC207", node, f"self.{name} is part of the FlowSpec API: assigning it works in this step only, "
                "later steps see the FlowSpec's own", "choose another artifact name to keep the value", WARNING))
            return
        (self.scan.guarded_writes if guarded else self.scan.plain_writes).add(name)
        self.scan.writes.setdefault(name, self.span_of(node))

    def _read(self, name: str, node: cst.CSTNode) -> None:
        if name in FLOW_API or name in self.members or (name.startswith("__") and name.endswith("__")):
            return
        (self.scan.guarded_reads if id(node) in self.scan.guarded_nodes else self.scan.plain_reads).add(name)
        self.scan.reads.setdefault(name, self.span_of(node))

    def visit_Try(self, node: cst.Try) -> None:
        """Reads and writes in the body of a try that catches AttributeError are guarded."""
        if not any(_catches_attribute_error(h) for h in node.handlers):
            return
        ids = self.scan.guarded_nodes

        def mark(n: cst.CSTNode) -> None:
            if isinstance(n, (cst.Attribute, cst.Call)):
                ids.add(id(n))

        walk(node.body, mark)

    def _dynamic(self, node: cst.CSTNode) -> None:
        if self.scan.dynamic is None:
            self.scan.dynamic = self.span_of(node)

    # ---- stores

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._mark_store(t.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._mark_store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        name = self._self_attr(node.target)
        if name is not None:
            self._write(name, node.target)  # also a read: the Attribute visit records it

    def visit_For(self, node: cst.For) -> None:
        self._mark_store(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._mark_store(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._mark_store(node.asname.name)

    def visit_Del(self, node: cst.Del) -> None:
        self._mark_store(node.target)

    # ---- loads

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            if node.value.value == self.self_name:
                self.consumed.add(id(node.value))
                if node.attr.value == "__dict__":  # self.__dict__.update(...) sets artifacts flowc cannot name
                    self._dynamic(node)
                if id(node) not in self.store:
                    self._read(node.attr.value, node)
            elif self.inputs_name and node.value.value == self.inputs_name:
                self.scan.inputs_attrs.append((node.attr.value, self.span_of(node)))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.self_name and id(node) not in self.consumed:
            self._dynamic(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        method = self._self_attr(func)
        if method == "next":
            if self.top:
                self.scan.next_calls.append(node)
            else:
                self.scan.problems.append(("FC108", node, "self.next() is called from a helper method",
                                           "call self.next() in the step itself, as its last statement", "error"))
        elif method == "merge_artifacts":
            self._merge(node)
        elif method is not None and method in self.methods and method not in self.visiting:
            self._follow(method)
        elif isinstance(func, cst.Name) and func.value in ("getattr", "setattr", "hasattr", "delattr") and node.args:
            first = node.args[0].value
            if isinstance(first, cst.Name) and first.value == self.self_name:
                self.consumed.add(id(first))
                name = None
                if len(node.args) > 1:
                    try:
                        value = evaluate(node.args[1].value, {})
                        name = value if isinstance(value, str) else None
                    except NotLiteral:
                        name = None
                if name is None:
                    self._dynamic(node)
                elif func.value == "setattr":
                    self._write(name, node)
                elif func.value == "getattr":
                    self._read(name, node) if len(node.args) == 2 else None
                elif func.value == "hasattr":  # a guard: reads of this name in the step are checked first
                    self.scan.hasattr_names.add(name)

    def _merge(self, node: cst.Call) -> None:
        include: tuple[str, ...] = ()
        exclude: tuple[str, ...] = ()
        for arg in node.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            try:
                value = evaluate(arg.value, {})
            except NotLiteral:
                self.scan.problems.append(("FC208", arg.value,
                                           f"merge_artifacts({key}=...) is not a literal list; flowc assumes every artifact is merged",
                                           "write the names as a literal list", WARNING))
                continue
            names = tuple(v for v in (value or []) if isinstance(v, str))
            if key == "include":
                include = names
            elif key == "exclude":
                exclude = names
        if self.scan.merge is None:
            self.scan.merge = ir.Merge(span=self.span_of(node), include=include, exclude=exclude)

    def _follow(self, method: str) -> None:
        fdef = self.methods[method]
        params = fdef.params.params
        if not params:
            return
        inner = _Scanner(params[0].name.value, None, self.methods, self.members, self.span_of, self.scan,
                         self.visiting | {method}, top=False)
        walk(fdef.body, inner.dispatch)


def _catches_attribute_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:  # a bare except
        return True
    kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for kind in kinds:
        expr = kind.value if isinstance(kind, cst.Element) else kind
        name = expr.attr.value if isinstance(expr, cst.Attribute) else getattr(expr, "value", None)
        if name in _GUARDING:
            return True
    return False


def scan_step(fdef: cst.FunctionDef, self_name: str, inputs_name: str | None, methods: dict[str, cst.FunctionDef],
              members: frozenset[str], span_of: Callable[[cst.CSTNode], Span]) -> BodyScan:
    scan = BodyScan()
    walk(fdef.body, _Scanner(self_name, inputs_name, methods, members, span_of, scan, frozenset(), top=True).dispatch)
    if scan.dynamic is not None:
        scan.problems.append((
            "FC208", scan.dynamic,
            f"step '{fdef.name.value}' passes self along or reads attributes by computed names; "
            "flowc cannot see which artifacts that sets or reads",
            "set and read artifacts as self.<name> in the step, so flowc can check them", WARNING,
        ))
    return scan
