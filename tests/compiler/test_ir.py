"""The IR: golden files, JSON round trip, determinism, and the graph facts
derived once for every target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flowc.compiler import ir, load_flow
from tests.conftest import ALL_FLOWS, GOLDEN, REPO, check_golden, flow_id, load_ir

RUNNABLE = [p for p in ALL_FLOWS]


@pytest.mark.parametrize("path", RUNNABLE, ids=flow_id)
def test_ir_golden(path: Path, regen: bool) -> None:
    text = ir.dump(load_ir(path)).encode("utf-8")
    check_golden(GOLDEN / "ir" / f"{flow_id(path)}.ir.json", text, regen)


@pytest.mark.parametrize("path", RUNNABLE, ids=flow_id)
def test_round_trip(path: Path) -> None:
    flow = load_ir(path)
    assert ir.load(ir.dump(flow)) == flow
    assert ir.dump(ir.load(ir.dump(flow))) == ir.dump(flow)


@pytest.mark.parametrize("path", RUNNABLE, ids=flow_id)
def test_same_bytes_every_time_and_from_any_folder(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    first = ir.dump(load_flow(path))
    monkeypatch.chdir(path.parent)
    second = ir.dump(load_flow(path.name))
    assert first == second
    assert str(REPO) not in first and "\\" not in json.loads(first)["source"]["path"]


def test_schema_version_is_checked() -> None:
    data = json.loads(ir.dump(load_ir(REPO / "tests/flows/linear.py")))
    data["schema_version"] = 999
    with pytest.raises(ir.SchemaVersionError, match="recompile"):
        ir.load(json.dumps(data))


def flow(name: str) -> ir.Flow:
    return load_ir(REPO / "tests" / "flows" / f"{name}.py")


def test_branch_join_groups_and_matching() -> None:
    f = flow("branch")
    assert f.step("start").matching_join == "join"
    assert f.step("join").closes == "start"
    assert f.step("join").parent_groups == (("a",), ("b",), ("c",))
    assert f.order == ("start", "a", "b", "c", "join", "end")


def test_switch_inside_a_branch_gives_a_group_of_alternatives() -> None:
    f = flow("branch_switch")
    join = f.step("join")
    assert join.parents == ("fast", "slow", "right") or set(join.parents) == {"fast", "slow", "right"}
    assert join.parent_groups == (("fast", "slow"), ("right",))
    assert f.step("left").kind == ir.SWITCH and f.step("left").matching_join is None


def test_switch_convergence_waits_for_one_of_its_cases() -> None:
    f = flow("switch")
    assert f.step("merge").parent_groups == (("big", "medium", "small"),)
    assert f.step("merge").kind == ir.LINEAR


def test_nested_foreach_stacks_and_joins() -> None:
    f = flow("nested_foreach")
    assert f.step("row").foreach_stack == ("start",)
    assert f.step("cell").foreach_stack == ("start", "row")
    assert f.step("row_join").closes == "row" and f.step("row_join").foreach_stack == ("start",)
    assert f.step("all_join").closes == "start" and f.step("all_join").foreach_stack == ()
    assert f.step("row").matching_join == "row_join"


def test_multi_step_foreach_body() -> None:
    f = flow("foreach_body")
    for name in ("prepare", "train", "evaluate"):
        assert f.step(name).foreach_stack == ("start",)
    assert f.step("join").parent_groups == (("evaluate",),)


def test_recursive_switch() -> None:
    f = flow("recursive_switch")
    loop = f.step("loop")
    assert loop.is_recursive and loop.parents == ("start",)
    assert loop.cases == {"again": "loop", "done": "finish"}
    assert f.step("finish").parents == ("loop",)


def test_parameters_are_typed_with_json_defaults() -> None:
    f = flow("parameters")
    by_name = {p.name: p for p in f.parameters}
    assert {n: p.type for n, p in by_name.items()} == {
        "text": "str", "count": "int", "ratio": "float", "flag": "bool", "options": "json", "weights": "json",
        "lr": "float"}
    assert by_name["options"].default == {"depth": 2, "tags": ["a", "b"]}
    assert by_name["lr"].attribute == "learning_rate"
    req = {p.name: p for p in flow("required_params").parameters}
    assert req["dataset"].required and req["dataset"].default is None
    assert req["limit"].type == "int" and not req["limit"].required


def test_decorators_are_typed_fields() -> None:
    f = flow("resources")
    train = f.step("train").decorators
    assert train.resources.gpu == 2 and train.resources.memory == 16384 and train.resources.cpu == 8.0
    assert train.kubernetes.node_selector == {"node.kubernetes.io/instance-type": "p3.8xlarge"}
    assert train.kubernetes.tolerations[0].key == "nvidia.com/gpu"
    assert train.kubernetes.namespace == "ml-jobs"
    rc = flow("retry_catch")
    assert rc.step("flaky").decorators.retry.times == 2
    assert rc.step("flaky").decorators.retry.minutes_between_retries == 0.0
    assert rc.step("broken").decorators.catch.var == "error"
    assert rc.step("slow").decorators.timeout.seconds == 30
    sched = flow("schedule").decorators
    assert sched.schedule.cron == "30 2 * * 1-5" and sched.schedule.timezone == "Europe/Paris"
    assert sched.project.name == "forecasting"
    env = flow("environment").step("start").decorators.environment
    assert env.vars == {"MODE": "fast", "THREADS": "4"}


def test_artifacts_read_and_written() -> None:
    f = flow("linear")
    assert f.step("a").reads == ("log", "x") and f.step("a").writes == ("log", "x")
    assert f.step("end").reads == ("log", "x", "y")
    merge = flow("merge").step("join2").merge
    assert merge.include == ("counter", "left_only", "right_only", "shared")


def test_every_node_carries_file_line_and_column() -> None:
    f = load_ir(REPO / "examples" / "recsys.py")
    spans = [f.span] + [s.span for s in f.steps] + [p.span for p in f.parameters]
    spans += [s.next_span for s in f.steps if s.next_span]
    spans += [f.step("fit_a").decorators.pypi.span, f.step("fit_b").decorators.resources.span]
    for span in spans:
        assert span.file == "examples/recsys.py" and span.line > 0 and span.col > 0
    assert f.step("ensemble").span.line == next(
        i for i, line in enumerate((REPO / "examples/recsys.py").read_text().splitlines(), 1)
        if "def ensemble" in line)


def test_metaflow_imports_read_the_same_as_flowc_imports(tmp_path: Path) -> None:
    src = (REPO / "tests/flows/branch.py").read_text()
    (tmp_path / "a.py").write_text(src)
    (tmp_path / "b.py").write_text(src.replace("from flowc import", "from metaflow import"))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        a, b = load_flow("a.py"), load_flow("b.py")
    finally:
        os.chdir(old)
    strip = lambda f: json.loads(ir.dump(f).replace('"b.py"', '"a.py"'))  # noqa: E731
    da, db = strip(a), strip(b)
    da["source"].pop("sha256"), db["source"].pop("sha256")
    assert da == db


def test_the_runtime_reads_the_same_schema_version() -> None:
    from flowc.runtime import plan

    assert plan.SCHEMA_VERSION == ir.SCHEMA_VERSION


def test_the_runtimes_view_names_only_fields_the_ir_declares() -> None:
    """runtime/plan.py reads the IR's JSON without importing compiler/ir.py (the
    runtime ships without the compiler): each field of its view must be one
    compiler/ir.py declares, so the two cannot drift apart unnoticed."""
    import dataclasses

    from flowc.runtime import plan

    step_fields = {f.name for f in dataclasses.fields(ir.Step)}
    own = {"line"}  # the view's: Step.span.line
    assert set(plan.StepPlan._fields) - own <= step_fields  # the view is a NamedTuple
    flow_fields = {f.name for f in dataclasses.fields(ir.Flow)}
    derived = {"steps", "source_path", "source_sha", "modules", "raw"}  # from Flow.steps and Flow.source
    assert set(plan.FlowPlan._fields) - derived <= flow_fields
    source_fields = {f.name for f in dataclasses.fields(ir.Source)}
    assert {"path", "sha256", "modules"} <= source_fields
