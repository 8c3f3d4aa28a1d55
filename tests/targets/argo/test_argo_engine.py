"""Emitted Argo YAML, executed: the harness walks the DAG as Argo's controller
would and runs every container's command here, against a local datastore;
the artifacts must equal those of `flowc run` for the same flow and
parameters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import ALL_FLOWS, REPO, flow_id
from tests.support.artifacts import flowc_run, run_artifacts
from tests.targets.argo.argo_checks import load_documents
from tests.targets.argo.argo_harness import Harness
from tests.targets.argo.argo_support import UNSUPPORTED, compile_argo, single_file

pytestmark = pytest.mark.engine

PARAMS = {"tests/flows/required_params.py": {"dataset": "iris"}}
# The harness runs every container with this machine's Python, not in an image:
# steps with pinned packages build their environment at start (bootstrap), as
# a pod of the default image would.
OPTIONS = {"examples/recsys.py": {"environments": "bootstrap"}}
SECRETS = {"db-credentials": {"DB_PASSWORD": "not-a-real-one"}, "api-token": {"API_TOKEN": "nor-this"}}


def run_on_argo(path: Path, tmp_path: Path, params: dict[str, str] | None = None, *, package: bool = True,
                options: dict | None = None, unsupported: str = "error") -> tuple[Harness, object, Path]:
    """Compile for Argo, upload the code package (`flowc package`), run the
    WorkflowTemplate in the harness; returns the harness, its result and the datastore."""
    ds = tmp_path / "datastore"
    ds.mkdir(parents=True, exist_ok=True)
    work = tmp_path / "pod-workdir"
    work.mkdir(exist_ok=True)
    out = compile_argo(path, {"datastore": str(ds), **(options or {})}, package=package, unsupported=unsupported)
    doc = load_documents(single_file(out))[0]
    if package:  # `flowc package FLOW.py --datastore DS`, in this process
        assert flowc_cli(["package", str(path), "--datastore", str(ds)]) == 0
    else:  # the code baked into the image: the flow and its IR in the container's working folder
        from flowc.compiler import ir
        from tests.conftest import load_ir

        flow = load_ir(path)
        (work / path.name).write_bytes(path.read_bytes())
        (work / f"{flow.name}.ir.json").write_text(ir.dump(flow))
    harness = Harness(doc, workdir=str(work), run_name="argo-run", params=params, secrets=SECRETS)
    return harness, harness.run(), ds


def flowc_cli(argv: list[str]) -> int:
    import contextlib
    import io
    import os

    from flowc.cli import main

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return main(argv)
    finally:
        os.chdir(cwd)


def same_as_flowc_run(path: Path, ds: Path, flow_name: str, params: dict | None = None) -> None:
    flowc_run(path, ds, "local-run", params)
    argo = run_artifacts(str(ds), flow_name, "argo-run")
    local = run_artifacts(str(ds), flow_name, "local-run")
    assert argo, "the Argo run stored nothing"
    assert argo == local


def flow_name(path: Path) -> str:
    from tests.conftest import load_ir

    return load_ir(path).name


@pytest.mark.parametrize("path", ALL_FLOWS, ids=flow_id)
def test_runs_like_flowc_run(path, tmp_path):
    rel = path.relative_to(REPO).as_posix()
    params = PARAMS.get(rel)
    harness, result, ds = run_on_argo(path, tmp_path, params, options=OPTIONS.get(rel),
                                      unsupported="warn" if rel in UNSUPPORTED else "error")
    assert result.phase == "Succeeded", result.message
    same_as_flowc_run(path, ds, flow_name(path), params)


MORE = sorted((REPO / "tests/targets/argo/flows").glob("*.py"))


@pytest.mark.parametrize("path", MORE, ids=lambda p: p.stem)
def test_more_topologies(path, tmp_path):
    """Switches, branches and a recursive switch inside (nested) foreach bodies."""
    harness, result, ds = run_on_argo(path, tmp_path)
    assert result.phase == "Succeeded", result.message
    same_as_flowc_run(path, ds, flow_name(path))


def test_code_in_the_image(tmp_path):
    path = REPO / "examples/foreach_flow.py"
    harness, result, ds = run_on_argo(path, tmp_path, {"count": "3"}, package=False)
    assert result.phase == "Succeeded", result.message
    assert all("--package" not in pod.argv for pod in harness.pods)
    same_as_flowc_run(path, ds, "ForeachFlow", {"count": "3"})


def test_parameters_given_at_submission(tmp_path):
    path = REPO / "tests/flows/parameters.py"
    params = {"text": "bonjour", "count": "2", "ratio": "1.5", "flag": "false", "options": '{"depth": 9}',
              "weights": "[1, 2, 3]", "lr": "0.5"}
    _, result, ds = run_on_argo(path, tmp_path, params)
    assert result.phase == "Succeeded", result.message
    same_as_flowc_run(path, ds, "ParametersFlow", params)
    seen = run_artifacts(str(ds), "ParametersFlow", "argo-run")["start"]["0"]["seen"]
    assert seen == {"text": "bonjour", "count": 2, "ratio": 1.5, "flag": False, "options": {"depth": 9},
                    "weights": [1, 2, 3], "lr": 0.5}


def test_hostile_values_given_at_submission_arrive_literally(tmp_path):
    path = REPO / "tests/flows/hostile.py"
    params = {"quote": "{{workflow.name}} {{pod.name}} {{retries}}", "template": "{{inputs.parameters.param-quote}}",
              "backslash": "{{=sprig.env('HOME')}} \\u007b \\", "unicode_text": "{{=1+1}}}}{{",
              "payload": '{"a": "{{workflow.uid}}", "b": "${HOME}", "c": "$.x"}'}
    _, result, ds = run_on_argo(path, tmp_path, params)
    assert result.phase == "Succeeded", result.message
    values = run_artifacts(str(ds), "HostileFlow", "argo-run")["start"]["0"]["values"]
    assert values[:4] == [params["quote"], params["template"], params["backslash"], params["unicode_text"]]
    assert values[4] == {"a": "{{workflow.uid}}", "b": "${HOME}", "c": "$.x"}
    same_as_flowc_run(path, ds, "HostileFlow", params)


def test_required_parameter_must_be_given(tmp_path):
    from tests.targets.argo.argo_harness import HarnessError

    with pytest.raises(HarnessError, match="dataset"):
        run_on_argo(REPO / "tests/flows/required_params.py", tmp_path)


def test_retries_run_the_attempts_the_runtime_counts(tmp_path):
    path = REPO / "tests/flows/retry_catch.py"
    harness, result, ds = run_on_argo(path, tmp_path)
    assert result.phase == "Succeeded", result.message
    attempts = {}
    for pod in harness.pods:
        attempts.setdefault(pod.template, []).append((pod.attempt, pod.returncode))
    assert attempts["flaky"] == [(0, 1), (1, 0)]
    assert attempts["broken"] == [(0, 1), (1, 0)]  # @catch turns the last attempt into a success
    assert [pod.argv[pod.argv.index("--attempt") + 1] for pod in harness.pods if pod.template == "flaky"] == ["0", "1"]


def test_switch_skips_the_cases_not_taken(tmp_path):
    path = REPO / "examples/switch_flow.py"
    for rows, taken in (("5000", "full_retrain"), ("10", "incremental")):
        harness, result, ds = run_on_argo(path, tmp_path / rows, {"rows": rows})
        assert result.phase == "Succeeded", result.message
        steps = [p.argv[p.argv.index("--step") + 1] for p in harness.pods]
        assert steps == ["start", taken, "publish", "end"]
        same_as_flowc_run(path, ds, "SwitchFlow", {"rows": rows})


MIXED = """
    from flowc import FlowSpec, Parameter, step

    class MixedFlow(FlowSpec):
        mode = Parameter("mode", default="a")

        @step
        def start(self):
            self.route = self.mode
            self.next({"a": self.a, "b": self.merge}, condition="route")

        @step
        def a(self):
            self.via_a = True
            self.next(self.merge)

        @step
        def merge(self):
            self.came = self.route
            self.next(self.end)

        @step
        def end(self):
            self.done = True
    """


@pytest.mark.parametrize("mode", ["a", "b"])
def test_switch_case_into_a_step_reached_another_way(tmp_path, mode):
    path = tmp_path / "mixed.py"
    path.write_text(textwrap.dedent(MIXED))
    harness, result, ds = run_on_argo(path, tmp_path, {"mode": mode})
    assert result.phase == "Succeeded", result.message
    same_as_flowc_run(path, ds, "MixedFlow", {"mode": mode})
    assert "merge" in run_artifacts(str(ds), "MixedFlow", "argo-run")


FAILING = """
    from flowc import FlowSpec, step

    class FailingFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.boom)

        @step
        def boom(self):
            raise RuntimeError("no")
            self.next(self.end)

        @step
        def end(self):
            pass
    """


def test_a_failed_step_fails_the_run_and_nothing_after_it_runs(tmp_path):
    path = tmp_path / "failing.py"
    path.write_text(textwrap.dedent(FAILING))
    harness, result, ds = run_on_argo(path, tmp_path)
    assert result.phase == "Failed"
    assert [p.argv[p.argv.index("--step") + 1] for p in harness.pods] == ["start", "boom"]
