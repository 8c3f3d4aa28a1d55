"""A run id is claimed once, atomically: two `flowc run --run-id X` never
write into the same run, on a local folder or on S3 (a conditional PUT)."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.client import Run
from flowc.runtime.datastore import FlowDatastore
from tests.conftest import REPO


def start(ds: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flowc", "run", "tests/flows/parameters.py", "--datastore", ds,
                             "--run-id", "same", "--count", str(count), "-q"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_runs_with_one_run_id_at_once_one_is_refused(tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    procs = {n: start(ds, n) for n in (3, 7)}
    results = {n: (p.wait(timeout=120), p.stderr.read()) for n, p in procs.items()}
    winners = [n for n, (code, _) in results.items() if code == 0]
    assert len(winners) == 1, results
    (loser,) = set(results) - set(winners)
    code, err = results[loser]
    assert code == 2 and "run ParametersFlow/same already exists" in err and "choose another --run-id" in err
    assert Run("ParametersFlow/same", ds)["end"].task.data.echo.count("hello") == winners[0]
    # and later, once it finished, too
    again = start(ds, 5)
    assert again.wait(timeout=120) == 2 and "taken by process" in again.stderr.read()
    assert Run("ParametersFlow/same", ds)["end"].task.data.echo.count("hello") == winners[0]


def claim_races(ds: FlowDatastore, run: str, n: int = 8) -> list[bool]:
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda i: ds.claim_run_id(run, str(i).encode()), range(n)))


def test_a_local_claim_is_exclusive(tmp_path: Path) -> None:
    ds = FlowDatastore(str(tmp_path / "ds"), "F")
    assert sorted(claim_races(ds, "x")) == [False] * 7 + [True]
    assert [ds.new_run_id() for _ in range(3)] == ["1", "2", "3"]
    assert not ds.claim_run_id("2")


def test_an_s3_claim_is_a_conditional_put() -> None:
    from tests.support.s3 import moto_s3

    with moto_s3("flowc-claim"):
        ds = FlowDatastore("s3://flowc-claim/ds", "F")
        assert sorted(claim_races(ds, "x")) == [False] * 7 + [True]
        assert ds.new_run_id() == "1" and ds.new_run_id() == "2"
        assert not ds.claim_run_id("1")
