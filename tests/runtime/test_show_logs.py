"""`flowc show` and `flowc logs` on failed and retried tasks: the error,
where it is stored and the last log lines; the last attempt by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flowc.compiler import ir, load_flow
from flowc.runtime.client import Run
from tests.conftest import REPO

FAILING = '''
from flowc import FlowSpec, step


class FailFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.boom)

    @step
    def boom(self):
        for n in range(30):
            print(f"line {n}")
        raise ValueError("bad value 42")
        self.next(self.end)

    @step
    def end(self):
        pass
'''

RETRIED = '''
from flowc import FlowSpec, current, retry, step


class RetryFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count == 0:
            print("first try")
            raise RuntimeError("transient failure")
        self.ok = current.retry_count  # the last attempt prints nothing
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def flowc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def check_failure_shown(text: str, ds: Path, pathspec: str) -> None:
    assert "error:   ValueError: bad value 42" in text, text
    assert f"record:  {ds}/FailFlow/runs/{pathspec.split('/', 1)[1]}/attempt-0/failure.json" in text, text
    tail = text.split("log lines", 1)[1].splitlines()[1:]
    assert len(tail) == 20, tail  # the last 20 lines, the traceback's end last
    assert tail[-1].strip() == "ValueError: bad value 42" and "line 29" in text and "line 5\n" not in text


def test_show_a_failed_run_and_task(tmp_path: Path) -> None:
    (tmp_path / "fail.py").write_text(FAILING)
    ds = tmp_path / "ds"
    assert flowc("run", str(tmp_path / "fail.py"), "--datastore", str(ds)).returncode == 1
    run = flowc("show", "FailFlow/1", "--datastore", str(ds))
    assert run.returncode == 0 and run.stdout.startswith("FailFlow/1: failed\n"), run.stdout
    assert "boom                     0/1 task done, 1 failed" in run.stdout
    check_failure_shown(run.stdout, ds, "FailFlow/1/boom/0")
    task = flowc("show", "FailFlow/1/boom/0", "--datastore", str(ds))
    assert task.stdout.startswith("FailFlow/1/boom/0: failed (attempt 0)\n"), task.stdout
    check_failure_shown(task.stdout, ds, "FailFlow/1/boom/0")


def test_show_a_failed_task_an_orchestrator_ran(tmp_path: Path) -> None:
    """Tasks run as every target runs them (python -m flowc.runtime step): no run.json."""
    (tmp_path / "fail.py").write_text(FAILING)
    flow = load_flow(tmp_path / "fail.py")
    (tmp_path / "fail.ir.json").write_text(ir.dump(flow))
    ds = tmp_path / "ds"
    for name in ("start", "boom"):
        subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(tmp_path / "fail.py"),
                        "--ir", str(tmp_path / "fail.ir.json"), "--step", name, "--run-id", "argo-xyz",
                        "--index", "0", "--attempt", "0", "--datastore", str(ds)],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert Run("FailFlow/argo-xyz", str(ds)).info == {}
    out = flowc("show", "FailFlow/argo-xyz", "--datastore", str(ds))
    assert out.stdout.startswith("FailFlow/argo-xyz: failed\n"), out.stdout
    check_failure_shown(out.stdout, ds, "FailFlow/argo-xyz/boom/0")


def test_logs_default_to_the_last_attempt_and_name_it(tmp_path: Path) -> None:
    (tmp_path / "retry.py").write_text(RETRIED)
    ds = tmp_path / "ds"
    assert flowc("run", str(tmp_path / "retry.py"), "--datastore", str(ds)).returncode == 0
    last = flowc("logs", "RetryFlow/1/flaky", "--datastore", str(ds))
    assert last.returncode == 0
    assert "attempt 1 (2 of 2, the last)" in last.stderr, last.stderr
    assert "transient failure" not in last.stdout and "first try" not in last.stdout, last.stdout
    first = flowc("logs", "RetryFlow/1/flaky/0", "--datastore", str(ds), "--attempt", "0")
    assert first.returncode == 0 and "attempt 0 (1 of 2; the last is 1" in first.stderr
    assert first.stdout.startswith("first try\n") and "RuntimeError: transient failure" in first.stdout
    missing = flowc("logs", "RetryFlow/1/flaky", "--datastore", str(ds), "--attempt", "3")
    assert missing.returncode == 2 and "has no attempt 3; its attempts: 0, 1" in missing.stderr, missing.stderr
    show = flowc("show", "RetryFlow/1/flaky/0", "--datastore", str(ds))
    assert show.stdout.startswith("RetryFlow/1/flaky/0: done (attempt 1 (2 of 2))\n"), show.stdout
    assert "error:" not in show.stdout


def test_a_run_recorded_as_running_is_interrupted_once_its_runner_is_gone(tmp_path: Path) -> None:
    import socket

    from flowc.runtime.datastore import FlowDatastore

    ds = FlowDatastore(str(tmp_path / "ds"), "SomeFlow")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for run, pid in (("1", os.getpid()), ("2", gone.pid)):
        ds.claim_run_id(run, json.dumps({"pid": pid, "host": socket.gethostname()}).encode())
        ds.write_run_file(run, "run.json", json.dumps({"status": "running"}).encode())
    assert Run("SomeFlow/1", str(tmp_path / "ds")).status == "running"
    assert Run("SomeFlow/2", str(tmp_path / "ds")).status == "interrupted"
    shown = flowc("show", "SomeFlow/2", "--datastore", str(tmp_path / "ds"))
    assert shown.stdout.startswith("SomeFlow/2: interrupted\n"), shown.stdout
