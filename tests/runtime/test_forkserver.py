"""Forked tasks start from the fork server (runtime/forkserver.py), a small
process of the runner's that forks them, reaps them and sends their exit
statuses back, so that the runner shares no memory with any task.

The runner killed takes the server and its tasks with it:
test_kill_resume.py (every process of the run's session is gone). Ctrl-C
and SIGTERM to the whole group stop the run as before: test_interrupt.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime import forkserver, supervise
from flowc.runtime.client import Run
from flowc.runtime.plan import FlowPlan
from flowc.runtime.progress import Reporter
from flowc.runtime.scheduler import LocalRunner
from tests.conftest import REPO
from tests.support.procs import stat_fields, wait_until

pytestmark = pytest.mark.skipif(not forkserver.available() or not Path("/proc/self/stat").exists(),
                                reason="needs fork, fd passing and /proc")

PARENTS = '''
import os
import sys

from flowc import FlowSpec, step


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def state_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


class ParentsFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2, 3]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.me = os.getpid()
        self.parent = os.getppid()
        self.grandparent = parent_of(self.parent)
        self.handlers = sorted(m for m in ("threading", "random", "logging") if m in sys.modules)
        self.stdin = os.read(0, 100).decode()  # fd 0: what sys.stdin reads in a task
        self.events = os.environ.get("FLOWC_EVENTS", "")
        self.next(self.join)

    @step
    def join(self, inputs):
        server = os.getppid()
        with open(f"/proc/{server}/task/{server}/children") as f:
            siblings = [int(pid) for pid in f.read().split()]
        self.zombies = [pid for pid in siblings if state_of(pid) == "Z"]  # ended, not released
        self.parents = sorted({i.parent for i in inputs})
        self.grandparents = sorted({i.grandparent for i in inputs})
        self.handlers = sorted({m for i in inputs for m in i.handlers})
        self.stdins = sorted({i.stdin for i in inputs})
        self.events = sorted({i.events for i in inputs})
        self.next(self.end)

    @step
    def end(self):
        pass
'''

SERVER_KILLED = '''
import os
import signal
import time

from flowc import FlowSpec, current, retry, step


class ServerKilledFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.fan, foreach="items")

    @retry(times=1)
    @step
    def fan(self):
        if self.input == 1 and current.retry_count == 0:
            os.kill(os.getppid(), signal.SIGKILL)  # the fork server: this task dies with it
            time.sleep(60)
        self.server = os.getppid()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.servers = [i.server for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def run_flow(tmp_path: Path, source: str, name: str, *extra: str) -> tuple[subprocess.Popen, Run]:
    flow = tmp_path / f"{name.lower()}.py"
    flow.write_text(source)
    ds = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(ds),
                             "--run-id", "r", "--quiet", *extra], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate("typed at the terminal\n", timeout=120)
    finally:
        if proc.poll() is None:  # a run that hangs fails the test, and is ended
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out + err
    return proc, Run(f"{name}/r", str(ds))


def test_forked_tasks_are_children_of_one_fork_server_of_the_runner_which_ends_with_the_run(tmp_path: Path) -> None:
    proc, run = run_flow(tmp_path, PARENTS, "ParentsFlow", "--max-workers", "4")
    data = run["join"].task.data
    (server,) = data.parents  # every task forked by the same process
    assert server != proc.pid, "tasks were forked by the runner itself"
    assert data.grandparents == [proc.pid], "the fork server is not the runner's"
    assert data.zombies == [], "the runner did not release the tasks it had done with"
    assert data.stdins == [""], "a task read the run's standard input"
    (events,) = data.events  # the run's variables (where tasks publish events) reach each task
    assert events.startswith("file:"), events
    with pytest.raises(ProcessLookupError):  # it ended with the run (and the runner reaped it)
        os.kill(server, 0)


def test_a_forked_task_runs_no_handler_of_a_module_its_step_did_not_import(tmp_path: Path) -> None:
    """threading, random and logging register code that every forked process
    runs first (os.register_at_fork: new locks, a new seed): a seventh of a
    short task's page copies. Neither the runner, nor so the fork server,
    nor a task's own runtime imports them; a step that does pays for it."""
    _, run = run_flow(tmp_path, PARENTS, "ParentsFlow")
    assert run["join"].task.data.handlers == []


def test_the_fork_server_killed_fails_its_running_task_and_the_next_task_gets_a_new_server(tmp_path: Path) -> None:
    proc, run = run_flow(tmp_path, SERVER_KILLED, "ServerKilledFlow", "--max-workers", "1")
    first, retried, last = run["join"].task.data.servers
    assert first != retried and retried == last, "a new fork server started the retry and the task after it"
    failure = json.loads((tmp_path / "ds/ServerKilledFlow/runs/r/fan/1/attempt-0/failure.json").read_text())
    assert "signal 9" in failure["error"] or "SIGKILL" in failure["error"], failure


def test_a_task_forked_by_the_server_gives_its_output_and_exit_status() -> None:
    server = forkserver.ForkServer()
    try:
        watched = supervise.start(_exit_with, None, capture=True, spawn=server.spawn)
        status = _wait(server, watched.pid)
        out = watched.finish(status)
        assert (out.code, out.stdout, out.stderr) == (3, b"to stdout\n", b"to stderr\n")
        assert out.reported
        killed = supervise.start(_killed, None, capture=True, spawn=server.spawn)
        out = killed.finish(_wait(server, killed.pid))
        assert (out.code, out.signal, out.reported) == (None, signal.SIGKILL, False)
    finally:
        server.close()
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)


def test_an_ended_task_keeps_its_pid_until_the_runner_releases_it() -> None:
    """Until then the runner may still signal its process group (a step past
    its deadline, a stopped run): its pid must not be another process's."""
    server = forkserver.ForkServer()
    try:
        watched = supervise.start(_exit_with, None, capture=True, spawn=server.spawn)
        out = watched.finish(_wait(server, watched.pid))
        assert out.code == 3
        assert stat_fields(watched.pid)[0] == "Z", "the server reaped the task itself"
        server.release(watched.pid)
        assert wait_until(lambda: stat_fields(watched.pid) is None, timeout=5, step=0.05), \
            "the server did not reap the released task"
    finally:
        server.close()


def in_process_runner(tmp_path: Path) -> LocalRunner:
    """A runner of PARENTS in this process (its tasks' parent is this process or a server of it)."""
    flow = tmp_path / "parentsflow.py"
    flow.write_text(PARENTS)
    ir = tmp_path / "ParentsFlow.ir.json"
    made = subprocess.run([sys.executable, "-m", "flowc", "ir", str(flow), "-o", str(ir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    plan = FlowPlan.load(str(ir))
    return LocalRunner(plan, str(flow), str(ir), str(tmp_path / "ds"), run_id="r",
                       reporter=Reporter(plan.name, "", quiet=True))


def test_where_there_is_no_fork_server_tasks_are_forked_by_the_runner(tmp_path: Path) -> None:
    runner = in_process_runner(tmp_path)
    runner.fork_server = False  # as where fds cannot be passed
    assert runner.run().ok
    assert Run("ParentsFlow/r", str(tmp_path / "ds"))["join"].task.data.parents == [os.getpid()]


class DiesWhenAsked(forkserver.ForkServer):
    """A fork server that dies as the first ``deaths`` servers are asked for a task."""

    made = 0
    deaths = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        type(self).made += 1
        self.dies = type(self).made <= type(self).deaths

    def spawn(self, *args):
        if self.dies:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        return super().spawn(*args)


@pytest.mark.parametrize("deaths, forked_here", [(1, False), (2, True)])
def test_a_fork_server_that_dies_as_it_is_asked_is_replaced_once_then_the_runner_forks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int, forked_here: bool) -> None:
    monkeypatch.setattr(forkserver, "ForkServer", type("Dies", (DiesWhenAsked,), {"deaths": deaths}))
    runner = in_process_runner(tmp_path)
    assert runner.run().ok
    parents = Run("ParentsFlow/r", str(tmp_path / "ds"))["join"].task.data.parents
    if forked_here:
        assert parents == [os.getpid()] and runner.fork_server is False
    else:
        assert len(parents) == 1 and parents != [os.getpid()], "the second server forked no task"


def _exit_with() -> int:
    os.write(1, b"to stdout\n")  # its fds 1 and 2 (pytest holds sys.stdout and sys.stderr)
    os.write(2, b"to stderr\n")
    return 3


def _killed() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def _wait(server: forkserver.ForkServer, pid: int) -> int:
    import select

    for _ in range(600):
        status = server.poll(pid)
        if status is not None:
            return status
        select.select([server.fileno()], [], [], 0.1)
    raise AssertionError("no exit status from the fork server")


@pytest.mark.parametrize("env", [{}, {"TMPDIR": "missing", "TEMP": "."}, {"TMP": "."}])
def test_the_runner_finds_the_folder_for_the_ir_where_tempfile_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       env: dict[str, str]) -> None:
    """Without importing tempfile (and so random) into the runner: the same folder as tempfile's own search."""
    import tempfile

    from flowc.commands._local import _temp_root

    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    for name, folder in env.items():
        monkeypatch.setenv(name, str(tmp_path / folder))
    assert _temp_root() == tempfile._get_default_tempdir()
