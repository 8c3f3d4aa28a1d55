"""Writing the package: the PipelineSpec, then the PlatformSpec, as two YAML
documents (the layout KFP's compiler writes and its loader reads), sorted
keys, with a comment above every task and executor naming its step and
``flow.py:LINE``. Strings are YAML-quoted by the YAML library, so any text
(quotes, newlines, ``{{ }}``, unicode) round-trips as it was."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..yaml_dumper import stable


@stable  # the same scalars whatever another library did to SafeDumper (hera does)
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:  # every value written out, never &anchors
        return True


_KEY = re.compile(r"^( *)([A-Za-z0-9_.-]+):(?: |$)")


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100000,
                     default_flow_style=False)


def with_comments(text: str, comments: dict[tuple[str, ...], str]) -> str:
    """``text`` with ``# comment`` lines above the mapping keys at the given paths."""
    if not comments:
        return text
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    for line in text.splitlines(keepends=True):
        match = _KEY.match(line)
        if match:
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match.group(2)))
            note = comments.get(tuple(k for _, k in stack))
            if note is not None:
                out.extend(f"{match.group(1)}# {part}\n" for part in note.splitlines() or [""])
        out.append(line)
    return "".join(out)


def package(header: list[str], spec: dict[str, Any], platform: dict[str, Any],
            comments: dict[tuple[str, ...], str]) -> bytes:
    head = "".join(f"# {line}\n" if line else "#\n" for line in header)
    text = head + with_comments(dump(spec), comments)
    if platform:
        text += "---\n" + dump(platform)
    return text.encode("utf-8")
