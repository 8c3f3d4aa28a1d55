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


# ---- reproductions: each must be rejected with a code and a position, or compile to outputs that parse

from tests.fuzz.harness import TARGETS, run_case  # noqa: E402

HEAD = "from metaflow import FlowSpec, step, Parameter, JSONType, resources\n"


def branchy(cls: str = "F", pre: str = "", members: str = "", start_deco: str = "", start_doc: str = "",
            join_next: bool = True) -> str:
    return (HEAD + pre + f"class {cls}(FlowSpec):\n{members}"
            f"{start_deco}    @step\n    def start(self):\n{start_doc}        self.next(self.a, self.b)\n"
            "    @step\n    def a(self):\n        self.next(self.j)\n"
            "    @step\n    def b(self):\n        self.next(self.j)\n"
            "    @step\n    def j(self, inputs):\n" + ("        self.next(self.end)\n" if join_next else "        pass\n")
            + "    @step\n    def end(self):\n        pass\n")


def outcome(text: str) -> dict[str, tuple[str, str]]:
    result = run_case(text, seconds=10)
    for stage, (kind, detail) in result.items():
        assert kind in ("ok", "rejected"), (stage, kind, detail)
    return result


def codes(text: str) -> set[str]:
    return {d.code for d in analyze_source(text, "fuzz.py").diagnostics}


def test_deep_parentheses_are_fc006_not_a_crash() -> None:
    for text in ("x = " + "(" * 10_000 + ")" * 10_000, "x = " + "[" * 10_000 + "]" * 10_000 + "\n)",
                 "x = " + "-" * 100_000 + "1", "x = " + "not " * 50_000 + "1", "x = a" + ".b" * 50_000,
                 "x = " + "1+" * 50_000 + "1"):
        diags = analyze_source(text + "\n", "fuzz.py").diagnostics
        assert diags and diags[0].code == "FC006" and diags[0].span.line == 1, diags


def test_deep_parentheses_report_where() -> None:
    diag = analyze_source("y = 1\nx = " + "(" * 1000 + ")" * 1000 + "\n", "fuzz.py").diagnostics[0]
    assert (diag.code, diag.span.line) == ("FC006", 2) and diag.span.col > 1


def test_huge_power_at_module_level_is_bounded() -> None:
    import time

    t = time.monotonic()
    result = outcome(branchy(pre="BIG = 9 ** 9 ** 9\n"))
    assert time.monotonic() - t < 5
    assert result["check"][0] == "ok"  # BIG is unused: the flow is fine
    used = branchy(pre="BIG = 9 ** 9 ** 9\n", members="    p = Parameter('p', default=BIG)\n")
    assert outcome(used)["check"][0] == "rejected"


def test_resources_out_of_range_are_rejected() -> None:
    for value in ("10**400", "1e999", "-1e999", "2**64", "1" + "0" * 100):
        text = branchy(start_deco=f"    @resources(cpu={value})\n")
        assert outcome(text)["check"][0] == "rejected", value


def test_non_finite_parameter_defaults_are_rejected() -> None:
    assert outcome(branchy(members="    p = Parameter('p', default=1e999)\n"))["check"][0] == "rejected"
    for doc in ('{"a": NaN}', '[Infinity]', '{"a": -Infinity}', '[1e999]'):
        text = branchy(members=f"    p = Parameter('p', type=JSONType, default='{doc}')\n")
        assert "FC304" in codes(text), doc


def test_whitespace_docstring_compiles_on_every_target() -> None:
    for doc in ('        """   """\n', '        """\n   \n        """\n', "        '''\\t'''\n"):
        result = outcome(branchy(start_doc=doc))
        assert all(result[t][0] == "ok" for t in ("check",) + TARGETS), result


def test_long_json_key_gives_yaml_that_loads() -> None:
    key = "k" * 1100
    text = branchy(members=f"    p = Parameter('p', type=JSONType, default='{{\"{key}\": {{\"{key}x\": 1}}}}')\n")
    result = outcome(text)
    assert result["prefect"][0] == "ok", result


def test_long_flow_class_name_compiles_and_packages() -> None:
    import io
    import tarfile

    from flowc.runtime.package import build

    name = "Long" + "Abc" * 30
    result = outcome(branchy(cls=name))
    assert all(result[t][0] == "ok" for t in TARGETS), result
    data = build({"f.py": b"x", f"{name}.ir.json": b"{}"})
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == sorted(["f.py", f"{name}.ir.json"])
    assert build({"f.py": b"x"}) == build({"f.py": b"x"})


def test_join_without_next_is_fc107() -> None:
    text = branchy(join_next=False)
    diags = [d for d in analyze_source(text, "fuzz.py").diagnostics if d.code == "FC107"]
    assert diags and diags[0].span.line == text.splitlines().index("    def j(self, inputs):") + 1


def test_what_metaflow_check_refuses_is_refused() -> None:
    """Found by comparing generated flows with Metaflow's own check."""
    start_join = HEAD + ("class F(FlowSpec):\n    @step\n    def start(self, inputs):\n        self.next(self.end)\n"
                         "    @step\n    def end(self):\n        pass\n")
    assert "FC114" in codes(start_join)
    assert "FC403" in codes(branchy(start_deco="    @retry(times=5)\n").replace("resources\n", "resources, retry\n"))
    assert "FC403" not in codes(branchy(start_deco="    @retry(times=4)\n").replace("resources\n", "resources, retry\n"))
    catch_foreach = HEAD.replace("resources", "catch") + (
        "class F(FlowSpec):\n    @catch\n    @step\n    def start(self):\n        self.xs = [1]\n"
        "        self.next(self.a, foreach='xs')\n    @step\n    def a(self):\n        self.next(self.j)\n"
        "    @step\n    def j(self, inputs):\n        self.next(self.end)\n    @step\n    def end(self):\n        pass\n")
    diags = [d for d in analyze_source(catch_foreach, "fuzz.py").diagnostics if d.code == "FC406"]
    assert diags and diags[0].span.line == 3


def test_the_depth_precheck_skips_only_statements_too_short_to_be_too_deep() -> None:
    """compiler/parse._ast_depth does not enter a one-line statement too short
    to nest past the limit: on every shape of nesting, at every depth around
    the limit, inside a function or not, its verdict is a full walk's."""
    import ast

    from flowc.compiler.parse import MAX_DEPTH, _ast_depth

    def full(tree: ast.AST) -> int:
        stack, deepest = [(tree, 1)], 0
        while stack:
            node, depth = stack.pop()
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        return deepest

    shapes = [lambda n: "(" * n + "1" + ")" * n, lambda n: "-" * n + "1", lambda n: "not " * n + "1",
              lambda n: "a" + ".b" * n, lambda n: "1+" * n + "1", lambda n: "f(" * n + ")" * n,
              lambda n: "[" * n + "]" * n, lambda n: "x" + "[0]" * n, lambda n: "lambda: " * n + "1"]
    checked = 0
    for shape in shapes:
        for n in range(max(1, MAX_DEPTH // 4 - 10), MAX_DEPTH + 10, 3):
            for text in (f"x = {shape(n)}\n", f"def f():\n    if x:\n        y = {shape(n)}\n"):
                try:
                    tree = ast.parse(text)
                except (SyntaxError, RecursionError, MemoryError):
                    continue
                assert (_ast_depth(tree)[0] > MAX_DEPTH) == (full(tree) > MAX_DEPTH), text[:80]
                checked += 1
    assert checked > 200
