"""Whatever a file holds, the analysis gives diagnostics, never a traceback."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.compiler import analyze_source
from tests.conftest import ALL_FLOWS, REPO

CORPUS = [p.read_text() for p in ALL_FLOWS] + [p.read_text() for p in sorted((REPO / "tests/diagnostics").glob("*.py"))]
TOKENS = ["self.next(self.end)", "self.next(self.a, self.b)", "@step", "def x(self, inputs):", "foreach='items'",
          "condition='c'", "{", "}", "(", ")", ":", "\n", "    ", "@retry(times=)", "Parameter(", "class F(FlowSpec):",
          "import metaflow", "lambda:", "'''", "\\", "\x00", "é", "self.", "inputs.", "return", "yield", "async "]


def analyze(text: str) -> None:
    analysis = analyze_source(text, "fuzz.py")
    for d in analysis.diagnostics:
        assert d.span.line >= 1 and d.span.col >= 1 and d.code.startswith("FC")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    analyze(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 60),
                                                   st.sampled_from(TOKENS)), max_size=6))
def test_mutated_flows(source: str, edits: list[tuple[int, int, str]]) -> None:
    """Real flows with pieces cut out and tokens spliced in: still no traceback."""
    text = source
    for pos, cut, token in edits:
        pos %= max(len(text), 1)
        text = text[:pos] + token + text[pos + cut:]
    analyze(text)


def test_deleting_each_line_of_every_fixture() -> None:
    rng = random.Random(7)
    for source in CORPUS:
        lines = source.splitlines()
        for i in rng.sample(range(len(lines)), min(8, len(lines))):
            analyze("\n".join(lines[:i] + lines[i + 1:]))


def test_deep_nesting_and_huge_literals() -> None:
    analyze("x = " + "(" * 500 + ")" * 500)
    analyze("from flowc import FlowSpec, step\nclass F(FlowSpec):\n    N = [" + "1," * 20000 + "]\n")
    analyze("from flowc import FlowSpec, step, retry\nX = " + "[" * 300 + "]" * 300 + "\n"
            "class F(FlowSpec):\n    @retry(times=X)\n    @step\n    def start(self):\n        self.next(self.end)\n"
            "    @step\n    def end(self):\n        pass\n")
