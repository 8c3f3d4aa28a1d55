"""The datastore on S3, through s3fs, against a real S3 API served locally (moto's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def s3_env():
    from tests.support.s3 import moto_s3

    with moto_s3("flowc-test") as (env, _):
        yield env


def run(*args: str, env: dict, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env}, timeout=300)


def test_a_whole_run_on_s3(s3_env: dict) -> None:
    ds = "s3://flowc-test/datastore"
    r = run("flowc", "run", "examples/foreach_flow.py", "--datastore", ds, "--count", "4", "-q", env=s3_env)
    assert r.returncode == 0, r.stderr
    from flowc.runtime.client import Run

    flow_run = Run("ForeachFlow/1", ds)
    assert flow_run.successful and flow_run["end"].task.data.total == 30
    assert [t.id for t in flow_run["square"]] == ["0", "1", "2", "3"]
    logs = run("flowc", "logs", "ForeachFlow/1/end", "--datastore", ds, env=s3_env)
    assert "sum of squares: 30" in logs.stdout
    # content addressing: the same values are stored once
    import s3fs

    fs = s3fs.S3FileSystem()
    blobs = fs.find("flowc-test/datastore/ForeachFlow/data")
    assert len(blobs) == len(set(os.path.basename(b) for b in blobs))


def test_a_task_fetches_its_code_package_from_s3(s3_env: dict, tmp_path: Path) -> None:
    ds = "s3://flowc-test/packages-test"
    up = run("flowc", "package", "examples/recsys.py", "--datastore", ds, env=s3_env)
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip()
    assert url.startswith(ds + "/RecSysFlow/packages/") and url.endswith(".tar.gz")
    empty = tmp_path / "container"
    empty.mkdir()
    out = empty / "out.json"
    task = run("flowc.runtime", "step", "--flow", "recsys.py", "--ir", "RecSysFlow.ir.json", "--package", url,
               "--step", "start", "--run-id", "argo-xyz", "--index", "0", "--attempt", "0", "--datastore", ds,
               "--param", "seed=3", "--output", str(out), env={**s3_env, "FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")},
               cwd=empty)
    assert task.returncode == 0, task.stderr
    assert json.loads(out.read_text()) == {"next": ["fit_a", "fit_b"], "step": "start", "task_id": "0"}
    from flowc.runtime.client import Run

    assert Run("RecSysFlow/argo-xyz", ds)["start"].task.data.seed == 3
