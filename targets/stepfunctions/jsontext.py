"""JSON text without recursion: ``json.dumps(data, ensure_ascii=False)`` and
``json.dumps(data, indent=2, ensure_ascii=False)``, character for character,
written with an explicit stack. The standard encoders recurse once per level
of nesting (the pure-Python one used with ``indent`` two frames a level), and
a state machine nests four levels per foreach: a flow a few hundred foreach
deep would stop with RecursionError in the writer alone."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # ensure_ascii=False's string writer
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)  # NaN, Infinity and repr as the json module writes them
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, (int, float)) or key is None:  # as json.dumps: the scalar's text, quoted
        return encode_basestring(_scalar(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def json_text(data: Any, indent: int | None = None) -> str:
    """``json.dumps(data, indent=indent, ensure_ascii=False)`` with its
    default separators (", " and ": ", or "," and ": " when indented)."""
    out: list[str] = []
    item_sep = "," if indent is not None else ", "
    # each open container: [its items, its closing bracket, whether it is a dict,
    # its depth, whether an item has been written]
    stack: list[list[Any]] = []
    value = data
    while True:
        # write ``value`` (opening it if it is a non-empty container)
        if isinstance(value, dict) and value:
            out.append("{")
            stack.append([iter(value.items()), "}", True, len(stack) + 1, False])
        elif isinstance(value, (list, tuple)) and value:
            out.append("[")
            stack.append([iter(value), "]", False, len(stack) + 1, False])
        elif isinstance(value, dict):
            out.append("{}")
        elif isinstance(value, (list, tuple)):
            out.append("[]")
        else:
            out.append(_scalar(value))
        # find the next value to write, closing the containers that are done
        while stack:
            frame = stack[-1]
            items, closing, is_dict, depth, started = frame
            item = next(items, _DONE)
            if item is _DONE:
                stack.pop()
                if indent is not None:
                    out.append("\n" + " " * (indent * (depth - 1)))
                out.append(closing)
                continue
            if started:
                out.append(item_sep)
            frame[4] = True
            if indent is not None:
                out.append("\n" + " " * (indent * depth))
            if is_dict:
                key, value = item
                out.append(_key(key) + ": ")
            else:
                value = item
            break
        else:
            return "".join(out)


_DONE = object()
