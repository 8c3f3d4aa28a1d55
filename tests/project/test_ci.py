"""The GitHub composite action (action.yml and the script it runs) and the
GitLab CI job documented in docs/ci.md, run here as far as they can run:
everything but `pip install` and actions/setup-python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.project.conftest import FLOWS, files_under, make_project

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
SCRIPT = REPO / "ci" / "flowc_action.py"
DOCS = (REPO / "docs" / "ci.md").read_text()
BIN = Path(sys.executable).parent


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def expand(text: str, inputs: dict[str, str], action_path: Path) -> str:
    """GitHub's ${{ }} expressions of action.yml: inputs and the action's path."""
    def value(match: re.Match) -> str:
        expr = match.group(1).strip()
        if expr == "github.action_path":
            return str(action_path)
        assert expr.startswith("inputs."), expr
        return inputs[expr[len("inputs."):]]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_step(name: str, given: dict[str, str], workspace: Path, extra_path: Path | None = None,
             env: dict | None = None) -> subprocess.CompletedProcess:
    """One `run` step of the action, as the runner runs it: bash -eo pipefail,
    its env (inputs expanded, defaults from action.yml), its working-directory."""
    inputs = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"not inputs of the action: {unknown}"
    inputs.update(given)
    s = step(name)
    step_env = {k: expand(str(v), inputs, REPO) for k, v in s.get("env", {}).items()}
    cwd = workspace / expand(s.get("working-directory", "."), inputs, REPO)
    path = os.pathsep.join(p for p in (str(extra_path or ""), str(BIN), os.environ["PATH"]) if p)
    full_env = {**os.environ, **step_env, **(env or {}), "PATH": path, "GITHUB_ACTION_PATH": str(REPO),
                "GITHUB_WORKSPACE": str(workspace)}
    assert s["shell"] == "bash"
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=600)


# ------------------------------------------------------------ action.yml


def test_the_action_is_a_composite_that_hands_every_input_to_a_step() -> None:
    assert ACTION["runs"]["using"] == "composite"
    used = yaml.safe_dump(ACTION["runs"])
    for name in ACTION["inputs"]:
        assert "${{ inputs." + name + " }}" in used, f"input {name} is never used"
    check = step("Check, compile and publish")
    assert check["run"] == 'python "$GITHUB_ACTION_PATH/ci/flowc_action.py"'
    script = SCRIPT.read_text()
    for variable in check["env"]:
        assert f'"{variable}"' in script, f"{variable} is set by action.yml but never read by the script"
    # no input is pasted into a shell line: they travel as environment variables
    for s in ACTION["runs"]["steps"]:
        assert "${{" not in s.get("run", "")


def test_the_install_step_installs_this_checkout_or_what_is_given(tmp_path: Path) -> None:
    """pip cannot reach an index here: a stand-in `python` records what the step asks of it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text(f"#!{sys.executable}\nimport json, sys\n"
                                 f"open({str(tmp_path / 'args.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    (fake / "python").chmod(0o755)
    import json

    assert run_step("Install flowc", {}, tmp_path, fake).returncode == 0
    assert json.loads((tmp_path / "args.json").read_text()) == [
        "-m", "pip", "install", "--disable-pip-version-check", f"{REPO}[s3]"]
    assert run_step("Install flowc", {"flowc": "flowc[s3]==0.1.0"}, tmp_path, fake).returncode == 0
    assert json.loads((tmp_path / "args.json").read_text())[-1] == "flowc[s3]==0.1.0"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A repository whose flow project lives in a subfolder."""
    ws = tmp_path / "ws"
    make_project(ws / "services" / "ml", '[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow", "stepfunctions"]\n')
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    return ws


def test_the_action_checks_compiles_and_publishes(workspace: Path, tmp_path: Path) -> None:
    dest = tmp_path / "published" / "{target}"
    result = run_step("Check, compile and publish", {"project": "services/ml", "to": str(dest)}, workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for group in ("flowc config", "flowc check", "flowc compile", "flowc publish airflow",
                  "flowc publish stepfunctions"):
        assert f"::group::{group}\n" in out
    assert out.count("::endgroup::") == 5
    project = workspace / "services" / "ml"
    assert files_under(tmp_path / "published" / "airflow") == files_under(project / "generated" / "airflow")
    assert "ForeachFlow/ForeachFlow.asl.json" in files_under(tmp_path / "published" / "stepfunctions")
    again = run_step("Check, compile and publish", {"project": "services/ml", "to": str(dest),
                                                    "targets": "airflow"}, workspace)
    assert again.returncode == 0 and "0 written, 3 unchanged" in again.stderr
    assert "flowc publish stepfunctions" not in again.stdout


def test_annotations_point_at_the_flow_in_the_repository(workspace: Path) -> None:
    project = workspace / "services" / "ml"
    broken = FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)
    (project / "flows" / "params_flow.py").write_text(broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    result = run_step("Check, compile and publish", {"project": "services/ml", "targets": "airflow"}, workspace)
    assert result.returncode == 1
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::error ")]
    assert annotations, result.stdout
    # relative to the repository's root, as GitHub wants them
    assert all(a.startswith(f"::error file=services/ml/flows/params_flow.py,line={line},") for a in annotations)
    assert any("FC110" in a for a in annotations)
    assert len(annotations) == len(set(annotations))  # each problem annotated once
    assert not (project / "generated").exists()  # and nothing was compiled, let alone published


def test_check_only_verifies_committed_files(workspace: Path) -> None:
    project = workspace / "services" / "ml"
    inputs = {"project": "services/ml", "targets": "airflow", "check-only": "true"}
    missing = run_step("Check, compile and publish", inputs, workspace)
    assert missing.returncode == 1 and "missing" in missing.stdout
    assert not (project / "generated").exists()
    subprocess.run([sys.executable, "-m", "flowc", "compile", "--target", "airflow"], cwd=project, check=True,
                   capture_output=True)
    assert run_step("Check, compile and publish", inputs, workspace).returncode == 0
    (project / "flows" / "switch_flow.py").write_text(FLOWS["switch_flow.py"] + "\n# changed\n")
    stale = run_step("Check, compile and publish", inputs, workspace)
    assert stale.returncode == 1
    assert "::error file=services/ml/flows/switch_flow.py,line=" in stale.stdout
    assert "+++ b/generated/airflow/SwitchFlow.py" in stale.stdout  # with the diff


def test_several_targets_need_a_destination_each(workspace: Path, tmp_path: Path) -> None:
    result = run_step("Check, compile and publish", {"project": "services/ml", "to": str(tmp_path / "one")},
                      workspace)
    assert result.returncode == 2 and "write {target} in `to`" in result.stdout
    assert not (tmp_path / "one").exists()


def test_kubectl_goes_to_argo_only(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_project(ws, '[tool.flowc]\nflows = ["flows"]\ntargets = ["argo", "airflow"]\n')
    result = run_step("Check, compile and publish", {"kubectl": "true", "dry-run": "true"}, ws)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^kubectl apply -f generated/argo/\S+\.yaml", result.stdout, re.M)
    assert "airflow: nothing to publish" in result.stdout


# ------------------------------------------------------------ GitLab CI


def gitlab_job() -> dict:
    block = re.search(r"```yaml\n# \.gitlab-ci\.yml\n(.*?)```", DOCS, re.S)
    assert block, "docs/ci.md has no GitLab job"
    return yaml.safe_load(block.group(1))["flows"]


@pytest.mark.parametrize("branch", ["main", "feature"])
def test_the_documented_gitlab_job_runs(tmp_path: Path, branch: str) -> None:
    job = gitlab_job()
    project = make_project(tmp_path / "p", '[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow"]\n')
    dest = tmp_path / "bucket" / "dags"
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "FLOWC_TO": str(dest),
           "CI_COMMIT_BRANCH": branch, "CI_DEFAULT_BRANCH": "main",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    installs = [line for line in job["script"] if line.startswith("pip install")]
    assert installs == ['pip install "flowc[s3]==0.1.0"']  # the one line that needs the network
    script = "\n".join(line for line in job["script"] if line not in installs)
    result = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=project, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 3 files, 3 flows: 0 errors" in result.stderr
    if branch == "main":
        assert files_under(dest) == files_under(project / "generated" / "airflow")
    else:
        assert "would write" in result.stdout and not dest.exists()
    # a broken flow fails the job at the check, with the flow's file:line
    (project / "flows" / "params_flow.py").write_text(FLOWS["params_flow.py"].replace("self.end", "self.ned", 1))
    failed = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=project, env=env, capture_output=True,
                            text=True, timeout=600)
    assert failed.returncode != 0 and "flows/params_flow.py:" in failed.stdout and "FC110" in failed.stdout


def test_the_documented_local_hooks_are_the_shipped_ones() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    block = re.search(r"```yaml\nrepos:\n  - repo: local\n(.*?)```", DOCS, re.S)
    local = yaml.safe_load("repos:\n  - repo: local\n" + block.group(1))["repos"][0]["hooks"]
    for shipped, documented in zip(hooks, local, strict=True):
        for key in ("id", "entry", "types", "pass_filenames", "always_run", "require_serial"):
            assert shipped.get(key) == documented.get(key), key
