"""Python source for values, for the targets that emit Python (Airflow,
Prefect): a literal that evaluates to exactly the value, on one line,
whatever the text holds (quotes, backslashes, newlines, unicode controls)."""

from __future__ import annotations

from typing import Any

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_str(text: str) -> str:
    """A double-quoted string literal; every non-printable character escaped,
    so the source shows the exact value and each line stays one line."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:  # controls, separators, surrogates
            n = ord(ch)
            out.append(f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")
    return '"' + "".join(out) + '"'


def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like value (tuples stay tuples)."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def comment_text(text: str) -> str:
    """Text for one '# ' comment line (Python or YAML): every character that is
    not printable (newlines, NUL, U+0085, U+2028...) shown escaped, so user
    text can never end the comment and start code or YAML."""
    return "".join(ch if ch.isprintable() else py_str(ch)[1:-1] for ch in str(text))
