"""The pre-commit hooks of .pre-commit-hooks.yaml as a user's pre-commit
installs them: language python, flowc pip-installed into the hook's own
environment, here from the built wheel (pre-commit cannot clone this
repository offline, so the hooks are declared locally, field by field as
shipped, with the wheel as their one dependency). `pre-commit run
--all-files` in a fresh git repository outside this one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.product.conftest import CONSTRAINTS, Dists, Installed, outside_repo
from tests.project.conftest import FLOWS
from tests.project.test_precommit import HOOKS, PRE_COMMIT, Repo

PYPROJECT = '[project]\nname = "team"\n\n[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow"]\n\n' \
            '[tool.flowc.airflow]\noutput = "dags"\n'


def shipped_hooks(wheel: Path) -> dict:
    hooks = [{**{k: v for k, v in hook.items() if k != "minimum_pre_commit_version"},
              "additional_dependencies": [str(wheel)]} for hook in HOOKS]
    assert {h["language"] for h in hooks} == {"python"}  # what a user's pre-commit installs flowc with
    return {"repos": [{"repo": "local", "hooks": hooks}]}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the module: pre-commit builds it on first use."""
    return outside_repo(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture
def repo(tmp_path: Path, dists: Dists, wheel_install: Installed, pre_commit_home: Path) -> Repo:
    r = Repo(outside_repo(tmp_path / "repo"))
    r.root.mkdir()
    # the user's shell: no venv of this repository on PATH, pip held to the pinned versions
    r.env = {**r.env, "PATH": wheel_install.env["PATH"].split(os.pathsep, 1)[1], "PRE_COMMIT_HOME": str(pre_commit_home),
             "PIP_CONSTRAINT": str(CONSTRAINTS), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        r.env.pop(name, None)
    assert shutil.which("flowc", path=r.env["PATH"]) is None  # the hooks can only run the one pre-commit installs
    r.git("init", "-q", "-b", "main")
    r.write("pyproject.toml", PYPROJECT)
    for name in ("foreach_flow.py", "params_flow.py"):
        r.write(f"flows/{name}", FLOWS[name])
    r.write(".pre-commit-config.yaml", yaml.safe_dump(shipped_hooks(dists.wheel), sort_keys=False))
    r.git("add", "-A")
    return r


def run_all(repo: Repo):
    return repo.run(str(PRE_COMMIT), "run", "--all-files")


def test_the_hooks_pass_once_the_generated_files_are_added(repo: Repo, dists: Dists, pre_commit_home: Path) -> None:
    first = run_all(repo)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "flowc check" in first.stdout and "generated files changed; add them to the commit" in first.stdout
    assert (repo.root / "dags/ForeachFlow.py").is_file() and (repo.root / "dags/flowc-manifest.json").is_file()
    repo.git("add", "dags")
    second = run_all(repo)
    assert second.returncode == 0, second.stdout + second.stderr
    assert [line.rsplit(".", 1)[-1] for line in second.stdout.splitlines() if line.startswith("flowc ")] == \
        ["Passed", "Passed"]
    # the hooks ran the flowc pre-commit installed from the wheel, nothing else
    records = list(pre_commit_home.glob("repo*/py_env-*/lib/python*/site-packages/flowc-*.dist-info/direct_url.json"))
    assert records and all(json.loads(r.read_text())["url"] == dists.wheel.as_uri() for r in records)


def test_a_broken_flow_fails_the_hooks_with_its_diagnostic(repo: Repo) -> None:
    broken = FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    repo.write("flows/params_flow.py", broken)
    repo.git("add", "-A")
    result = run_all(repo)
    assert result.returncode == 1
    check_part = result.stdout.split("flowc compile")[0]
    assert "Failed" in check_part and f"flows/params_flow.py:{line}:" in check_part
    assert "FC110" in check_part and "^" in check_part and "Traceback" not in result.stdout
    assert "nothing was written" in result.stdout and not (repo.root / "dags").exists()
