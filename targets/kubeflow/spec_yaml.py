"""Writing the package: the PipelineSpec, then the PlatformSpec, as two YAML
documents (the layout KFP's compiler writes and its loader reads), sorted
keys, with a comment above every task and executor naming its step and
``flow.py:LINE``. Strings are YAML-quoted by the YAML library, so any text
(quotes, newlines, unicode) round-trips as it was; a comment holds one line
of printable text, anything else in it (a file name's newline or control
character) written as an escape, so no text leaves its comment."""

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
# what a YAML comment may hold: printable characters (YAML 1.1), no line break, no BOM
_NOT_IN_COMMENT = re.compile("[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def comment_text(text: str) -> str:
    """``text`` as one comment line: a character a comment cannot hold as its escape (``\\n``, ``\\x1f``)."""
    return _NOT_IN_COMMENT.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


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
                out.extend(f"{match.group(1)}# {comment_text(part)}\n" for part in note.split("\n"))
        out.append(line)
    return "".join(out)


def package(header: list[str], spec: dict[str, Any], platform: dict[str, Any],
            comments: dict[tuple[str, ...], str]) -> bytes:
    head = "".join(f"# {comment_text(line)}\n" if line else "#\n" for line in header)
    text = head + with_comments(dump(spec), comments)
    if platform:
        text += "---\n" + dump(platform)
    return text.encode("utf-8")
