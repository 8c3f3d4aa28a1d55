"""Faults: a task killed mid-write leaves nothing readable and its retry works;
two runs at once keep apart; resume reruns only what failed and what follows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flowc.runtime.client import Run
from tests.conftest import REPO

BIG = '''
from flowc import FlowSpec, step


class BigWriteFlow(FlowSpec):
    @step
    def start(self):
        self.blob = b"x" * (300 * 1024 * 1024)
        self.next(self.end)

    @step
    def end(self):
        self.size = len(self.blob)
'''


def test_sigkill_mid_write_leaves_no_readable_result_and_the_retry_succeeds(tmp_path: Path) -> None:
    flow = tmp_path / "big_write.py"
    flow.write_text(BIG)
    ir_path = tmp_path / "BigWriteFlow.ir.json"
    subprocess.run([sys.executable, "-m", "flowc", "ir", str(flow), "-o", str(ir_path)], check=True, cwd=REPO)
    ds = tmp_path / "ds"
    data_dir = ds / "BigWriteFlow" / "data"

    def task(attempt: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow), "--ir", str(ir_path),
                                 "--step", "start", "--run-id", "r1", "--index", "0", "--attempt", str(attempt),
                                 "--datastore", str(ds), "--no-capture"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    proc = task(0)
    deadline = time.time() + 60
    partial = []
    while time.time() < deadline and proc.poll() is None:  # wait until the big artifact is being written
        partial = [p for p in data_dir.rglob(".tmp-*") if p.stat().st_size > 0] if data_dir.exists() else []
        if partial:
            break
        time.sleep(0.005)
    assert partial, "never saw the artifact being written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = ds / "BigWriteFlow" / "runs" / "r1" / "start" / "0" / "done.json"
    assert not done.exists()
    blobs = [p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")]
    assert all(p.stat().st_size < 1024 for p in blobs), "a partial artifact was published"
    # the next step cannot start from a killed task
    nxt = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow), "--ir", str(ir_path),
                          "--step", "end", "--run-id", "r1", "--index", "0", "--attempt", "0", "--datastore", str(ds),
                          "--no-capture"], capture_output=True, text=True)
    assert nxt.returncode == 1 and "have not finished" in nxt.stderr
    assert task(1).wait() == 0
    assert done.exists()
    assert Run("BigWriteFlow/r1", str(ds))["start"]["0"].metadata["attempt"] == 1


def test_two_runs_at_once_do_not_mix(tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    procs = [subprocess.Popen([sys.executable, "-m", "flowc", "run", "tests/flows/parameters.py", "--datastore", ds,
                               "--count", str(n), "-q"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for n in (3, 7)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    counts = sorted(Run(f"ParametersFlow/{i}", ds)["end"].task.data.echo.count("hello") for i in (1, 2))
    assert counts == [3, 7]


FLAKY_FOREACH = '''
import os

from flowc import FlowSpec, step


class ResumeFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(6))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        if os.environ.get("FAIL_ITEM") == str(self.input):
            raise RuntimeError("item failed")
        self.double = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.double for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.final = self.total + 1
'''


def test_resume_after_a_foreach_failure_reruns_only_what_failed(tmp_path: Path) -> None:
    flow = tmp_path / "resume_flow.py"
    flow.write_text(FLAKY_FOREACH)
    ds = str(tmp_path / "ds")
    env = {**os.environ, "FAIL_ITEM": "4"}
    first = subprocess.run([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", ds, "-q"],
                           capture_output=True, text=True, cwd=REPO, env=env)
    assert first.returncode == 1 and "flowc resume ResumeFlow/1" in first.stderr
    env.pop("FAIL_ITEM")
    second = subprocess.run([sys.executable, "-m", "flowc", "resume", "ResumeFlow/1", "--datastore", ds],
                            capture_output=True, text=True, cwd=REPO, env=env)
    assert second.returncode == 0, second.stderr
    run = Run("ResumeFlow/2", ds)
    reused = {(t.step.id, t.id) for s in run for t in s if t.metadata.get("cloned_from")}
    finished_before = {(t.step.id, t.id) for s in Run("ResumeFlow/1", ds) for t in s if t.successful}
    assert ("work", "4") not in finished_before and ("start", "0") in finished_before
    assert reused == finished_before  # everything that finished is reused, nothing else
    assert run["end"].task.data.final == 31
    assert run["work"]["4"].metadata["origin_run_id"] == "1"
    # --from reruns that step and everything after it
    third = subprocess.run([sys.executable, "-m", "flowc", "resume", "ResumeFlow/2", "--from", "join", "--datastore", ds],
                           capture_output=True, text=True, cwd=REPO, env=env)
    assert third.returncode == 0, third.stderr
    run3 = Run("ResumeFlow/3", ds)
    assert not run3["join"].task.metadata.get("cloned_from") and run3["work"]["4"].metadata.get("cloned_from")
