"""`python -m flowc.runtime step`: the one command every target runs
(docs/runtime-contract.md), driven here the way an orchestrator would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler import ir, load_flow
from flowc.runtime.client import Run
from tests.conftest import REPO


class Task:
    def __init__(self, tmp: Path, flow_file: Path):
        self.flow_file = flow_file
        self.flow = load_flow(flow_file)
        self.ir = tmp / f"{self.flow.name}.ir.json"
        self.ir.write_text(ir.dump(self.flow))
        self.ds = tmp / "ds"
        self.tmp = tmp

    def __call__(self, step: str, index: str = "0", attempt: int = 0, *extra: str, run_id: str = "r1"):
        out = self.tmp / f"out-{step}-{index}-{attempt}-{len(extra)}.json"
        r = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(self.flow_file), "--ir",
                            str(self.ir), "--step", step, "--run-id", run_id, "--index", index, "--attempt", str(attempt),
                            "--datastore", str(self.ds), "--output", str(out), *extra],
                           capture_output=True, text=True, cwd=REPO, timeout=120)
        r.out = json.loads(out.read_text()) if out.exists() else None
        return r

    def data(self, step: str, task: str = "0", run_id: str = "r1"):
        return Run(f"{self.flow.name}/{run_id}", str(self.ds))[step][task].data


def fixture(tmp_path: Path, name: str) -> Task:
    return Task(tmp_path, REPO / "tests" / "flows" / f"{name}.py")


def test_foreach_split_reports_its_count_and_manifest(tmp_path: Path) -> None:
    t = fixture(tmp_path, "foreach")
    r = t("start")
    assert r.returncode == 0, r.stderr
    assert r.out["foreach_count"] == 4 and r.out["next"] == ["upper"]
    assert json.loads(Path(r.out["foreach_manifest"]).read_text()) == [0, 1, 2, 3]
    for i in range(4):
        assert t("upper", str(i)).returncode == 0
    assert t("join").returncode == 0
    assert t.data("join").words_upper == ["ALPHA", "BETA", "GAMMA", "DELTA"]


def test_out_json_stays_small_whatever_the_data(tmp_path: Path) -> None:
    flow = tmp_path / "wide.py"
    flow.write_text("from flowc import FlowSpec, step\n\nclass WideFlow(FlowSpec):\n    @step\n    def start(self):\n"
                    "        self.items = [\"x\" * 1000] * 5000\n        self.next(self.body, foreach=\"items\")\n\n"
                    "    @step\n    def body(self):\n        self.next(self.join)\n\n    @step\n    def join(self, inputs):\n"
                    "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    t = Task(tmp_path, flow)
    r = t("start")
    assert r.returncode == 0 and r.out["foreach_count"] == 5000
    assert len(json.dumps(r.out)) < 400


def test_switch_reports_case_and_chosen_step(tmp_path: Path) -> None:
    t = fixture(tmp_path, "switch")
    r = t("start", "0", 0, "--param", "size=500")
    assert r.out == {"case": "big", "chosen": "big", "next": ["big"], "step": "start", "task_id": "0"}
    assert t("big").returncode == 0 and t("merge").returncode == 0
    assert t.data("merge").value == 50000
    # a case that did not run is no input
    assert t("small").returncode == 1


def test_recursive_switch_iterations(tmp_path: Path) -> None:
    t = fixture(tmp_path, "recursive_switch")
    assert t("start").returncode == 0
    chosen = []
    for k in range(3):
        r = t("loop", "0", 0, "--iteration", str(k))
        assert r.returncode == 0, r.stderr
        assert r.out["task_id"] == ("0" if k == 0 else f"0@{k}")
        chosen.append(r.out["chosen"])
    assert chosen == ["loop", "loop", "finish"]
    assert t("finish").returncode == 0
    assert t.data("finish").final == 3


def test_a_finished_task_is_not_run_again(tmp_path: Path) -> None:
    t = fixture(tmp_path, "linear")
    first = t("start")
    done = t.ds / "LinearFlow" / "runs" / "r1" / "start" / "0" / "done.json"
    stamp = done.stat().st_mtime_ns
    again = t("start", "0", 1)
    assert again.returncode == 0 and again.out == first.out and done.stat().st_mtime_ns == stamp


@pytest.mark.parametrize("args, message", [
    (["--index", "1.2"], "a step outside any foreach has index 0"),
    (["--iteration", "1"], "only for a recursive switch"),
    (["--param", "nope=1"], "unknown parameter 'nope'"),
    (["--param", "count=many"], "parameter 'count' must be an int"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    t = fixture(tmp_path, "parameters")
    step, index = ("start", "0")
    extra = [a for a in args]
    if extra[0] == "--index":
        index, extra = extra[1], extra[2:]
    r = t(step, index, 0, *extra)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_parameters_from_text_are_typed_and_inherited(tmp_path: Path) -> None:
    t = fixture(tmp_path, "parameters")
    r = t("start", "0", 0, "--param", "count=4", "--param", "flag=false", "--param", 'options={"k": [1]}',
          "--param", "text=a=b")
    assert r.returncode == 0, r.stderr
    seen = t.data("start").seen
    assert seen["count"] == 4 and seen["flag"] is False and seen["options"] == {"k": [1]} and seen["text"] == "a=b"
    assert t("end").returncode == 0 and t.data("end").echo == "a=b" * 4


def test_catch_applies_only_on_the_last_attempt(tmp_path: Path) -> None:
    t = fixture(tmp_path, "retry_catch")
    assert t("start").returncode == 0
    first = t("broken", "0", 0)
    assert first.returncode == 1 and "ValueError: always fails" in first.stderr
    last = t("broken", "0", 1)
    assert last.returncode == 0 and "@catch" in last.stderr
    error = t.data("broken").error  # stored as Metaflow stores it
    assert type(error).__name__ == "MetaflowExceptionWrapper"
    assert error.type == "builtins.ValueError" and error.exception == "always fails"
    assert 'raise ValueError("always fails")' in error.stacktrace
    assert t.data("broken").partial is True


def test_timeout_fails_the_task(tmp_path: Path) -> None:
    flow = tmp_path / "slow.py"
    flow.write_text("import time\nfrom flowc import FlowSpec, step, timeout\n\nclass SlowFlow(FlowSpec):\n"
                    "    @timeout(seconds=1)\n    @step\n    def start(self):\n        time.sleep(30)\n"
                    "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    t = Task(tmp_path, flow)
    r = t("start")
    assert r.returncode == 1 and "TimeoutException: Step start timed out after 0 hours, 0 minutes, 1 seconds" in r.stderr


def test_current_describes_the_task(tmp_path: Path) -> None:
    flow = tmp_path / "cur.py"
    flow.write_text("from flowc import FlowSpec, Parameter, current, step\n\nclass CurFlow(FlowSpec):\n"
                    "    p = Parameter('p', default=1)\n\n    @step\n    def start(self):\n"
                    "        self.seen = (current.flow_name, current.run_id, current.step_name, current.task_id,\n"
                    "                     current.retry_count, current.parameter_names, current.pathspec)\n"
                    "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    t = Task(tmp_path, flow)
    assert t("start", "0", 2, run_id="manual__2026-01-01T00:00:00+00:00").returncode == 0
    safe = "manual__2026-01-01T00%3A00%3A00%2B00%3A00"
    assert t.data("start", run_id=safe).seen == ("CurFlow", safe, "start", "0", 2, ["p"], f"CurFlow/{safe}/start/0")


def test_a_metaflow_name_flowc_lacks_fails_with_one_clear_message(tmp_path: Path) -> None:
    flow = tmp_path / "mf.py"
    flow.write_text("from metaflow import FlowSpec, step\nfrom metaflow import S3\n\nclass MfFlow(FlowSpec):\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n"
                    "        pass\n")
    t = Task(tmp_path, flow)
    r = t("start")
    assert r.returncode == 1
    assert "metaflow.S3 is not supported by flowc, which runs this flow without Metaflow" in r.stderr


def test_output_only_reads_a_finished_task_and_never_runs_one(tmp_path: Path) -> None:
    t = fixture(tmp_path, "foreach")
    missing = t("start", "0", 0, "--output-only")
    assert missing.returncode == 1 and "has not finished" in missing.stderr and missing.out is None
    assert not (t.ds / "ForeachFixtureFlow" / "runs" / "r1" / "start").exists()
    ran = t("start")
    again = t("start", "0", 0, "--output-only")
    assert again.returncode == 0 and again.out == ran.out and again.out["foreach_count"] == 4


def test_the_client_accepts_an_orchestrators_own_run_id(tmp_path: Path) -> None:
    t = fixture(tmp_path, "linear")
    raw = "scheduled__2026-11-22T00:00:00+00:00"
    assert t("start", run_id=raw).returncode == 0
    run = Run(f"LinearFlow/{raw}", str(t.ds))
    assert run.id == "scheduled__2026-11-22T00%3A00%3A00%2B00%3A00"
    assert run["start"].task.data.x == 1


def test_out_json_carries_the_events_the_task_published(tmp_path: Path) -> None:
    """For an orchestrator that forwards them after the task (Airflow's asset events):
    what a step published, the end event of the end task, read back by --output-only too."""
    t = Task(tmp_path, REPO / "tests" / "targets" / "airflow" / "events" / "ingest.py")
    start = t("start")
    assert start.returncode == 0, start.stderr
    (event,) = start.out["events"]
    assert event["name"] == "data_ready" and event["payload"]["rows"] == 42 and event["type"] == "event"
    check = t("check")
    assert [(e["name"], e["payload"]) for e in check.out["events"]] == [("quality.checked", {"score": 0.75})]
    end = t("end")
    (ended,) = end.out["events"]
    assert (ended["name"], ended["type"], ended["id"]) == ("metaflow.Ingest.end", "run", "Ingest/r1/end/0")
    assert t("start", "0", 0, "--output-only").out["events"] == start.out["events"]


def test_out_json_has_no_events_when_the_task_published_none(tmp_path: Path) -> None:
    t = fixture(tmp_path, "linear")
    r = t("start")
    assert r.returncode == 0, r.stderr
    assert "events" not in r.out
