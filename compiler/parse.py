"""Stage 1: read a file into a libcst tree with positions. Never imports it."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from .positions import positions as compute_positions

from . import allocator
from .diagnostics import ERROR, Diagnostic
from .source import display_path, project_root, read_source  # noqa: F401  (their old home)
from .spans import Span


@dataclass
class ParsedModule:
    path: str  # as shown to people and stored in the IR: relative, POSIX
    text: str
    module: cst.Module
    positions: dict  # node -> ((line, col0), (end_line, end_col0)), see positions.py
    sha256: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def span(self, node: cst.CSTNode) -> Span:
        (line, col), (end_line, end_col) = self.positions[node]
        return Span(self.path, line, col + 1, end_line, end_col + 1)


# libcst's native parser and every tree walk in the compiler recurse, so the
# nesting a file may use is bounded before libcst ever sees it.
MAX_DEPTH = 100


def too_deep(path: str, line: int = 1, col: int = 1) -> Diagnostic:
    return Diagnostic("FC006", ERROR, "the file nests expressions too deeply for flowc to read",
                      Span(path, line, col, line, col + 1), "split deeply nested expressions into named parts")


def _bracket_depth(text: str) -> tuple[int, int]:
    """Deepest bracket nesting (strings not skipped: an over-estimate) and its offset."""
    depth = deepest = at = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, i
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest, at


def _ast_depth(tree: ast.AST) -> tuple[int, ast.AST | None]:
    """Deepest node of a CPython AST, walked with an explicit stack (no recursion).

    Every second level of an AST consumes at least one character of source
    (the levels between, like an Expr statement or a call's arguments, hold
    a child that does), so a one-line statement of ``n`` bytes nests at most
    ``2 n + 2`` levels below itself: one too short to reach the limit is not
    entered, and most of a file is read at its statements' level."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    deepest, where = 0, None
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest, where = depth, node
            if deepest > MAX_DEPTH * 4:
                break
        if (isinstance(node, ast.stmt) and node.end_lineno == node.lineno
                and depth + 2 * (node.end_col_offset - node.col_offset) + 2 <= MAX_DEPTH):
            continue
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, where


def _precheck(text: str, path: str) -> Diagnostic | None:
    """CPython's parser (bounded, in C) vets the file first: a syntax error is
    reported at its position, and nesting deep enough to crash libcst is FC006."""
    try:
        tree = compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as err:
        if "too many nested" in str(err.msg) or "too complex" in str(err.msg):
            return too_deep(path, err.lineno or 1, max(err.offset or 1, 1))
        depth, at = _bracket_depth(text)
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, at) + 1
            return too_deep(path, line, at - (text.rfind("\n", 0, at) + 1) + 1)
        if err.lineno:
            line, col = err.lineno, max(err.offset or 1, 1)
            return Diagnostic("FC001", ERROR, f"not valid Python: {err.msg}", Span(path, line, col, line, col + 1),
                              "flowc reads the file as Python 3; fix the syntax first")
        return None
    except (RecursionError, MemoryError):
        return too_deep(path)
    except ValueError:
        return None
    depth, node = _ast_depth(tree)
    if depth > MAX_DEPTH:
        return too_deep(path, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1)
    return None


def _no_validation(self) -> None:
    pass


def _parse_module(text: str) -> cst.Module:
    """libcst's parser, without the check libcst makes of every node it
    builds (CSTNode.__post_init__ -> _validate): the parser builds them only
    from text it has accepted, and the check is a fifth of parsing a large file
    (libcst's own note on __post_init__ says as much)."""
    base = cst.CSTNode
    saved = base.__dict__["__post_init__"]
    base.__post_init__ = _no_validation
    try:
        return cst.parse_module(text)
    finally:
        base.__post_init__ = saved


def parse_text(text: str, path: str) -> tuple[ParsedModule | None, Diagnostic | None]:
    """Parse source text; a syntax error becomes FC001 at its position."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, Diagnostic("FC001", ERROR, "not valid Python: the file holds a null byte", Span.at(path, line),
                                "Python source cannot contain null bytes; is this a binary file?")
    allocator.before_parse(len(text))
    early = _precheck(text, path)
    if early is not None:
        return None, early
    try:
        module = _parse_module(text)
    except cst.ParserSyntaxError as exc:
        line = max(exc.raw_line, 1)
        col = exc.raw_column + 1
        message = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
        try:  # CPython's parser usually names the real place and cause; it only parses
            compile(text, path, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
        except SyntaxError as err:
            if err.lineno:
                line, col = err.lineno, max(err.offset or 1, 1)
                message = err.msg
        except (ValueError, RecursionError, MemoryError):
            pass
        return None, Diagnostic("FC001", ERROR, f"not valid Python: {message}", Span(path, line, col, line, col + 1),
                                "flowc reads the file as Python 3; fix the syntax first")
    except (RecursionError, ValueError, MemoryError) as exc:  # pathological input
        return None, Diagnostic("FC001", ERROR, f"not valid Python: {type(exc).__name__}", Span.at(path, 1))
    try:
        positions = compute_positions(module)
    except RecursionError:
        return None, too_deep(path)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ParsedModule(path, text, module, positions, sha), None
