"""Emitted Argo YAML, executed: the harness walks the DAG as Argo's controller
would and runs every container's command here, against a local datastore.
tests/targets/test_matrix.py runs every corpus flow the target compiles this
way and compares its artifacts with `flowc run`'s; these tests run what the
corpus does not: code in the image, parameters given at submission,
retries, switches taking each case, failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support import engines
from tests.support.artifacts import flowc_run, run_artifacts
from tests.targets.argo.argo_harness import Harness

pytestmark = pytest.mark.engine

# The secrets' values the harness gives envFrom (Kubernetes would read the Secret objects).
SECRETS = {"db-credentials": {"DB_PASSWORD": "not-a-real-one"}, "api-token": {"API_TOKEN": "nor-this"}}


def run_on_argo(path: Path, tmp_path: Path, params: dict[str, str] | None = None, *, package: bool = True,
                options: dict | None = None, unsupported: str = "error") -> tuple[Harness, object, Path]:
    """Compile for Argo, upload the code package (`flowc package`), run the
    WorkflowTemplate in the harness; returns the harness, its result and the datastore."""
    ds = tmp_path / "datastore"
    harness, result = engines.run_on_argo(path, tmp_path / "pod-workdir", ds, params, package=package,
                                          options=options, unsupported=unsupported, secrets=SECRETS)
    return harness, result, ds


def same_as_flowc_run(path: Path, ds: Path, flow_name: str, params: dict | None = None) -> None:
    flowc_run(path, ds, "local-run", params)
    argo = run_artifacts(str(ds), flow_name, "argo-run")
    local = run_artifacts(str(ds), flow_name, "local-run")
    assert argo, "the Argo run stored nothing"
    assert argo == local


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
