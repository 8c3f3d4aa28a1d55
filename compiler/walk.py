"""A fast pre-order walk over a libcst tree.

libcst's visitor rebuilds every node it passes (its visit is a transform
that changes nothing), which costs more than the analysis itself on large
flows. This walk only reads: it follows each node's fields, skipping the
ones that hold only whitespace and punctuation.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import libcst as cst

_SKIP_PREFIXES = ("whitespace", "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after", "header",
                  "footer", "colon", "equal", "operator", "dot", "lbrace", "rbrace", "lbracket", "rbracket",
                  "first_line", "empty_lines", "newline", "indent", "asynchronous", "star", "lambda_")
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(tp: type) -> tuple[str, ...]:
    names = _FIELDS.get(tp)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(tp)
                      if not f.name.startswith(_SKIP_PREFIXES) or f.name in ("star_arg", "star_kwarg"))
        _FIELDS[tp] = names
    return names


def _node_types() -> frozenset[type]:
    """Every libcst node class: a set lookup on the exact type, where
    isinstance on libcst's abstract base class goes through ABCMeta."""
    found: set[type] = set()
    stack = [cst.CSTNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return frozenset(found)


_NODES = _node_types()


def walk(node: cst.CSTNode, visit: Callable[[cst.CSTNode], bool | None]) -> None:
    """Call ``visit`` on every node, parents first; a visit returning False
    skips that node's children. The fields are followed in this loop, not in
    a generator of children: it runs for every node of every step body
    (walking a 10,000-step flow's whole tree: 0.12 s, against 0.20)."""
    stack = [node]
    pop, push, nodes, known = stack.pop, stack.append, _NODES, _FIELDS
    while stack:
        current = pop()
        if visit(current) is False:
            continue
        kind = type(current)
        for name in reversed(known.get(kind) or _fields(kind)):
            value = getattr(current, name)
            kind = type(value)
            if kind in nodes:
                push(value)
            elif kind is tuple or kind is list:
                for item in reversed(value):
                    if type(item) in nodes:
                        push(item)
