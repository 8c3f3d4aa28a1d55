"""Source positions for libcst nodes, computed in one fast code-generation pass.

libcst's PositionProvider records a position for every node, whitespace
included, and costs more than parsing. This pass follows the same rules
(statements and definitions take their syntactic position, without leading
blank lines and comments) but counts lines cheaply and keeps positions only
for the nodes that take a syntactic position (every statement and
expression, and the parts that carry them) and the node types the analyzer
reports on. tests/compiler/test_positions.py holds them to libcst's own
provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

# Node types whose positions the analyzer and the diagnostics use.
WANTED = (
    cst.Name, cst.Attribute, cst.Call, cst.Arg, cst.Decorator, cst.ClassDef, cst.FunctionDef, cst.Param,
    cst.Dict, cst.DictElement, cst.StarredDictElement, cst.SimpleString, cst.ConcatenatedString,
    cst.FormattedString, cst.Integer, cst.Float, cst.List, cst.Tuple, cst.Set, cst.Lambda,
    cst.UnaryOperation, cst.BinaryOperation, cst.Subscript, cst.AssignTarget, cst.Expr,
)
_WANTED_TYPES = frozenset(WANTED)  # exact types: isinstance on libcst's ABCs is slow


class _Syntactic:
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: "PositionState", node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc) -> None:
        st = self.state
        start = st.positions[self.start_node][0] if self.start_node is not None and self.start_node in st.positions else self.start
        end = st.positions[self.end_node][1] if self.end_node is not None and self.end_node in st.positions else (st.line, st.column)
        st.positions[self.node] = (start, end)


@dataclass
class PositionState(CodegenState):
    line: int = 1
    column: int = 0
    positions: dict = field(default_factory=dict)
    stack: list = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        # no token list: nothing reads the generated code, only where it ends
        if "\n" in value:
            self.line += value.count("\n")
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    # Only the WANTED node types are tracked; the rest (two nodes in three)
    # cost a type test.
    def before_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in _WANTED_TYPES:
            self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in _WANTED_TYPES:
            start = self.stack.pop()
            if node not in self.positions:
                self.positions[node] = (start, (self.line, self.column))

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


def positions(module: cst.Module) -> dict:
    """{node: ((line, col0), (end_line, end_col0))} for the WANTED node types."""
    state = PositionState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    return state.positions
