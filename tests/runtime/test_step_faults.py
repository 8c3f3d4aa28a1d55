"""Faults inside a step, handled as Metaflow handles them: a @timeout is
enforced from outside the step (a step that swallows exceptions is ended),
a step killed by the system is caught by @catch (FailureHandledByCatch),
and an orchestrator's explicit rerun of a finished task runs it again while
a retry of it does not."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowc.runtime.client import Run
from tests.conftest import REPO

SWALLOW = '''
import time

from flowc import FlowSpec, catch, step, timeout


class SwallowFlow(FlowSpec):
    @timeout(seconds=1)
    {catch}
    @step
    def start(self):
        self.started = True
        deadline = time.time() + 45
        while time.time() < deadline:
            try:
                time.sleep(0.05)
            except Exception:
                pass  # swallows the timeout too
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def flowc(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def test_a_timeout_ends_a_step_that_swallows_exceptions(tmp_path: Path) -> None:
    flow = tmp_path / "swallow.py"
    flow.write_text(SWALLOW.format(catch=""))
    ds = str(tmp_path / "ds")
    started = time.monotonic()
    r = flowc("run", str(flow), "--datastore", ds, "--run-id", "t", "-q")
    took = time.monotonic() - started
    assert r.returncode == 1, r.stderr
    assert took < 15, f"the step ran {took:.1f} s past its 1 s timeout"
    assert "TimeoutException: Step start timed out after 0 hours, 0 minutes, 1 seconds" in r.stderr
    failure = json.loads((Path(ds) / "SwallowFlow/runs/t/start/0/attempt-0/failure.json").read_text())
    assert failure["error"].startswith("TimeoutException: Step start timed out")


def test_the_task_command_ends_a_step_that_swallows_exceptions(tmp_path: Path) -> None:
    """The container path: `python -m flowc.runtime step`, as every target runs it."""
    flow = tmp_path / "swallow.py"
    flow.write_text(SWALLOW.format(catch=""))
    ir = tmp_path / "SwallowFlow.ir.json"
    assert flowc("ir", str(flow), "-o", str(ir)).returncode == 0
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow), "--ir", str(ir),
                        "--step", "start", "--run-id", "c", "--index", "0", "--datastore", str(tmp_path / "ds")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and time.monotonic() - started < 15
    assert "timed out after 0 hours, 0 minutes, 1 seconds" in r.stderr


def test_catch_stores_a_timeout_as_metaflow_does(tmp_path: Path) -> None:
    flow = tmp_path / "swallow.py"
    flow.write_text(SWALLOW.format(catch='@catch(var="err")'))
    ds = str(tmp_path / "ds")
    r = flowc("run", str(flow), "--datastore", ds, "--run-id", "t", "-q")
    assert r.returncode == 0, r.stderr
    err = Run("SwallowFlow/t", ds)["start"].task.data.err
    assert err.type == "metaflow.plugins.timeout_decorator.TimeoutException"
    assert err.exception == "Step start timed out after 0 hours, 0 minutes, 1 seconds"


KILLED = '''
import os
import signal
import time

from flowc import FlowSpec, catch, retry, step, timeout


class KilledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.killed, self.slow)

    @catch(var="err")
    @step
    def killed(self):
        self.partial = 1
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
        self.next(self.join)

    @catch(var="err")
    @timeout(seconds=1)
    @step
    def slow(self):
        time.sleep(30)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.errors = sorted((i.err.type.rsplit(".", 1)[-1], i.err.exception.splitlines()[0]) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_catch_catches_a_killed_step_and_the_run_goes_on(tmp_path: Path) -> None:
    flow = tmp_path / "killed.py"
    flow.write_text(KILLED)
    ds = str(tmp_path / "ds")
    r = flowc("run", str(flow), "--datastore", ds, "--run-id", "k", "-q")
    assert r.returncode == 0, r.stderr
    run = Run("KilledFlow/k", ds)
    assert run["join"].task.data.errors == [
        ("FailureHandledByCatch", "Task execution kept failing over 1 attempts. Your code did not raise an exception. "
                                  "Something in the execution environment caused the failure."),
        ("TimeoutException", "Step slow timed out after 0 hours, 0 minutes, 1 seconds"),
    ]
    assert not hasattr(run["killed"].task.data, "partial")  # nothing of the killed attempt is kept
    log = (Path(ds) / "KilledFlow/runs/k/killed/0/attempt-0/stderr").read_text()
    assert "the process of step killed was killed by SIGKILL" in log


RETRIED = '''
import os
import signal

from flowc import FlowSpec, retry, step


class RetriedFlow(FlowSpec):
    @retry(times=1, minutes_between_retries=0)
    @step
    def start(self):
        from flowc import current

        if current.retry_count == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        self.survived = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_killed_step_is_recorded_and_retried(tmp_path: Path) -> None:
    flow = tmp_path / "retried.py"
    flow.write_text(RETRIED)
    ds = str(tmp_path / "ds")
    r = flowc("run", str(flow), "--datastore", ds, "--run-id", "r", "-q")
    assert r.returncode == 0, r.stderr
    assert Run("RetriedFlow/r", ds)["start"].task.data.survived == 1
    failure = json.loads((Path(ds) / "RetriedFlow/runs/r/start/0/attempt-0/failure.json").read_text())
    assert failure["error"] == "StepKilled: the step's process was killed by SIGKILL (out of memory?)"


COUNTED = '''
from flowc import FlowSpec, step


class CountedFlow(FlowSpec):
    @step
    def start(self):
        with open(__file__ + ".runs", "a") as f:
            f.write("x")
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_rerun_asked_for_runs_again_and_a_retry_of_a_finished_task_does_not(tmp_path: Path) -> None:
    flow = tmp_path / "counted.py"
    flow.write_text(COUNTED)
    ir = tmp_path / "CountedFlow.ir.json"
    assert flowc("ir", str(flow), "-o", str(ir)).returncode == 0
    ds = tmp_path / "ds"
    runs = Path(str(flow) + ".runs")

    def task(attempt: int, first: int) -> None:
        r = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow), "--ir", str(ir),
                            "--step", "start", "--run-id", "x", "--index", "0", "--attempt", str(attempt),
                            "--first-attempt", str(first), "--datastore", str(ds)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    def done() -> dict:
        return json.loads((ds / "CountedFlow/runs/x/start/0/done.json").read_text())

    task(0, 0)
    assert runs.read_text() == "x" and done()["attempt"] == 0
    task(1, 0)  # a retry of a task that finished (its pod was lost after it published): not redone
    assert runs.read_text() == "x" and done()["attempt"] == 0
    task(2, 2)  # the orchestrator cleared it: a new series of tries begins at attempt 2
    assert runs.read_text() == "xx" and done()["attempt"] == 2
    task(3, 2)  # and a retry of that one is not redone either
    assert runs.read_text() == "xx" and done()["attempt"] == 2


@pytest.mark.metaflow
def test_caught_kill_and_timeout_match_metaflow(tmp_path: Path) -> None:
    """The same flow under `metaflow run`: @catch stores the same types and
    messages for a killed step and a timed-out one."""
    from tests.runtime.test_metaflow_parity import metaflow_env

    folder = tmp_path / "mf"
    folder.mkdir()
    script = folder / "killed.py"
    script.write_text(KILLED.replace("from flowc import", "from metaflow import")
                      + "\n\nif __name__ == '__main__':\n    KilledFlow()\n")
    env = metaflow_env(tmp_path / "mf-root")
    r = subprocess.run([sys.executable, script.name, "--no-pylint", "run", "--run-id-file", "run_id"], cwd=folder,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    read = ("import sys; from metaflow import Run, namespace; namespace(None); "
            "print(repr(Run('KilledFlow/' + sys.argv[1])['join'].task.data.errors))")
    out = subprocess.run([sys.executable, "-c", read, (folder / "run_id").read_text().strip()], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    metaflow_errors = ast.literal_eval(out.stdout)

    flow = tmp_path / "killed.py"
    flow.write_text(KILLED)
    ds = str(tmp_path / "ds")
    assert flowc("run", str(flow), "--datastore", ds, "--run-id", "k", "-q").returncode == 0
    assert Run("KilledFlow/k", ds)["join"].task.data.errors == metaflow_errors


STUBBORN = '''
import os
import subprocess
import time

from flowc import FlowSpec, step, timeout


class StubbornFlow(FlowSpec):
    @timeout(seconds=1)
    @step
    def start(self):
        sleeper = subprocess.Popen(["sleep", "60"])
        with open(os.environ["PIDS_FILE"], "w") as f:
            f.write(f"{os.getpid()} {sleeper.pid}")
        while True:
            try:
                time.sleep(0.05)
            except BaseException:
                pass
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return False


def task_command(tmp_path: Path, source: str, name: str) -> tuple[list[str], Path]:
    flow = tmp_path / "stubborn.py"
    flow.write_text(source)
    ir = tmp_path / f"{name}.ir.json"
    assert flowc("ir", str(flow), "-o", str(ir)).returncode == 0
    ds = tmp_path / "ds"
    return [sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow), "--ir", str(ir), "--step", "start",
            "--run-id", "s", "--index", "0", "--datastore", str(ds)], ds


def test_a_timeout_ends_the_subprocesses_of_the_step_too(tmp_path: Path) -> None:
    argv, ds = task_command(tmp_path, STUBBORN, "StubbornFlow")
    pids = tmp_path / "pids"
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ, "PIDS_FILE": str(pids)})
    assert r.returncode == 1 and "TimeoutException" in r.stderr
    step_pid, sleeper_pid = map(int, pids.read_text().split())
    time.sleep(0.2)
    assert not alive(step_pid) and not alive(sleeper_pid)


def test_sigterm_to_the_task_command_ends_the_step_and_is_recorded(tmp_path: Path) -> None:
    """What Kubernetes does to a deleted pod, and Airflow's on_kill."""
    argv, ds = task_command(tmp_path, STUBBORN.replace("@timeout(seconds=1)", "@timeout(seconds=60)"),
                            "StubbornFlow")
    pids = tmp_path / "pids"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PIDS_FILE": str(pids)})
    deadline = time.time() + 30
    while not (pids.exists() and pids.read_text()) and time.time() < deadline:
        time.sleep(0.02)
    step_pid, sleeper_pid = map(int, pids.read_text().split())
    proc.terminate()
    assert proc.wait(timeout=10) == 1
    time.sleep(0.2)
    assert not alive(step_pid) and not alive(sleeper_pid)
    failure = json.loads((ds / "StubbornFlow/runs/s/start/0/attempt-0/failure.json").read_text())
    assert failure["error"] == "TaskInterrupted: the task was interrupted (SIGTERM)"
