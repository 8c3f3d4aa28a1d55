"""Large flows: nothing in the compiler or a target recurses once per step,
and what a target writes grows in proportion to the flow (not timed: the
times are benchmarks/scale_bench.py's)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from gen import linear_flow, wide_branch_flow  # noqa: E402

TARGETS = ["argo", "airflow", "prefect", "stepfunctions"]
# far below the number of steps: a walk that recursed once per step would fail
LIMIT = 400


def _analyze(tmp_path: Path, name: str, text: str):
    from flowc.compiler import analyze_file

    path = tmp_path / name
    path.write_text(text)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(LIMIT)
    try:
        analysis = analyze_file(path)
    finally:
        sys.setrecursionlimit(old)
    assert analysis.ok, [d.message for d in analysis.diagnostics][:3]
    return analysis.flow()


def _compile(flow, target: str) -> dict[str, bytes]:
    from flowc.targets import registry

    cls = registry.get(target)
    instance = cls({"code_package": "s3://bucket/flow.tar.gz"})
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(LIMIT)
    try:
        return instance.compile(flow).files
    finally:
        sys.setrecursionlimit(old)


@pytest.fixture(scope="module")
def flows(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    return {
        "linear-1000": _analyze(tmp, "linear_1000.py", linear_flow(1000)),
        "linear-2000": _analyze(tmp, "linear_2000.py", linear_flow(2000)),
        "wide-600": _analyze(tmp, "wide_600.py", wide_branch_flow(600)),
    }


def test_the_ir_of_a_long_flow(flows) -> None:
    flow = flows["linear-2000"]
    assert len(flow.steps) == len(flow.order) == 2000
    assert flow.order[0] == "start" and flow.order[-1] == "end"
    assert flow.step("step_1998").parents == ("step_1997",)
    wide = flows["wide-600"]
    assert len(wide.step("join").parents) == 600 and len(wide.step("start").next) == 600


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_compiles_long_and_wide_flows_in_proportion(flows, target: str) -> None:
    sizes = {}
    for name, flow in flows.items():
        files = _compile(flow, target)
        sizes[name] = sum(len(data) for data in files.values())
        text = b"".join(files.values())
        for step in ("start", "end", "step_1998" if name == "linear-2000" else "join" if name == "wide-600" else
                     "step_998"):
            assert step.encode() in text, (target, name, step)
    # twice the steps, about twice the bytes (a per-step cost, nothing quadratic)
    assert 1.8 < sizes["linear-2000"] / sizes["linear-1000"] < 2.2, sizes
