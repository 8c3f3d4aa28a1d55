"""`flowc run`: parameters, plan, output, failures, bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.client import Run
from tests.conftest import REPO


def flowc(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=180)


def test_parameters_are_typed_from_the_command_line(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    r = flowc("run", "tests/flows/parameters.py", "--datastore", str(ds), "--count", "2", "--flag", "false",
              "--options", '{"depth": 5}', "--lr", "0.5", "--text", "hi \"there\"")
    assert r.returncode == 0, r.stderr
    seen = Run("ParametersFlow/1", str(ds))["start"].task.data.seen
    assert seen == {"text": 'hi "there"', "count": 2, "ratio": 0.25, "flag": False, "options": {"depth": 5},
                    "weights": [0.5, 0.5], "lr": 0.5}


def test_help_lists_the_flows_parameters() -> None:
    r = flowc("run", "examples/recsys.py", "--help")
    assert r.returncode == 0
    assert "--alpha FLOAT" in r.stdout and "weight of model A in the blend" in r.stdout and "default: 0.5" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--nope", "1"], "unknown option --nope"),
    (["--alpha", "much"], "parameter 'alpha' must be a float"),
    (["--seed", "1.5"], "parameter 'seed' must be an int"),
])
def test_bad_parameters_exit_2_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    ds = tmp_path / "ds"
    r = flowc("run", "examples/recsys.py", "--datastore", str(ds), *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not ds.exists()


def test_missing_required_parameter(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    r = flowc("run", "tests/flows/required_params.py", "--datastore", str(ds))
    assert r.returncode == 2 and "parameter 'dataset' is required" in r.stderr and not ds.exists()
    ok = flowc("run", "tests/flows/required_params.py", "--datastore", str(ds), "--dataset", "iris")
    assert ok.returncode == 0
    assert Run("RequiredParamsFlow/1", str(ds))["end"].task.data.summary == "iris:False"


def test_unreachable_datastore_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = flowc("run", "examples/foreach_flow.py", "--datastore", str(blocker / "ds"))
    assert r.returncode == 2 and "cannot use datastore" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    s3 = flowc("run", "examples/foreach_flow.py", "--datastore", "s3://flowc-no-such-bucket/x",
               env={"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"})
    assert s3.returncode == 2 and "cannot use datastore s3://flowc-no-such-bucket/x" in s3.stderr, s3.stderr


def test_plan_runs_nothing(tmp_path: Path) -> None:
    r = flowc("run", "--plan", "examples/nested_foreach.py", "--datastore", str(tmp_path / "ds"))
    assert r.returncode == 0
    assert "score: one task per item of self.models x self.folds" in r.stdout
    assert "per_model_done: one task per item of self.models; joins the foreach of per_model" in r.stdout
    assert not (tmp_path / "ds").exists()


def test_output_is_prefixed_and_plain_when_not_a_terminal(tmp_path: Path) -> None:
    r = flowc("run", "examples/foreach_flow.py", "--datastore", str(tmp_path / "ds"))
    assert r.returncode == 0
    assert "[end/0] sum of squares: 55" in r.stderr
    assert "ForeachFlow/1/square/4: done in" in r.stderr
    assert "\x1b[" not in r.stderr
    assert "Run succeeded: ForeachFlow/1" in r.stderr and "flowc show ForeachFlow/1" in r.stderr
    quiet = flowc("run", "examples/foreach_flow.py", "--datastore", str(tmp_path / "ds"), "--quiet")
    assert "started" not in quiet.stderr and "Run succeeded: ForeachFlow/2" in quiet.stderr


FAILING = '''
from flowc import FlowSpec, step


class FailingFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        helper(self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


def helper(x):
    if x == 2:
        raise ValueError("bad item " + str(x))
'''


def test_a_failure_names_step_task_error_and_the_resume_command(tmp_path: Path) -> None:
    flow = tmp_path / "failing.py"
    flow.write_text(FAILING)
    r = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--quiet")
    assert r.returncode == 1
    assert "step work, task 1 failed (attempt 0):" in r.stderr
    assert 'raise ValueError("bad item " + str(x))' in r.stderr and "ValueError: bad item 2" in r.stderr
    assert "flowc/runtime" not in r.stderr, "the traceback shows the runtime's own frames"
    assert "resume with: flowc resume FailingFlow/1" in r.stderr


def test_sys_exit_and_crash_fail_one_task_only(tmp_path: Path) -> None:
    flow = tmp_path / "crash.py"
    flow.write_text(FAILING.replace('raise ValueError("bad item " + str(x))', "import os; os._exit(3)"))
    # three workers: the three items start together, so the other two finish
    r = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--quiet", "--max-workers", "3")
    assert r.returncode == 1 and "step work, task 1 failed" in r.stderr
    run = Run("FailingFlow/1", str(tmp_path / "ds"))
    assert sorted(t.id for t in run["work"] if t.successful) == ["0", "2"]
    assert run.status == "failed"


def test_logs_and_show(tmp_path: Path) -> None:
    ds = str(tmp_path / "ds")
    assert flowc("run", "examples/recsys.py", "--datastore", ds, "-q").returncode == 0
    logs = flowc("logs", "RecSysFlow/1/end", "--datastore", ds)
    assert logs.stdout.startswith("top items: [")
    show = flowc("show", "RecSysFlow/1/ensemble/0", "--datastore", ds)
    assert "scores" in show.stdout and "alpha" in show.stdout
    runs = flowc("runs", "--datastore", ds)
    assert "RecSysFlow/1" in runs.stdout and "succeeded" in runs.stdout


def test_a_terminal_gets_a_live_status_line(tmp_path: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "flowc", "run", "examples/foreach_flow.py", "--datastore",
                             str(tmp_path / "ds")], cwd=REPO, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "\r\x1b[K" in text  # the status line is redrawn in place
    assert "ForeachFlow/1: " in text and "done, " in text and "running" in text
    assert "[end/0] sum of squares: 55" in text
    assert "Run succeeded: ForeachFlow/1" in text


CONCURRENT = '''import os
import time

from flowc import FlowSpec, Parameter, step


class ConcurrentFlow(FlowSpec):
    folder = Parameter("folder", default="")
    width = Parameter("width", default=1)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        mine = os.path.join(self.folder, str(self.input))
        open(mine, "w").close()
        deadline = time.time() + 10  # until every item runs at once, or 10 s
        while len(os.listdir(self.folder)) < self.width and time.time() < deadline:
            time.sleep(0.01)
        self.seen = len(os.listdir(self.folder))
        self.next(self.join)

    @step
    def join(self, inputs):
        self.seen = [i.seen for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_by_default_two_more_tasks_than_cores_run_at_once(tmp_path: Path) -> None:
    """The runner and its fork server start and reap on a core too: cores + 2
    tasks keep every core busy."""
    flow, folder = tmp_path / "concurrent.py", tmp_path / "running"
    flow.write_text(CONCURRENT)
    folder.mkdir()
    width = (os.cpu_count() or 1) + 2
    r = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--quiet", "--folder", str(folder),
              "--width", str(width))
    assert r.returncode == 0, r.stderr
    assert Run("ConcurrentFlow/1", str(tmp_path / "ds"))["join"].task.data.seen == [width] * width
