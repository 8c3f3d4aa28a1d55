"""The GitHub Action (action.yml) as a runner runs it, outside this
repository: its checkout (a copy of this one), a Python with pip where
actions/setup-python would put one, its install step pip-installing flowc
from that checkout, then its main step with the variables GitHub sets
(GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, ...) pointing at files read here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.product.conftest import CONSTRAINTS, UV, Dists, Installed, install, ok, outside_repo, sh
from tests.project.conftest import FLOWS, files_under, make_project
from tests.project.test_ci import ACTION, expand, step

PROJECT = "services/ml"


@pytest.fixture(scope="module")
def runner(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The job's Python after the action's install step: flowc's dependencies
    come from the pinned set (this machine reaches no other index); flowc
    itself only from the install step."""
    python = install("action", f"{dists.wheel}[s3]", outside_repo(tmp_path_factory.mktemp("runner")), seed=True)
    ok(sh(UV, "pip", "uninstall", "--quiet", "--python", python.bin / "python", "flowc"))
    assert not (python.bin / "flowc").exists()
    python.env.update(PIP_CONSTRAINT=str(CONSTRAINTS), PIP_DISABLE_PIP_VERSION_CHECK="1")
    installed = run_step("Install flowc", {}, dists.source, python, dists.source)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def run_step(name: str, given: dict[str, str], workspace: Path, python: Installed, action_path: Path,
             github: Path | None = None) -> subprocess.CompletedProcess:
    """One `run` step: bash -eo pipefail, its env with the inputs expanded,
    its working-directory, and GitHub's variables."""
    inputs = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
    assert set(given) <= set(inputs)
    inputs.update(given)
    s = step(name)
    env = {**python.env, **{k: expand(str(v), inputs, action_path) for k, v in s.get("env", {}).items()},
           "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_ACTION_PATH": str(action_path),
           "GITHUB_WORKSPACE": str(workspace)}
    if github:
        github.mkdir(parents=True, exist_ok=True)
        for variable in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
            (github / variable).touch()
            env[variable] = str(github / variable)
    cwd = outside_repo(workspace / expand(s.get("working-directory", "."), inputs, action_path))
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def outputs(github: Path) -> dict:
    lines = (github / "GITHUB_OUTPUT").read_text().splitlines()
    return {k: json.loads(v) for k, v in (line.split("=", 1) for line in lines)}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = outside_repo(tmp_path / "ws")
    make_project(ws / PROJECT, '[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow", "stepfunctions"]\n')
    ok(sh("git", "init", "-q", cwd=ws))
    return ws


def test_the_install_step_installs_flowc_from_the_actions_checkout(runner: Installed, dists: Dists) -> None:
    record = next(runner.venv.glob("lib/python*/site-packages/flowc-*.dist-info/direct_url.json"))
    assert json.loads(record.read_text())["url"] == dists.source.as_uri()
    assert ok(runner.flowc("--version", cwd=runner.venv)).stdout.startswith("flowc ")
    ok(runner.python("-c", "import s3fs, flowc.commands.publish", cwd=runner.venv))  # with the s3 extra


def test_the_action_checks_compiles_publishes_and_reports(runner: Installed, dists: Dists, workspace: Path,
                                                          tmp_path: Path) -> None:
    github = tmp_path / "github"
    to = tmp_path / "published" / "{target}"
    result = run_step("Check, compile and publish", {"project": PROJECT, "to": str(to)}, workspace, runner,
                      dists.source, github)
    assert result.returncode == 0, result.stdout + result.stderr
    for group in ("flowc check", "flowc compile", "flowc publish airflow", "flowc publish stepfunctions"):
        assert f"::group::{group}\n" in result.stdout
    out = outputs(github)
    assert set(out) == {name for name in ACTION["outputs"]}  # every output action.yml declares, and no other
    assert out["flows"] == [f"{PROJECT}/flows/{name}" for name in sorted(FLOWS)]
    assert out["targets"] == ["airflow", "stepfunctions"]
    assert out["folders"] == {t: f"{PROJECT}/generated/{t}" for t in out["targets"]}
    assert out["files"] and all((workspace / f).is_file() for f in out["files"])
    for target in out["targets"]:
        generated = files_under(workspace / out["folders"][target])
        assert sorted(f"{out['folders'][target]}/{f}" for f in generated) == \
            sorted(f for f in out["files"] if f.startswith(out["folders"][target] + "/"))
        assert files_under(tmp_path / "published" / target) == generated
    summary = (github / "GITHUB_STEP_SUMMARY").read_text()
    assert "3 flow files: checked, compiled" in summary
    airflow = len(files_under(workspace / out["folders"]["airflow"]))
    assert f"| airflow | {airflow} in `{PROJECT}/generated/airflow` | `{tmp_path}/published/airflow` |" in summary
    for name in FLOWS:  # each flow's DAG, as GitHub draws it in the summary
        assert f"<summary>the DAG of <code>{PROJECT}/flows/{name}</code></summary>" in summary
    assert summary.count("```mermaid\nflowchart") == len(FLOWS)
    for name, spec in ACTION["outputs"].items():  # the composite action hands the step's outputs on
        assert spec["value"] == "${{ steps.flowc.outputs." + name + " }}"
    assert step("Check, compile and publish")["id"] == "flowc"


def test_a_broken_flow_fails_the_action_with_annotations(runner: Installed, dists: Dists, workspace: Path,
                                                         tmp_path: Path) -> None:
    flow = workspace / PROJECT / "flows" / "params_flow.py"
    broken = FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)
    flow.write_text(broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    github = tmp_path / "github"
    result = run_step("Check, compile and publish", {"project": PROJECT, "targets": "airflow"}, workspace, runner,
                      dists.source, github)
    assert result.returncode == 1
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::error ")]
    assert annotations and all(a.startswith(f"::error file={PROJECT}/flows/params_flow.py,line={line},")
                               for a in annotations)
    out = outputs(github)
    assert len(out["flows"]) == 3 and out["targets"] == ["airflow"] and out["files"] == [] and out["folders"] == {}
    assert "flowc check failed" in (github / "GITHUB_STEP_SUMMARY").read_text()
    assert not (workspace / PROJECT / "generated").exists()
