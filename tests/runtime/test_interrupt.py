"""Ctrl-C (SIGINT to the process group, as a terminal sends it) and SIGTERM
during `flowc run`: the run says it was interrupted, names the running tasks
and the resume command, exits 130, leaves no step process behind, is
recorded as interrupted (not failed), and `flowc resume` completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowc.runtime.client import Run
from tests.conftest import REPO
from tests.support.procs import alive, session_members

FLOW = '''
import os
import time

from flowc import FlowSpec, step


class NapFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.nap)

    @step
    def nap(self):
        with open(os.environ["NAP_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
        print("napping", flush=True)
        time.sleep(float(os.environ.get("NAP_SECONDS", "0")))
        self.y = self.x + 1
        self.next(self.end)

    @step
    def end(self):
        print("woke", self.y)
'''


def ctrl_c_as_on_a_terminal() -> None:
    """The run in a session of its own, with SIGINT's default action: a
    process started in the background of a shell without job control (as
    a CI step may start the tests) inherits SIGINT ignored."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how, kind", [("sigint-group", "forked"), ("sigterm", "forked"),
                                       ("sigint-group", "started"), ("sigterm", "started")])
def test_an_interrupted_run_says_so_and_resumes(tmp_path: Path, how: str, kind: str) -> None:
    """Tasks forked (a folder datastore) or started as new processes (an fsspec URL)."""
    (tmp_path / "nap.py").write_text(FLOW)
    ds, pid_file = tmp_path / "ds", tmp_path / "nap.pid"
    url = str(ds) if kind == "forked" else f"file://{ds}"
    env = {**os.environ, "NAP_SECONDS": "30", "NAP_PID_FILE": str(pid_file)}
    proc = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(tmp_path / "nap.py"), "--datastore", url],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_on_a_terminal)
    try:
        deadline = time.time() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert proc.poll() is None and time.time() < deadline, "the step never started"
            time.sleep(0.05)
        step_pid = int(pid_file.read_text())
        time.sleep(0.2)
        started = time.time()
        if how == "sigint-group":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does
        else:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stopped_in = time.time() - started
    assert proc.returncode == 130, err
    assert "Run interrupted: NapFlow/1" in err and "nap/0" in err, err
    assert f"resume with: flowc resume NapFlow/1 --datastore {url}" in err, err
    assert "Run failed" not in err and "Traceback" not in err, err
    assert stopped_in < 15, f"stopping took {stopped_in:.1f} s"
    assert not alive(step_pid), "the step's process outlived the run"
    assert session_members(proc.pid) == [], "processes of the run outlived it"
    run = Run("NapFlow/1", str(ds))
    assert run.status == "interrupted" and run.interrupted_tasks == ["nap/0"]
    record = json.loads((ds / "NapFlow/runs/1/nap/0/attempt-0/failure.json").read_text())
    assert "interrupted" in record["error"], record

    show = subprocess.run([sys.executable, "-m", "flowc", "show", "NapFlow/1", "--datastore", url],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert show.stdout.startswith("NapFlow/1: interrupted\n") and "nap/0" in show.stdout, show.stdout
    assert "nap                      0/1 task done, 1 interrupted" in show.stdout, show.stdout
    assert "NapFlow/1/nap/0: interrupted (attempt 0)" in show.stdout, show.stdout

    again = subprocess.run([sys.executable, "-m", "flowc", "resume", "NapFlow/1", "--datastore", url],
                           cwd=REPO, capture_output=True, text=True, timeout=120,
                           env={**env, "NAP_SECONDS": "0"})
    assert again.returncode == 0, again.stderr
    resumed = Run("NapFlow/2", str(ds))
    assert resumed.status == "succeeded" and resumed["end"].task.data.y == 2
    assert resumed["start"].task.metadata.get("cloned_from") == "NapFlow/1/start/0"


@pytest.mark.parametrize("kind", ["forked", "started"])
def test_a_run_that_ignores_sigint_is_not_stopped_by_it(tmp_path: Path, kind: str) -> None:
    """Started in the background of a script (or under nohup) the runner
    ignores SIGINT: a Ctrl-C to its group must not fail its tasks either."""
    (tmp_path / "nap.py").write_text(FLOW)
    ds, pid_file = tmp_path / "ds", tmp_path / "nap.pid"
    url = str(ds) if kind == "forked" else f"file://{ds}"
    env = {**os.environ, "NAP_SECONDS": "2", "NAP_PID_FILE": str(pid_file)}

    def ignore_sigint() -> None:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(tmp_path / "nap.py"), "--datastore", url],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore_sigint)
    try:
        deadline = time.time() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert proc.poll() is None and time.time() < deadline, "the step never started"
            time.sleep(0.05)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert Run("NapFlow/1", str(ds)).status == "succeeded"
