"""One fixture per diagnostic (tests/diagnostics/FCxxx_*.py): each file must
produce exactly the diagnostics its `# expect:` comments name, at those
lines and columns; and every diagnostic code flowc defines for flows has a
fixture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowc.compiler import analyze_file
from flowc.compiler.diagnostics import CODES, render_text

from tests.conftest import REPO

FIXTURES = sorted((REPO / "tests" / "diagnostics").glob("FC*.py"))
_EXPECT = re.compile(r"# expect: (.*)$")
_EXPECT_FILE = re.compile(r"# expect-file: (FC\d+)")


def expected(path: Path) -> list[tuple[str, int, int | None]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            for item in m.group(1).split(","):
                code, _, col = item.strip().partition("@")
                out.append((code, number, int(col) if col else None))
        m = _EXPECT_FILE.search(line)
        if m:
            out.append((m.group(1), 1, 1))
    return sorted(out, key=lambda x: (x[0], x[1], x[2] or 0))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_reports_exactly_what_it_expects(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    analysis = analyze_file(path)
    got = sorted(((d.code, d.span.line, d.span.col) for d in analysis.diagnostics), key=lambda x: (x[0], x[1], x[2]))
    want = expected(path)
    got_cmp = [(c, l, col if w_col is not None else None) for (c, l, col), (_, _, w_col) in zip(got, want)] \
        if len(got) == len(want) else got
    rendered = "\n".join(render_text(d, analysis.source_lines) for d in analysis.diagnostics)
    assert got_cmp == want, f"diagnostics differ\n{rendered}"


def test_the_file_name_is_the_code_it_tests() -> None:
    for path in FIXTURES:
        code = path.stem.split("_")[0]
        assert code in {c for c, _, _ in expected(path)}, f"{path.name} does not expect {code}"


def test_every_flow_diagnostic_code_has_a_fixture() -> None:
    covered = {p.stem.split("_")[0] for p in FIXTURES}
    # FC003 (unreadable file) and FC004 (--flow) are tested in test_cli; FC5xx are target codes and FC6xx
    # environment codes, tested with the targets and environments.
    flow_codes = {c for c in CODES if c[2] in "01234" and c not in ("FC003", "FC004")}
    assert flow_codes - covered == set(), f"codes without a fixture: {sorted(flow_codes - covered)}"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_diagnostic_has_a_message_hint_and_caret(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    analysis = analyze_file(path)
    for d in analysis.diagnostics:
        text = render_text(d, analysis.source_lines)
        assert text.startswith(f"{d.span.file}:{d.span.line}:{d.span.col}: {d.severity} {d.code}: ")
        assert "^" in text.splitlines()[2], text
        if d.severity != "note":
            assert d.hint, f"{d.code} has no hint: {d.message}"
