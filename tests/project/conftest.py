"""Helpers for the project tests: throwaway projects with a pyproject.toml and
a few flows, and `flowc` run in this process (fast; the hooks, the action
and the GitLab job are run as new processes in their own tests)."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

# flows every target used here compiles without errors
FLOWS = {name: (REPO / "examples" / name).read_text() for name in ("foreach_flow.py", "params_flow.py",
                                                                    "switch_flow.py")}

PYPROJECT = """\
[project]
name = "team-flows"

[tool.flowc]
flows = ["flows/"]
targets = ["airflow", "stepfunctions"]
datastore = "s3://team-bucket/flows"

[tool.flowc.airflow]
output = "dags"
namespace = "data"
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def flowc(*args: str, cwd: Path) -> Result:
    """`flowc ARGS` in this process, from ``cwd``."""
    from flowc.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    return Result(code, out.getvalue(), err.getvalue())


def make_project(root: Path, pyproject: str = PYPROJECT, flows: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject)
    for name, text in (FLOWS if flows is None else flows).items():
        path = root / "flows" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with three flows for airflow (into dags/) and stepfunctions."""
    return make_project(tmp_path / "proj")


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
