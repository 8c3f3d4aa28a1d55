"""Paths written as "the file beside this module", read without running it.

Metaflow's own tutorials name a Config's or IncludeFile's default file with a
helper that joins the module's folder and a file name:

    def script_path(filename):
        return os.path.join(os.path.dirname(os.path.realpath(__file__)), filename)

    data = IncludeFile("data", default=script_path("movies.csv"))

The value is a file beside the module, which is all flowc needs. This module
recognises exactly that shape (the helper, or the ``os.path.join(...)`` call
written inline) and nothing looser: any other call stays "not a literal".
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .literals import NotLiteral, dotted_name, evaluate

_PATH_MODULES = ("os.path", "path", "")  # os.path.join, `from os import path`, `from os.path import join`


def _is(node: cst.CSTNode, func: str) -> bool:
    name = dotted_name(node) or ""
    head, _, last = name.rpartition(".")
    return last == func and head in _PATH_MODULES


def _module_folder(node: cst.BaseExpression) -> bool:
    """``os.path.dirname(__file__)``, also of ``realpath``/``abspath(__file__)``."""
    if not (isinstance(node, cst.Call) and _is(node.func, "dirname") and len(node.args) == 1):
        return False
    inner = node.args[0].value
    if isinstance(inner, cst.Call) and (_is(inner.func, "realpath") or _is(inner.func, "abspath")) \
            and len(inner.args) == 1:
        inner = inner.args[0].value
    return isinstance(inner, cst.Name) and inner.value == "__file__"


def _joined_parts(node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The parts after the module's folder in ``os.path.join(FOLDER, a, b)``."""
    if not (isinstance(node, cst.Call) and _is(node.func, "join") and len(node.args) >= 2):
        return None
    if any(a.star or a.keyword for a in node.args) or not _module_folder(node.args[0].value):
        return None
    return [a.value for a in node.args[1:]]


def path_helpers(module: cst.Module) -> set[str]:
    """Module-level functions of one parameter that return the file of that
    name beside the module (the ``script_path`` shape above)."""
    found = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.FunctionDef) or stmt.decorators:
            continue
        params = stmt.params
        if len(params.params) != 1 or params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) \
                or params.kwonly_params or params.star_kwarg or params.posonly_params:
            continue
        body = [s for s in stmt.body.body if not _is_docstring(s)] if isinstance(stmt.body, cst.IndentedBlock) else []
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
            continue
        ret = body[0].body[0]
        if not isinstance(ret, cst.Return) or ret.value is None:
            continue
        parts = _joined_parts(ret.value)
        name = params.params[0].name.value
        if parts is not None and len(parts) == 1 and isinstance(parts[0], cst.Name) and parts[0].value == name:
            found.add(stmt.name.value)
    return found


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
        and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, (cst.SimpleString,
                                                                                     cst.ConcatenatedString))


def beside_module(node: cst.BaseExpression, helpers: set[str], constants: dict[str, Any]) -> str | None:
    """The file name, relative to the module's folder, that ``node`` names
    through a path helper or an inline join; None when it is not that shape."""
    if not isinstance(node, cst.Call):
        return None
    parts = _joined_parts(node)
    if parts is None and isinstance(node.func, cst.Name) and node.func.value in helpers \
            and len(node.args) == 1 and not node.args[0].star and not node.args[0].keyword:
        parts = [node.args[0].value]
    if not parts:
        return None
    try:
        values = [evaluate(p, constants) for p in parts]
    except NotLiteral:
        return None
    if not all(isinstance(v, str) and v for v in values):
        return None
    return "/".join(values)
