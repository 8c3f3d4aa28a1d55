"""A task command (``python -m flowc.runtime step``, started with subprocess
when the datastore is not a local folder) is reaped by the runner alone.

subprocess reaps, at every new Popen, the exited processes of the Popen
objects that were dropped while their process ran (subprocess._cleanup).
The runner starts the next task with a Popen: if that came between a task's
exit and the runner's own waitpid, the runner found no child and recorded a
task that had succeeded as one that "exited with code 1" (on S3, now and
then, the first foreach tasks of a run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.plan import FlowPlan
from flowc.runtime.progress import Reporter
from flowc.runtime.scheduler import LocalRunner, TaskRef
from tests.conftest import REPO


@pytest.mark.skipif(not hasattr(os, "waitid") or not hasattr(os, "WNOWAIT"), reason="needs waitid(WNOWAIT)")
def test_a_task_command_that_exited_before_the_next_launch_is_seen_to_succeed(tmp_path: Path) -> None:
    ir = tmp_path / "ForeachFlow.ir.json"
    made = subprocess.run([sys.executable, "-m", "flowc", "ir", "examples/foreach_flow.py", "-o", str(ir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    plan = FlowPlan.load(str(ir))
    runner = LocalRunner(plan, str(REPO / "examples" / "foreach_flow.py"), str(ir), str(tmp_path / "ds"),
                         params={"count": 2}, reporter=Reporter(plan.name, "", quiet=True))
    runner.fork_ok = False  # tasks as task commands, as with an fsspec datastore
    runner.start_run()
    runner.reporter.run_id = runner.run_id
    runner.launch(TaskRef(plan.start), 0)
    (pid, task), = runner.running.items()
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # it has exited; still a zombie, for its parent to reap
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # the next task's launch: a Popen
    status = task.poll()
    del runner.running[pid]
    runner.forget(task)
    assert status is not None and os.waitstatus_to_exitcode(status) == 0, \
        "the runner could not reap its own task command: subprocess had reaped it"
    assert runner.ds.read_done(runner.run_id, plan.start, "0") is not None
