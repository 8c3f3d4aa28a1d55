"""`python prefect_flow.py --alpha 0.3`: the generated module run as a script
(docs/targets/prefect.md) takes the flow's parameters from its command line,
typed, with defaults and required ones, and the values reach the artifacts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.artifacts import run_artifacts

from .conftest import build

pytestmark = pytest.mark.engine

FLOWS = REPO / "tests" / "flows"


def script(folder: Path, *args: str, api_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run([sys.executable, "prefect_flow.py", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)


def test_help_lists_the_parameters_and_a_required_one_is_asked_for(tmp_path: Path) -> None:
    build(FLOWS / "required_params.py", tmp_path / "prefect", tmp_path / "ds")
    helped = script(tmp_path / "prefect", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--dataset STR" in helped.stdout and "which dataset to use (required)" in helped.stdout
    assert "--limit INT" in helped.stdout
    missing = script(tmp_path / "prefect")
    assert missing.returncode == 2 and "the following arguments are required: --dataset" in missing.stderr
    bad = script(tmp_path / "prefect", "--dataset", "x", "--limit", "many")
    assert bad.returncode == 2 and "argument --limit: invalid int value: 'many'" in bad.stderr
    assert not (tmp_path / "ds").joinpath("RequiredParamsFlow", "runs").exists()


def test_parameters_from_the_command_line_reach_the_artifacts(tmp_path: Path, prefect_api) -> None:
    ds = tmp_path / "ds"
    build(FLOWS / "parameters.py", tmp_path / "prefect", ds)
    r = script(tmp_path / "prefect", "--count", "7", "--flag", "false", "--options", '{"k": ["{{ v }}"]}',
               "--lr", "0.3", "--text", 'über "x"', api_url=prefect_api)
    assert r.returncode == 0, r.stdout + r.stderr
    runs = [p.name for p in (ds / "ParametersFlow" / "runs").iterdir()]
    assert len(runs) == 1
    seen = run_artifacts(str(ds), "ParametersFlow", runs[0])["start"]["0"]["seen"]
    assert seen == {"text": 'über "x"', "count": 7, "ratio": 0.25, "flag": False, "options": {"k": ["{{ v }}"]},
                    "weights": [0.5, 0.5], "lr": 0.3}
