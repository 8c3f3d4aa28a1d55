"""YAML for prefect.yaml: scalars that read back exactly, and the placeholders
`prefect deploy` would substitute in it."""

from __future__ import annotations

import re
from typing import Any

# What `prefect deploy` substitutes in prefect.yaml values (Prefect's own
# placeholder pattern): a value holding one cannot be written there literally.
PREFECT_PLACEHOLDER = re.compile(r"{{\s*([\w\.\-\[\]$]+)\s*}}")

_YAML_PLAIN_OK = re.compile(r"[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar with the exact value ``text``."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif _YAML_PLAIN_OK.match(ch) and ch not in "\u2028\u2029\ufeff":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _yaml_key(key: str) -> str:
    """A mapping key; YAML bounds implicit keys at 1024 characters, so a longer one is explicit (`? key`)."""
    text = yaml_str(key)
    return f"? {text}" if len(text) > 1000 else text


def yaml_literal(value: Any) -> str:
    """A JSON value as flow-style YAML that PyYAML reads back exactly."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"
        if text in ("inf", "-inf", "nan"):
            return {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}[text]
        return text
    if isinstance(value, str):
        return yaml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_key(str(k))}: {yaml_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def strings(value: Any):
    """Every string in a loaded YAML document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return bool(PREFECT_PLACEHOLDER.search(value))
    if isinstance(value, dict):
        return any(has_placeholder(k) or has_placeholder(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_placeholder(v) for v in value)
    return False
