"""Which Python versions ``@pypi/@conda(python=...)`` allows, read like pip.

``'3.11'`` or ``'3.11.4'`` (a bare version, flowc's and conda's meaning): that
release series, any 3.11.x (or exactly 3.11.4). Otherwise a comma-separated
list of PEP 440 clauses, all of which must hold: ``'3.10.*'``, ``'==3.10.*'``,
``'>=3.10,<3.12'``, ``'~=3.10'``, ``'!=3.11.*'``, ``'==3.11.4'``. Versions are
compared as pip compares them (missing parts are zeros: ``<3.11`` excludes
3.11.0). Standard library only: the compiler checks a spec with it, and the
runtime picks an interpreter with it.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"^(===|==|!=|~=|>=|<=|>|<)?\s*(\d+(?:\.\d+)*)(\.\*)?$")
Version = tuple[int, ...]


class SpecError(ValueError):
    pass


def _clauses(spec: str) -> list[tuple[str, Version, bool]]:
    """[(operator, version, wildcard)]; a bare version is the operator '' (a prefix match)."""
    out = []
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise SpecError("is empty or has an empty clause")
    for part in parts:
        m = _CLAUSE.match(part)
        if not m:
            raise SpecError(f"has a clause {part!r} that is neither a version nor a specifier like '>=3.10'")
        op, text, star = m.group(1) or "", m.group(2), bool(m.group(3))
        version = tuple(int(x) for x in text.split("."))
        if star and op not in ("", "==", "!="):
            raise SpecError(f"uses '.*' with {op} in {part!r}; only == and != take a wildcard")
        if op == "~=" and len(version) < 2:
            raise SpecError(f"{part!r}: ~= needs at least major.minor")
        out.append((op, version, star))
    return out


def check(spec: str) -> None:
    """Raise SpecError if ``spec`` cannot be read."""
    _clauses(spec)


def _pad(v: Version, n: int = 3) -> Version:
    return tuple(v) + (0,) * (n - len(v))


def _holds(op: str, want: Version, star: bool, have: Version) -> bool:
    if op == "" or star:  # a series: the leading parts match
        prefix = have[: len(want)] == want
        return not prefix if op == "!=" else prefix
    n = max(len(want), len(have), 3)
    a, b = _pad(have, n), _pad(want, n)
    if op in ("==", "==="):
        return a == b
    if op == "!=":
        return a != b
    if op == ">=":
        return a >= b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == "<":
        return a < b
    if op == "~=":
        return a >= b and have[: len(want) - 1] == want[:-1]
    raise SpecError(f"unknown operator {op}")


def allows(spec: str | None, version: Version) -> bool:
    """Does ``spec`` allow this Python version (major, minor[, micro])?"""
    if not spec:
        return True
    return all(_holds(op, want, star, tuple(version)) for op, want, star in _clauses(spec))


def is_series(spec: str) -> bool:
    """A bare version ('3.11', '3.11.4'): flowc's original form."""
    return bool(re.fullmatch(r"\d+(\.\d+)*", spec.strip()))


def minors(spec: str | None, lowest: Version, highest: Version, patches: int = 30) -> list[Version]:
    """The (major, minor) series from ``lowest`` to ``highest`` with a release the spec allows, oldest first."""
    out = []
    for minor in range(lowest[1], highest[1] + 1):
        if any(allows(spec, (lowest[0], minor, p)) for p in range(patches + 1)):
            out.append((lowest[0], minor))
    return out


def pick(spec: str | None, lowest: Version, highest: Version) -> str | None:
    """The major.minor an image or conda environment gets: the version written if
    it is bare, else the newest series the spec allows (as a resolver picks)."""
    if not spec:
        return None
    if is_series(spec):
        return spec.strip()
    found = minors(spec, lowest, highest)
    return ".".join(map(str, found[-1])) if found else None
