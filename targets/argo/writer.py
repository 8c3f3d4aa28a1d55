"""YAML for the Argo target: block style, a fixed key order, and comments.

PyYAML cannot write comments, and its own block layout changes with the
data, so documents are laid out here and only scalars go through PyYAML
(which decides their quoting). Every scalar is written on one line: text
with a line break or a control character is double-quoted with escapes, so
no value can break out of its place, and a comment can never hold a line
break either. The same data always gives the same bytes.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass
from typing import Any

import yaml

from ..yaml_dumper import stable

# Keys written first, in this order, wherever they appear; the rest follow
# alphabetically, and KEY_LAST last. Puts what a reader looks for (kind,
# name, what runs, when) on top.
KEY_ORDER = ("apiVersion", "kind", "name", "generateName", "namespace", "metadata", "spec", "entrypoint",
             "template", "depends", "when", "withSequence", "arguments", "inputs", "outputs",
             "image", "eventSourceName", "eventName", "operation", "source", "src", "dest")
# Keys written last: the long blocks, after the settings that qualify them.
KEY_LAST = ("command", "args", "dag", "container", "templates", "dependencies", "triggers")
_RANK = {key: i for i, key in enumerate(KEY_ORDER)}
_LAST = {key: i for i, key in enumerate(KEY_LAST)}

COMMENT_WIDTH = 100
_BREAKS = "\n\r\x85\u2028\u2029"
_PLAIN_SAFE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


@dataclass(frozen=True)
class Commented:
    """A mapping written with comment lines above it (as a list item or a value)."""

    value: dict
    comment: str


def comment_lines(text: str) -> list[str]:
    """Comment text as safe lines: split on every line break Python or YAML
    knows, other control characters replaced, trailing blanks dropped."""
    out = []
    for line in text.splitlines():
        clean = "".join(ch if ch.isprintable() else " " for ch in line).rstrip()
        wrapped = [clean] if len(clean) <= COMMENT_WIDTH else textwrap.wrap(
            clean, COMMENT_WIDTH, break_long_words=False, break_on_hyphens=False)
        out.extend(f"# {part}" for part in wrapped) if wrapped else out.append("#")
    return out


def sort_keys(keys) -> list:
    return sorted(keys, key=lambda k: (_LAST.get(k, -1), _RANK.get(k, len(_RANK)), k))


# as names.dns_label's: a 10,000-step flow holds more distinct scalars than 4,096
@functools.lru_cache(maxsize=1 << 16)
def scalar(value: Any) -> str:
    """One scalar as YAML text on a single line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _PLAIN_SAFE.match(value) and value.lower() not in _YAML11_WORDS:
        return value
    text = _dump(value, None, True)
    if any(b in text for b in _BREAKS):
        text = _dump(value, '"', True)
    if any(b in text for b in _BREAKS):
        text = _dump(value, '"', False)
    return text


@stable
class _Dumper(yaml.SafeDumper):
    """SafeDumper with its own scalar representers (targets/yaml_dumper.py)."""


def _dump(value: Any, style: str | None, allow_unicode: bool) -> str:
    text = yaml.dump(value, Dumper=_Dumper, default_style=style, width=float("inf"), allow_unicode=allow_unicode)
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.rstrip("\n")


def dump_documents(documents: list[Any], header: str = "") -> str:
    """Several documents, separated by ``---``, with an optional header comment."""
    lines: list[str] = comment_lines(header) if header else []
    for i, doc in enumerate(documents):
        if i or lines:
            lines.append("---")
        _node(doc, 0, lines)
    return "\n".join(lines) + "\n"


def _node(value: Any, indent: int, lines: list[str]) -> None:
    """A mapping or a list as block lines at ``indent``."""
    pad = " " * indent
    if isinstance(value, Commented):
        lines.extend(pad + c for c in comment_lines(value.comment))
        value = value.value
    if isinstance(value, dict):
        for key in sort_keys(value):
            _entry(pad + scalar(key) + ":", value[key], indent, lines)
    elif isinstance(value, list):
        for item in value:
            _item(item, indent, lines)
    else:
        lines.append(pad + scalar(value))


def _entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    """``key: value`` where value may be a block: maps indent by two, lists do not."""
    if isinstance(value, Commented):
        lines.append(head)
        _node(value, indent + 2, lines)
    elif isinstance(value, dict):
        if not value:
            lines.append(head + " {}")
        else:
            lines.append(head)
            _node(value, indent + 2, lines)
    elif isinstance(value, list):
        if not value:
            lines.append(head + " []")
        else:
            lines.append(head)
            _node(value, indent, lines)
    else:
        lines.append(head + " " + scalar(value))


def _item(item: Any, indent: int, lines: list[str]) -> None:
    """One ``- item`` of a list; a mapping's first key shares the dash's line."""
    pad = " " * indent
    if isinstance(item, Commented):
        lines.extend(pad + c for c in comment_lines(item.comment))
        item = item.value
    if isinstance(item, dict) and item:
        first = len(lines)  # written in place, then the dash put on the first line: no copy per level
        inner = " " * (indent + 2)
        for key in sort_keys(item):
            _entry(inner + scalar(key) + ":", item[key], indent + 2, lines)
        lines[first] = pad + "- " + lines[first][indent + 2:]
    elif isinstance(item, (dict, list)) and not item:
        lines.append(pad + ("- {}" if isinstance(item, dict) else "- []"))
    elif isinstance(item, list):
        lines.append(pad + "-")
        _node(item, indent + 2, lines)
    else:
        lines.append(pad + "- " + scalar(item))
