"""What every AWS file flowc writes shares: S3 locations, names AWS accepts,
string literals inside intrinsic functions, and the JSON text itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .jsontext import json_text

@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "a/b/" (with the trailing slash)


def s3_location(url: str) -> S3Location | None:
    match = re.fullmatch(r"s3://([^/]+)/*(.*)", url)
    if not match:
        return None
    prefix = match.group(2).strip("/")
    return S3Location(match.group(1), prefix + "/" if prefix else "")


DYNAMIC_REFERENCE = "{{resolve:"  # what CloudFormation resolves in a stack's values
INTRINSIC_SPECIAL = "'{}\\"  # the characters an intrinsic function's string literal escapes


def intrinsic_string(text: str) -> str:
    """A string literal inside an intrinsic function: ' { } and \\ escaped."""
    return "'" + re.sub(r"(['{}\\])", r"\\\1", text) + "'"


def aws_name(text: str, limit: int = 128) -> str:
    """A name AWS Batch, Scheduler and Step Functions all accept: [A-Za-z0-9_-]."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:limit]


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id (alphanumeric) from name parts."""
    return "".join(re.sub(r"[^A-Za-z0-9]", "", p[:1].upper() + p[1:]) for p in parts)


def dumps(data: Any) -> bytes:
    """Indented JSON with text as written, except characters a reader (or a
    YAML-based tool such as cfn-lint) cannot take raw: those are \\u-escaped."""
    text = json_text(data, indent=2)
    return (re.sub(r"[^\x00-\x7e]", _escape_unprintable, text) + "\n").encode("utf-8")


def _escape_unprintable(match: re.Match) -> str:
    char = match.group(0)
    # beyond the BMP, characters stay raw: escaped they would be surrogate
    # pairs, which JSON reads but YAML parsers refuse
    if char.isprintable() or ord(char) > 0xFFFF:
        return char
    return f"\\u{ord(char):04x}"
