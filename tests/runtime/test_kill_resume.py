"""kill -9 and a full disk in the middle of `flowc run`: nothing half-written
is readable, and `flowc resume` completes the run with correct artifacts.

- a task killed while it writes a 200 MB artifact;
- the runner itself killed mid-run (its tasks end with it);
- the runner killed, with a folder datastore (forked tasks) and an fsspec one
  (tasks started as new processes, which watch a pipe the runner holds);
- a full disk: simulated by an fsspec filesystem (registered by a
  sitecustomize module on PYTHONPATH) that raises ENOSPC for any write larger
  than FULLDISK_LIMIT bytes: no root, no mount, nothing outside tmp_path.
"""

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
from tests.support.procs import session_members, wait_until

MB = 1024 * 1024

BIG = '''
from flowc import FlowSpec, step


class BigFlow(FlowSpec):
    @step
    def start(self):
        self.blob = b"x" * (200 * 1024 * 1024)
        self.next(self.end)

    @step
    def end(self):
        self.size = len(self.blob)
'''


def flowc(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=300)


def writers_of(path_prefix: str) -> list[int]:
    """Processes holding open a file whose path starts with path_prefix (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}").startswith(path_prefix) for fd in fds):
                pids.append(int(entry))
        except OSError:
            continue
    return pids


def test_a_task_killed_while_writing_200mb_leaves_nothing_and_resume_completes(tmp_path: Path) -> None:
    flow = tmp_path / "big.py"
    flow.write_text(BIG)
    ds = tmp_path / "ds"
    data = ds / "BigFlow" / "data"
    run = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(ds),
                            "--run-id", "k", "-q"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    killed, deadline = [], time.time() + 60
    while not killed and time.time() < deadline and run.poll() is None:
        partial = [p for p in data.rglob(".tmp-*") if p.stat().st_size > 0] if data.exists() else []
        for p in partial:
            for pid in writers_of(str(p)):
                os.kill(pid, signal.SIGKILL)  # the step's process, mid-write
                killed.append(pid)
        time.sleep(0.002)
    assert killed, "never saw the artifact being written"
    assert run.wait(timeout=120) == 1
    assert "killed by SIGKILL" in run.stderr.read()
    assert not (ds / "BigFlow/runs/k/start/0/done.json").exists()
    assert all(p.stat().st_size < 1024 for p in data.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
    assert not Run("BigFlow/k", str(ds))["start"].task.successful

    resumed = flowc("resume", "BigFlow/k", "--datastore", str(ds), "--run-id", "k2", "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert Run("BigFlow/k2", str(ds))["end"].task.data.size == 200 * MB


SLOW_FOREACH = '''
import time

from flowc import FlowSpec, step


class SlowForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(4))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        time.sleep(0.2 + self.input)
        self.double = 2 * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.double for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''




@pytest.mark.parametrize("kind", ["forked", "started"])
def test_the_runner_killed_mid_run_leaves_no_task_behind_and_resumes(tmp_path: Path, kind: str) -> None:
    """Tasks are forked (a local folder) or started as new processes (an fsspec URL)."""
    flow = tmp_path / "slow_foreach.py"
    flow.write_text(SLOW_FOREACH)
    ds = tmp_path / "ds"
    url, env = str(ds), dict(os.environ)
    if kind == "started":
        url, env = f"fulldisk://{ds}", {**env, **fulldisk_env(tmp_path)}
    run = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", url, "--run-id", "s",
                            "--max-workers", "4", "-q"], cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    first = ds / "SlowForeachFlow" / "runs" / "s" / "work" / "0" / "done.json"  # the first work task
    deadline = time.time() + 60
    while not first.exists() and time.time() < deadline:
        time.sleep(0.02)
    assert first.exists()
    os.kill(run.pid, signal.SIGKILL)  # the runner itself, while work 1..3 still run
    run.wait()
    wait_until(lambda: not session_members(run.pid), timeout=5, step=0.05)
    assert session_members(run.pid) == [], "tasks went on running after the runner was killed"
    assert not (ds / "SlowForeachFlow/runs/s/join").exists()
    assert json.loads((ds / "SlowForeachFlow/runs/s/run.json").read_text())["status"] == "running"

    resumed = flowc("resume", "SlowForeachFlow/s", "--datastore", url, "--run-id", "s2", "-q", env=env)
    assert resumed.returncode == 0, resumed.stderr
    again = Run("SlowForeachFlow/s2", str(ds))
    assert again["join"].task.data.total == 12
    assert again["start"].task.metadata.get("cloned_from") and again["work"]["0"].metadata.get("cloned_from")
    assert not again["work"]["3"].metadata.get("cloned_from")


FULLDISK = '''
"""Registers fulldisk://: a local folder whose disk has FULLDISK_LIMIT bytes left."""
import errno
import os

import fsspec
from fsspec.implementations.local import LocalFileSystem


class FullDisk(LocalFileSystem):
    protocol = "fulldisk"

    def pipe_file(self, path, value, mode="overwrite", **kwargs):
        if len(value) > int(os.environ.get("FULLDISK_LIMIT") or 1 << 62):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        return super().pipe_file(path, value, mode=mode, **kwargs)

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, str) and path.startswith("fulldisk://"):
            path = path[len("fulldisk://"):]
        return super()._strip_protocol(path)


fsspec.register_implementation("fulldisk", FullDisk, clobber=True)
'''

ARTIFACT_FLOW = '''
from flowc import FlowSpec, step


class DiskFlow(FlowSpec):
    @step
    def start(self):
        self.small = 1
        self.next(self.fill)

    @step
    def fill(self):
        self.data = b"y" * (2 * 1024 * 1024)
        self.next(self.end)

    @step
    def end(self):
        self.size = len(self.data) + self.small
'''


def fulldisk_env(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH with a sitecustomize that registers fulldisk:// (FULLDISK)."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(FULLDISK)
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_a_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path: Path) -> None:
    flow = tmp_path / "disk.py"
    flow.write_text(ARTIFACT_FLOW)
    ds = f"fulldisk://{tmp_path / 'ds'}"
    env = fulldisk_env(tmp_path)
    full = flowc("run", str(flow), "--datastore", ds, "--run-id", "d", "-q", env={**env, "FULLDISK_LIMIT": str(MB)})
    assert full.returncode == 1
    assert "No space left on device [ENOSPC] (the disk is full: free space, then `flowc resume` the run)" in full.stderr
    assert "Traceback" not in full.stderr
    assert "flowc resume DiskFlow/d" in full.stderr
    assert not (tmp_path / "ds/DiskFlow/runs/d/fill/0/done.json").exists()
    resumed = flowc("resume", "DiskFlow/d", "--datastore", ds, "--run-id", "d2", "-q", env=env)  # space freed
    assert resumed.returncode == 0, resumed.stderr
    run = Run("DiskFlow/d2", str(tmp_path / "ds"))
    assert run["end"].task.data.size == 2 * MB + 1 and run["start"].task.metadata.get("cloned_from")


def test_a_file_size_limit_on_a_local_datastore_is_a_clear_error_and_the_run_resumes(tmp_path: Path) -> None:
    """The local (forked) path: RLIMIT_FSIZE makes the disk refuse files over 1 MB (EFBIG)."""
    import resource

    flow = tmp_path / "disk.py"
    flow.write_text(ARTIFACT_FLOW)
    ds = str(tmp_path / "ds")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (MB, MB))

    full = subprocess.run([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", ds, "--run-id", "d", "-q"],
                          capture_output=True, text=True, cwd=REPO, timeout=300, preexec_fn=limit)
    assert full.returncode == 1
    assert "[EFBIG] (the disk is full: free space, then `flowc resume` the run)" in full.stderr
    assert "Traceback" not in full.stderr
    resumed = flowc("resume", "DiskFlow/d", "--datastore", ds, "--run-id", "d2", "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert Run("DiskFlow/d2", ds)["end"].task.data.size == 2 * MB + 1


SPAWNING = '''
import subprocess
import sys
import time

from flowc import FlowSpec, step


class SpawningFlow(FlowSpec):
    @step
    def start(self):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        with open("child.pid", "w") as f:
            f.write(str(child.pid))
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("kind", ["forked", "started"])
def test_the_runner_killed_takes_the_steps_own_subprocesses_with_it(tmp_path: Path, kind: str) -> None:
    """The step's process dies with its parent; what the step started (its
    process group) too, though nothing of it ever knew the runner."""
    flow = tmp_path / "spawning.py"
    flow.write_text(SPAWNING)
    ds = tmp_path / "ds"
    url, env = str(ds), dict(os.environ)
    if kind == "started":
        url, env = f"fulldisk://{ds}", {**env, **fulldisk_env(tmp_path)}
    run = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", url, "-q"], cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    pid_file = tmp_path / "child.pid"
    deadline = time.time() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.time() < deadline:
        time.sleep(0.02)
    grandchild = int(pid_file.read_text())
    assert grandchild in session_members(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    wait_until(lambda: not session_members(run.pid), timeout=5, step=0.05)
    assert session_members(run.pid) == [], "the step's subprocess outlived the runner"
