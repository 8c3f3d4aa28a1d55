"""Evaluate literal expressions without executing anything.

Decorator arguments, parameter defaults and foreach names must be literals,
or names bound to literals at module level. Simple arithmetic on numbers
(``16 * 1024``) and string concatenation are folded; anything else (a call,
an attribute lookup, an environment read) raises ``NotLiteral`` naming the
offending expression, and the caller turns it into a diagnostic.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import libcst as cst


class NotLiteral(Exception):
    def __init__(self, node: cst.CSTNode, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


# Module-level names whose value is unknown (bound twice, or bound to a
# non-literal) map to this marker, so the error can say why.
AMBIGUOUS = object()

_BINOPS = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}


# Numbers a flow may hold: what every target (YAML, JSON, Python) can write
# back exactly. Folding checks the size of a power before computing it, so
# `9 ** 9 ** 9` is refused at once instead of running for ever.
INT_BITS = 63


def bounded(node: cst.CSTNode, value: Any) -> Any:
    """The number itself, or NotLiteral if no target can represent it."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > INT_BITS:
        raise NotLiteral(node, f"integer {str(value)[:20]}{'...' if len(str(value)) > 20 else ''} is out of the "
                               f"64-bit range")
    if isinstance(value, float) and not math.isfinite(value):
        raise NotLiteral(node, f"{value} is not a finite number")
    return value


def _pow_too_big(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    base = abs(left)
    if base <= 1 or right <= 0:
        return False
    return right * math.log2(base) > 1100  # beyond any int64 and float range


def evaluate(node: cst.BaseExpression, constants: dict[str, Any]) -> Any:
    """The Python value of a literal expression, or NotLiteral."""
    if isinstance(node, cst.Integer):
        digits = node.value.replace("_", "")
        if len(digits) > 40:
            raise NotLiteral(node, "integer is out of the 64-bit range")
        return bounded(node, int(digits, 0))
    if isinstance(node, cst.Float):
        return bounded(node, float(node.value.replace("_", "")))
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(node)
        if isinstance(value, bytes):
            raise NotLiteral(node, "bytes are not supported here; use a str")
        if value is None:
            raise NotLiteral(node, "an f-string with expressions is not a literal")
        return value
    if isinstance(node, cst.FormattedString):
        if all(isinstance(p, cst.FormattedStringText) for p in node.parts):
            return "".join(p.value for p in node.parts)
        raise NotLiteral(node, "an f-string with expressions is not a literal")
    if isinstance(node, cst.Name):
        if node.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.value]
        if node.value in constants:
            value = constants[node.value]
            if value is AMBIGUOUS:
                raise NotLiteral(node, f"module-level name '{node.value}' is not bound to one literal")
            return value
        raise NotLiteral(node, f"'{node.value}' is not a literal nor a module-level name bound to one")
    if isinstance(node, cst.UnaryOperation):
        value = evaluate(node.expression, constants)
        if isinstance(node.operator, cst.Minus) and _is_number(value):
            return bounded(node, -value)
        if isinstance(node.operator, cst.Plus) and _is_number(value):
            return +value
        if isinstance(node.operator, cst.Not):
            return not value
        raise NotLiteral(node, "unsupported operator on a literal")
    if isinstance(node, cst.BinaryOperation):
        op = _BINOPS.get(type(node.operator))
        left = evaluate(node.left, constants)
        right = evaluate(node.right, constants)
        numbers = _is_number(left) and _is_number(right)
        strings = isinstance(left, str) and isinstance(right, str) and isinstance(node.operator, cst.Add)
        if op is None or not (numbers or strings):
            raise NotLiteral(node, "only arithmetic on numbers and + on strings are folded")
        if numbers and isinstance(node.operator, cst.Power) and _pow_too_big(left, right):
            raise NotLiteral(node, "the power is out of the 64-bit range")
        try:
            return bounded(node, op(left, right))
        except (ArithmeticError, ValueError) as exc:
            raise NotLiteral(node, f"cannot evaluate: {exc}") from None
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        items = []
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                raise NotLiteral(el, "unpacking is not a literal")
            items.append(evaluate(el.value, constants))
        return items
    if isinstance(node, cst.Dict):
        out: dict[Any, Any] = {}
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                raise NotLiteral(el, "unpacking is not a literal")
            key = evaluate(el.key, constants)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise NotLiteral(el.key, "dictionary keys must be strings or numbers")
            out[key] = evaluate(el.value, constants)
        return out
    resolve = getattr(constants, "resolve_reference", None)  # a flow's configs (compiler/configs.py)
    if resolve is not None and isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        found, value = resolve(node)
        if found:
            return value
    if isinstance(node, cst.Call):
        return _reject_call(node)
    if isinstance(node, cst.Attribute):
        raise NotLiteral(node, "an attribute lookup is evaluated at import time, which flowc never does")
    if isinstance(node, cst.Lambda):
        raise NotLiteral(node, "a function is evaluated at run time; give a literal value")
    raise NotLiteral(node, "not a literal")


def string_value(node: cst.SimpleString | cst.ConcatenatedString) -> Any:
    """A string literal's value; an invalid one (a bad escape) is not a literal."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return node.evaluated_value
    except (SyntaxError, ValueError) as exc:
        raise NotLiteral(node, f"invalid string literal: {exc}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _reject_call(node: cst.Call) -> Any:
    name = dotted_name(node.func) or "a function"
    if name in ("os.environ.get", "os.getenv", "getenv"):
        raise NotLiteral(node, f"'{name}(...)' reads the environment of the machine that compiles; give a literal")
    raise NotLiteral(node, f"'{name}(...)' is a call, evaluated only by importing the module, which flowc never does")


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_name(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None
