"""The pre-commit hooks, run by the real pre-commit framework on commits in a
throwaway git repository, offline.

pre-commit cannot install this repository's hooks here (its python
language pip-installs flowc and its dependencies from the network), so the
test repository declares them as `repo: local` hooks copied from
.pre-commit-hooks.yaml field by field, with language `system` running the
flowc of this environment. Everything else is pre-commit's own doing:
which files each hook gets, stashing unstaged changes, failing a commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.project.conftest import FLOWS

BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())

pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists() or shutil.which("git") is None,
                                reason="needs pre-commit and git")


def local_hooks() -> dict:
    hooks = []
    for hook in HOOKS:
        local = {k: v for k, v in hook.items() if k != "minimum_pre_commit_version"}
        local["language"] = "system"
        hooks.append(local)
    return {"repos": [{"repo": "local", "hooks": hooks}]}


class Repo:
    def __init__(self, root: Path):
        self.root = root
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                    "PRE_COMMIT_HOME": str(root.parent / "pre-commit-home"), "GIT_CONFIG_GLOBAL": os.devnull,
                    "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1",
                    "PRE_COMMIT_COLOR": "never"}

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run("git", *args)
        assert result.returncode == 0, result.stderr
        return result

    def commit(self, message: str) -> subprocess.CompletedProcess:
        """`git commit`, the hooks' report in stdout (git shows it on stderr)."""
        return subprocess.run(["git", "commit", "-m", message], cwd=self.root, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)

    def committed(self) -> list[str]:
        return self.git("ls-files").stdout.split()

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.root.mkdir()
    r.git("init", "-q", "-b", "main")
    r.write("pyproject.toml", '[project]\nname = "team"\n\n[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow"]\n\n'
                              '[tool.flowc.airflow]\noutput = "dags"\n')
    for name in ("foreach_flow.py", "params_flow.py"):
        r.write(f"flows/{name}", FLOWS[name])
    r.write("flows/helpers.py", "def double(x):\n    return 2 * x\n")
    r.write("tools.py", "print('not a flow')\n")
    r.write(".pre-commit-config.yaml", yaml.safe_dump(local_hooks(), sort_keys=False))
    r.git("add", "-A")
    installed = r.run(str(PRE_COMMIT), "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return r


def test_the_hook_manifest_is_valid_for_pre_commit() -> None:
    result = subprocess.run([str(PRE_COMMIT), "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [h["id"] for h in HOOKS] == ["flowc-check", "flowc-compile"]


def test_a_commit_carries_up_to_date_dags(repo: Repo) -> None:
    first = repo.commit("flows")
    assert first.returncode == 1, first.stdout
    assert "flowc check" in first.stdout and "flowc compile" in first.stdout
    assert "generated files changed; add them to the commit" in first.stdout
    assert repo.run("git", "log").returncode != 0  # no commit yet
    assert (repo.root / "dags/ForeachFlow.py").exists() and (repo.root / "dags/flowc-manifest.json").exists()
    repo.git("add", "dags")
    second = repo.commit("flows and their DAGs")
    assert second.returncode == 0, second.stdout
    assert {"dags/ForeachFlow.py", "dags/ParamsFlow.py", "dags/flowc-manifest.json"} <= set(repo.committed())
    # a change to a flow: the hook regenerates its DAG and the commit must carry it
    repo.write("flows/foreach_flow.py", FLOWS["foreach_flow.py"].replace("default=5", "default=12"))
    repo.git("add", "flows/foreach_flow.py")
    stale = repo.commit("more numbers")
    assert stale.returncode == 1 and "wrote dags/ForeachFlow.py" in stale.stdout
    repo.git("add", "dags")
    assert repo.commit("more numbers").returncode == 0
    committed = repo.git("show", "HEAD:dags/ForeachFlow.py").stdout
    assert committed == (repo.root / "dags/ForeachFlow.py").read_text() and "12" in committed


def test_flowc_check_fails_a_commit_with_diagnostics(repo: Repo) -> None:
    repo.run("git", "commit", "-m", "x")  # writes the DAGs
    repo.git("add", "-A")
    assert repo.commit("base").returncode == 0
    broken = FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)
    assert broken != FLOWS["params_flow.py"]
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    repo.write("flows/params_flow.py", broken)
    repo.write("tools.py", "print('still not a flow')\n")
    repo.git("add", "-A")
    result = repo.commit("typo")
    assert result.returncode == 1
    check_part = result.stdout.split("flowc compile")[0]
    assert "flowc check" in check_part and "Failed" in check_part
    assert f"flows/params_flow.py:{line}:" in check_part and "FC110" in check_part and "^" in check_part
    assert "tools.py" not in check_part and "helpers.py" not in check_part  # not flows: not checked
    assert "nothing was written" in result.stdout
    assert repo.git("status", "--porcelain", "dags").stdout == ""  # DAGs untouched


def test_hooks_see_what_is_staged_not_the_working_tree(repo: Repo) -> None:
    repo.run("git", "commit", "-m", "x")
    repo.git("add", "-A")
    assert repo.commit("base").returncode == 0
    repo.write("tools.py", "print('a staged change')\n")
    repo.git("add", "tools.py")
    repo.write("flows/params_flow.py", FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.x)", 1))
    result = repo.commit("unrelated change")  # the broken flow is not staged
    assert result.returncode == 0, result.stdout
    assert "self.x" in (repo.root / "flows/params_flow.py").read_text()  # pre-commit put it back


def test_a_deleted_flow_takes_its_dag_along(repo: Repo) -> None:
    repo.run("git", "commit", "-m", "x")
    repo.git("add", "-A")
    assert repo.commit("base").returncode == 0
    repo.git("rm", "-q", "flows/params_flow.py")
    result = repo.commit("drop params flow")
    assert result.returncode == 1 and "removed dags/ParamsFlow.py" in result.stdout
    repo.git("add", "-A", "dags")
    assert repo.commit("drop params flow").returncode == 0
    assert "dags/ParamsFlow.py" not in repo.committed()
    # a hand edit of a generated file does not survive the hook either
    repo.write("dags/ForeachFlow.py", "# edited by hand\n")
    repo.git("add", "dags/ForeachFlow.py")
    assert repo.commit("hand edit").returncode == 1
    assert (repo.root / "dags/ForeachFlow.py").read_text() != "# edited by hand\n"
