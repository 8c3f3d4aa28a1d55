"""Argo's template language, as far as flowc's output uses it (test code).

Two parts, each following Argo's documentation and, where the docs are
silent, the controller's code (argo-workflows v4.1.2):

- ``substitute``: ``{{tag}}`` replacement. docs/variables.md ("Simple" and
  "Expression" tags); util/template/*.go: a fasttemplate scan that takes the
  text from ``{{`` to the first ``}}`` as one tag, replaces a known simple
  tag by its value, leaves an unknown one as it is unless its prefix is
  strict (then the controller requeues: we raise), evaluates ``{{=expr}}``,
  and never rescans what it inserted within one pass.
- ``evaluate``: the expr-lang subset used in expression tags, ``when``,
  ``depends`` and ``valueFrom.expression``: literals, member and index
  access, calls, ``! && || == != + ?: ??``, and Argo's functions
  (docs/variables.md "Expression": ``asInt``, ``asFloat``, ``toJson``,
  ``jsonpath``, ``sprig.*``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable


class ExprError(Exception):
    pass


class Unresolved(ExprError):
    """A strict reference Argo cannot resolve: the controller requeues the
    task forever (it never runs)."""


# ------------------------------------------------------------ tokens and parse tree

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(\.\d+)?)
  | (?P<str>"(\\.|[^"\\])*"|'(\\.|[^'\\])*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\?\?|&&|\|\||==|!=|[!?:+\-().\[\],])
""", re.X)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"cannot read {text[pos:pos + 20]!r} in {text!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
    return out + [("end", "")]


def _unquote(lit: str) -> str:
    body, out, i = lit[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class Node:
    op: str  # lit, name, member, call, unary, binary, ternary
    args: tuple


class Parser:
    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise ExprError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.ternary()
        if self.peek()[0] != "end":
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return node

    def ternary(self) -> Node:
        cond = self.coalesce()
        if self.peek()[1] == "?":
            self.take("?")
            yes = self.ternary()
            self.take(":")
            no = self.ternary()
            return Node("ternary", (cond, yes, no))
        return cond

    def coalesce(self) -> Node:
        left = self.binary(0)
        while self.peek()[1] == "??":
            self.take()
            left = Node("binary", ("??", left, self.binary(0)))
        return left

    LEVELS = (("||",), ("&&",), ("==", "!="), ("+", "-"))

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[1] in self.LEVELS[level]:
            op = self.take()[1]
            left = Node("binary", (op, left, self.binary(level + 1)))
        return left

    def unary(self) -> Node:
        if self.peek()[1] == "!":
            self.take()
            return Node("unary", ("!", self.unary()))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            tok = self.peek()[1]
            if tok == ".":
                self.take()
                node = Node("member", (node, Node("lit", (self.take()[1],))))
            elif tok == "[":
                self.take()
                key = self.ternary()
                self.take("]")
                node = Node("member", (node, key))
            elif tok == "(":
                self.take()
                args = []
                while self.peek()[1] != ")":
                    args.append(self.ternary())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                node = Node("call", (node, tuple(args)))
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Node("lit", (float(value) if "." in value else int(value),))
        if kind == "str":
            return Node("lit", (_unquote(value),))
        if kind == "name":
            if value in ("true", "false"):
                return Node("lit", (value == "true",))
            if value == "nil":
                return Node("lit", (None,))
            return Node("name", (value,))
        if value == "(":
            node = self.ternary()
            self.take(")")
            return node
        raise ExprError(f"unexpected {value!r}")


def parse(text: str) -> Node:
    return Parser(text).parse()


def member_paths(node: Node, guarded: bool = False) -> list[tuple[str, bool]]:
    """Dotted paths an expression reads (``tasks.a.outputs.parameters.out``),
    each with whether ``??`` guards it: util/template/expression_template.go
    checks these against the environment before evaluating."""
    out: list[tuple[str, bool]] = []
    path = _path(node)
    if path is not None:
        return [(path, guarded)]
    if node.op == "member":
        out += member_paths(node.args[0], guarded)
        if node.args[1].op != "lit":
            out += member_paths(node.args[1], guarded)
    elif node.op == "call":
        if node.args[0].op != "name" and _path(node.args[0]) is None:
            out += member_paths(node.args[0], guarded)
        for a in node.args[1]:
            out += member_paths(a, guarded)
    elif node.op == "unary":
        out += member_paths(node.args[1], guarded)
    elif node.op == "binary":
        op, left, right = node.args
        out += member_paths(left, guarded or op == "??") + member_paths(right, guarded)
    elif node.op == "ternary":
        for a in node.args:
            out += member_paths(a, guarded)
    return out


def _path(node: Node) -> str | None:
    if node.op == "name":
        return node.args[0]
    if node.op == "member" and node.args[1].op == "lit" and isinstance(node.args[1].args[0], str):
        base = _path(node.args[0])
        return None if base is None else f"{base}.{node.args[1].args[0]}"
    return None


# ------------------------------------------------------------ evaluation


def _jsonpath(doc: str, path: str) -> Any:
    if doc is None:
        raise ExprError("jsonpath of nil")
    value = json.loads(doc)
    if not path.startswith("$"):
        raise ExprError(f"jsonpath {path!r} must start with $")
    for part in [p for p in path[1:].split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            raise ExprError(f"jsonpath {path!r}: no {part!r}")
        value = value[part]
    return value


def _as_int(v: Any) -> int:
    if isinstance(v, str):
        return int(v.strip())
    return int(v)


def go_json(value: Any) -> str:
    """json.Marshal: compact, and <, >, &, U+2028, U+2029 escaped as Go does."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


SPRIG: dict[str, Callable] = {
    "replace": lambda old, new, src: src.replace(old, new),
}

FUNCTIONS: dict[str, Any] = {
    "asInt": _as_int,
    "asFloat": lambda v: float(v),
    "toJson": go_json,
    "jsonpath": _jsonpath,
    "sprig": SPRIG,
}


def evaluate(node: Node, env: dict) -> Any:
    op = node.op
    if op == "lit":
        return node.args[0]
    if op == "name":
        name = node.args[0]
        if name in env:
            return env[name]
        if name in FUNCTIONS:
            return FUNCTIONS[name]
        raise ExprError(f"unknown name {name!r}")
    if op == "member":
        base = evaluate(node.args[0], env)
        key = evaluate(node.args[1], env)
        if base is None:
            raise ExprError(f"cannot fetch {key!r} from nil")
        if isinstance(base, dict):
            return base.get(key)
        raise ExprError(f"cannot fetch {key!r} from {type(base).__name__}")
    if op == "call":
        fn = evaluate(node.args[0], env)
        if not callable(fn):
            raise ExprError("not a function")
        return fn(*[evaluate(a, env) for a in node.args[1]])
    if op == "unary":
        return not _bool(evaluate(node.args[1], env))
    if op == "ternary":
        cond, yes, no = node.args
        return evaluate(yes, env) if _bool(evaluate(cond, env)) else evaluate(no, env)
    bop, left, right = node.args
    if bop == "&&":
        return _bool(evaluate(left, env)) and _bool(evaluate(right, env))
    if bop == "||":
        return _bool(evaluate(left, env)) or _bool(evaluate(right, env))
    if bop == "??":
        value = evaluate(left, env)
        return evaluate(right, env) if value is None else value
    a, b = evaluate(left, env), evaluate(right, env)
    if bop == "==":
        return a == b
    if bop == "!=":
        return a != b
    if bop == "+":
        if isinstance(a, str) != isinstance(b, str):
            raise ExprError(f"cannot add {type(a).__name__} and {type(b).__name__}")
        return a + b
    if bop == "-":
        return a - b
    raise ExprError(f"unknown operator {bop}")


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ExprError(f"{v!r} is not a boolean")
    return v


def nest(flat: dict[str, Any]) -> dict:
    """Argo's expression environment: dotted keys expanded into nested maps
    (util/expand), plus the flat keys themselves."""
    env: dict = {}
    for key, value in flat.items():
        parts = key.split(".")
        here = env
        for p in parts[:-1]:
            nxt = here.get(p)
            if not isinstance(nxt, dict):
                nxt = here[p] = {}
            here = nxt
        if not isinstance(here.get(parts[-1]), dict):
            here[parts[-1]] = value
    return env


def has_path(env: dict, path: str) -> bool:
    here: Any = env
    for part in path.split("."):
        if not isinstance(here, dict) or part not in here:
            return part in FUNCTIONS and here is env
        here = here[part]
    return True


def eval_text(text: str, flat: dict[str, Any], strict: tuple[str, ...] = ()) -> Any:
    """Evaluate an expression against a flat variable map. A missing,
    unguarded path under a strict prefix raises Unresolved, as Argo requeues."""
    tree = parse(text)
    env = nest(flat)
    for path, guarded in member_paths(tree):
        if not guarded and not has_path(env, path) and path.split(".")[0] in strict:
            raise Unresolved(f"{path} is missing")
    return evaluate(tree, env)


# ------------------------------------------------------------ substitution


def substitute(text: str, values: dict[str, Any], strict: tuple[str, ...] = ()) -> str:
    """One pass of Argo's ``{{...}}`` replacement over one string."""
    out, pos = [], 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("}}", start + 2)
        if end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        tag = text[start + 2:end]
        out.append(_replace_tag(tag, values, strict))
        pos = end + 2


def _replace_tag(tag: str, values: dict[str, Any], strict: tuple[str, ...]) -> str:
    if tag.startswith("="):
        try:
            result = eval_text(tag[1:], values, strict)
        except Unresolved:
            raise
        except ExprError:
            # util/template/expression_template.go: with unresolved allowed, a
            # failed expression is left as it is for a later pass
            if strict:
                raise
            return "{{" + tag + "}}"
        if result is None:
            if strict:
                raise ExprError(f"expression {tag!r} evaluated to nil")
            return "{{" + tag + "}}"
        return result if isinstance(result, str) else go_json(result)
    key = tag.strip()
    if key in values:
        value = values[key]
        if value is None:
            raise ExprError(f"{{{{{tag}}}}} is the output of a skipped or omitted task")
        return str(value)
    nested = tag.rfind("{{")
    if nested > 0 and tag[nested + 2:] in values and isinstance(values[tag[nested + 2:]], str):
        return "{{" + tag[:nested] + values[tag[nested + 2:]]
    if key.split(".")[0] in strict:
        raise Unresolved(f"failed to resolve {{{{{tag}}}}}")
    return "{{" + tag + "}}"


def substitute_all(data: Any, values: dict[str, Any], strict: tuple[str, ...] = ()) -> Any:
    """One pass over every string of a template (Argo replaces over the
    template's JSON text, which reaches exactly these strings)."""
    if isinstance(data, str):
        return substitute(data, values, strict)
    if isinstance(data, list):
        return [substitute_all(v, values, strict) for v in data]
    if isinstance(data, dict):
        return {k: substitute_all(v, values, strict) for k, v in data.items()}
    return data


def tags(text: str) -> list[str]:
    """The ``{{...}}`` tags of a string, as the scan finds them."""
    out, pos = [], 0
    while True:
        start = text.find("{{", pos)
        end = text.find("}}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            return out
        out.append(text[start + 2:end])
        pos = end + 2
