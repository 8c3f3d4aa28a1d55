"""Diagnostics: every problem flowc reports about a flow, in one shape.

A diagnostic has a stable code (``FC110``), a severity, a message that says
what is wrong, a hint that says what to do, and a span (file:line:col). The
renderers here print it for people (source line and caret), for editors and
CI (JSON) and for GitHub Actions (workflow-command annotations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable

from .spans import Span

ERROR = "error"
WARNING = "warning"
NOTE = "note"
_RANK = {ERROR: 0, WARNING: 1, NOTE: 2}

# Every code flowc can emit, with a one-line title. Codes are stable: a code
# is never reused for another meaning. Tests assert that each is documented.
CODES: dict[str, str] = {
    # input and discovery
    "FC001": "not valid Python",
    "FC002": "no flow in module",
    "FC003": "cannot read file",
    "FC004": "flow not found or ambiguous",
    "FC005": "base class module not found",
    "FC006": "unsupported construct",
    # structure
    "FC101": "no start step",
    "FC102": "no end step",
    "FC103": "several start or end steps",
    "FC104": "ambiguous start or end step",
    "FC105": "unreachable step",
    "FC106": "step never reaches the end step",
    "FC107": "missing self.next",
    "FC108": "self.next is not the last statement",
    "FC109": "self.next in the end step",
    "FC110": "transition to an unknown step",
    "FC111": "invalid self.next",
    "FC112": "step named twice in one self.next",
    "FC113": "cycle",
    "FC114": "join without a split",
    "FC115": "join does not close its split",
    "FC116": "split never joined",
    "FC117": "steps of unrelated splits meet",
    "FC118": "split with an empty branch",
    "FC119": "invalid switch",
    "FC120": "switch case goes straight to a join",
    "FC121": "join step also splits",
    "FC122": "wrong step signature",
    "FC123": "invalid or reserved step name",
    "FC124": "name clash",
    "FC125": "foreach or condition does not name an attribute",
    "FC126": "transition into the start step",
    "FC127": "step defined twice",
    "FC128": "join input by unknown branch name",
    # dataflow
    "FC201": "artifact read before any step sets it",
    "FC202": "foreach over an artifact that is never set",
    "FC203": "switch condition is never set",
    "FC204": "join reads an artifact it did not merge",
    "FC205": "merge may conflict",
    "FC206": "assignment to a parameter",
    "FC207": "reserved artifact name",
    "FC208": "dynamic attribute access",
    # parameters
    "FC301": "invalid parameter",
    "FC302": "parameter default is not a literal",
    "FC303": "unsupported parameter type",
    "FC304": "parameter default does not match its type",
    "FC305": "duplicate parameter",
    "FC306": "parameter named like one of flowc's options",
    "FC307": "required parameter no triggering event fills",
    # decorators
    "FC401": "decorator argument is not a literal",
    "FC402": "unknown decorator argument",
    "FC403": "invalid decorator argument value",
    "FC404": "unsupported decorator",
    "FC405": "decorator used twice",
    "FC406": "decorator in the wrong place",
    "FC407": "decorator accepted and ignored",
    "FC408": "conflicting decorators",
    "FC409": "unknown decorator",
    # targets and options
    "FC501": "construct not supported by target",
    "FC502": "invalid option",
    "FC503": "generated names clash",
    # environments
    "FC601": "invalid package requirement",
    "FC602": "invalid python version",
    "FC603": "conflicting package pins",
    # configs and included files
    "FC701": "config file cannot be read, or config without a value",
    "FC702": "config cannot be parsed",
    "FC703": "config has no such key",
    "FC704": "parser flowc cannot run",
    "FC705": "invalid Config or IncludeFile",
    "FC706": "included file missing or outside the flow's folder",
    "FC707": "config_expr flowc cannot resolve",
    # modules and base classes
    "FC720": "base class from an installed package",
    "FC721": "base class flowc cannot read",
    # Metaflow options and user decorators
    "FC740": "step mutator",
    "FC741": "flow mutator",
}


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a registered code, its severity, where (a span), and a hint."""

    code: str
    severity: str
    message: str
    span: Span
    hint: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")
        if self.severity not in _RANK:
            raise ValueError(f"unknown severity {self.severity}")

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.col, _RANK[self.severity], self.code, self.message)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "file": self.span.file,
            "line": self.span.line,
            "col": self.span.col,
            "end_line": self.span.end_line,
            "end_col": self.span.end_col,
        }


class CompileError(Exception):
    """Raised by the pipeline when a flow has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, list[str]] | None = None):
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        self.sources = dict(sources or {})  # file -> lines, to show the source line
        first = next((d for d in self.diagnostics if d.is_error), None)
        super().__init__(f"{first.code}: {first.message}" if first else "compile error")


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


# ---------------------------------------------------------------- renderers


def render_text(diag: Diagnostic, source_lines: list[str] | None, color: bool = False) -> str:
    """Render like a compiler: location, code, message, the line and a caret, the hint."""
    sp = diag.span
    sev = diag.severity
    if color:
        tint = {ERROR: "31", WARNING: "33", NOTE: "36"}[sev]
        sev = f"\x1b[1;{tint}m{sev}\x1b[0m"
    out = [f"{sp.file}:{sp.line}:{sp.col}: {sev} {diag.code}: {diag.message}"]
    if source_lines and 1 <= sp.line <= len(source_lines):
        text = source_lines[sp.line - 1].rstrip("\n").expandtabs(1)
        gutter = f"{sp.line:>5} | "
        out.append(gutter + text)
        start = max(sp.col - 1, 0)
        if sp.end_line == sp.line and sp.end_col > sp.col:
            width = sp.end_col - sp.col
        else:
            width = max(len(text.rstrip()) - start, 1)
        width = max(1, min(width, max(len(text) - start, 1)))
        out.append(" " * 5 + " | " + " " * start + "^" * width)
    if diag.hint:
        out.append(f"      = hint: {diag.hint}")
    for note in diag.notes:
        out.append(f"      = note: {note}")
    return "\n".join(out)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2, sort_keys=True)


def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def render_github(diag: Diagnostic) -> str:
    """One GitHub Actions workflow command (::error file=...::message)."""
    kind = {ERROR: "error", WARNING: "warning", NOTE: "notice"}[diag.severity]
    sp = diag.span
    props = (
        f"file={_gh_escape(sp.file, True)},line={sp.line},col={sp.col},"
        f"endLine={sp.end_line},endColumn={sp.end_col},"
        f"title={_gh_escape(diag.code + ' ' + CODES[diag.code], True)}"
    )
    message = diag.message + (f" (hint: {diag.hint})" if diag.hint else "")
    return f"::{kind} {props}::{_gh_escape(message)}"
