"""Real Prefect runs on Prefect 3 against the session's server: what
parameters, failures, logs, wide foreaches and timeouts do. Every corpus flow
runs on Prefect in tests/targets/test_matrix.py, which compares its artifacts
with `flowc run`'s (container steps run here too: a flow run directly, not
from a deployment, runs every step in its own process; test_prefect_deploy.py
covers the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.artifacts import run_artifacts

from .conftest import build, load_prefect_flow

pytestmark = pytest.mark.engine


def run_on_prefect(path: Path, tmp_path: Path, params: dict | None = None, **options):
    """Compile, then run the flow with Prefect; (flow run state, run id, datastore)."""
    ds = tmp_path / "ds"
    plan = build(path, tmp_path / "prefect", ds, **options)
    flow = load_prefect_flow(tmp_path / "prefect", plan.flow_func)
    state = flow(**(params or {}), return_state=True)
    return state, str(state.state_details.flow_run_id), ds, plan


def test_parameters_reach_the_flow(tmp_path: Path, prefect_api):
    """Values given to the Prefect flow (every type) are the artifacts' values."""
    path = Path(__file__).parents[2] / "flows" / "parameters.py"
    given = {"text": "über \"x\"", "count": 7, "ratio": 1.5, "flag": False, "options": {"k": ["{{ v }}"]},
             "weights": [1, 2], "lr": 0.5}
    state, run_id, ds, plan = run_on_prefect(path, tmp_path, given)
    assert state.is_completed(), state.message
    seen = run_artifacts(str(ds), "ParametersFlow", run_id)["start"]["0"]["seen"]
    assert seen == given


def test_a_failing_step_fails_the_flow_run(tmp_path: Path, prefect_api):
    src = tmp_path / "failing.py"
    src.write_text(
        "from flowc import FlowSpec, retry, step\n\n\nclass FailingFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.broken)\n\n"
        "    @retry(times=1, minutes_between_retries=0)\n    @step\n    def broken(self):\n"
        "        print('about to fail')\n        raise ValueError('boom')\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    state, run_id, ds, plan = run_on_prefect(src, tmp_path)
    assert state.is_failed()
    assert "FailingFlow/" in state.message and "/broken/0" in state.message
    runs = ds / "FailingFlow" / "runs" / run_id
    assert sorted(p.name for p in (runs / "broken" / "0").iterdir()) == ["attempt-0", "attempt-1"]  # one retry
    assert not (runs / "end").exists()
    assert "ValueError: boom" in logs_of(run_id)


def test_step_output_goes_to_prefect_logs(tmp_path: Path, prefect_api):
    src = tmp_path / "chatty.py"
    src.write_text(
        "import sys\nfrom flowc import FlowSpec, step\n\n\nclass ChattyFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        print('hello from start')\n"
        "        print('a warning', file=sys.stderr)\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    state, run_id, ds, plan = run_on_prefect(src, tmp_path)
    assert state.is_completed()
    logs = logs_of(run_id)
    assert "hello from start" in logs and "a warning" in logs


def test_a_wide_foreach_passes_only_indices(tmp_path: Path, prefect_api):
    """40 items: 40 mapped task runs, each given only the run id and its index."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    src = tmp_path / "wide.py"
    src.write_text(
        "from flowc import FlowSpec, step\n\n\nclass WideFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.items = ['x' * 10000 for _ in range(40)]\n"
        "        self.next(self.work, foreach='items')\n\n"
        "    @step\n    def work(self):\n        self.size = len(self.input)\n        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n        self.total = sum(i.size for i in inputs)\n"
        "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    state, run_id, ds, plan = run_on_prefect(src, tmp_path)
    assert state.is_completed(), state.message
    assert run_artifacts(str(ds), "WideFlow", run_id)["join"]["0"]["total"] == 400000
    import time
    import uuid

    # Prefect 3 records task runs from events its client sends in the
    # background: the flow run can finish before the server holds every task run
    prefix = "/".join(("WideFlow", run_id, "work", ""))
    deadline = time.monotonic() + 60
    while True:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(run_id)])),
                                         limit=200)
        work = [r for r in runs if r.name.startswith(prefix)]
        if len(work) >= 40 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(r.name.rsplit("/", 1)[1] for r in work) == sorted(str(i) for i in range(40))
    for r in work:  # what the orchestrator holds per task: references, never data
        assert len(repr(r.task_inputs)) < 400


def logs_of(run_id: str) -> str:
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[uuid.UUID(run_id)])))
    return "\n".join(entry.message for entry in logs)


def test_timeout_stops_the_step_and_prefect_backs_it_up(tmp_path: Path, prefect_api):
    """@timeout(seconds=1): the runtime stops a step that overruns; a step that
    blocks the runtime's alarm is ended from outside by the task command that
    supervises it (Prefect's timeout_seconds stays as a backstop)."""
    import time

    src = tmp_path / "slow.py"
    src.write_text(
        "import signal, time\nfrom flowc import FlowSpec, step, timeout\n\n\nclass SlowFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.polite, self.stubborn)\n\n"
        "    @timeout(seconds=1)\n    @step\n    def polite(self):\n        time.sleep(60)\n        self.next(self.join)\n\n"
        "    @timeout(seconds=1)\n    @step\n    def stubborn(self):\n"
        "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "        open('stubborn.pid', 'w').write(str(__import__('os').getpid()))\n"
        "        time.sleep(60)\n        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    started = time.monotonic()
    state, run_id, ds, plan = run_on_prefect(src, tmp_path)
    assert state.is_failed()
    assert time.monotonic() - started < 45  # neither waited for its 60 s
    failures = {t.name.split("/")[2]: t.state.name for t in task_runs(run_id)}
    assert failures["polite"] == "Failed" and failures["stubborn"] == "Failed"
    assert "timed out after 0 hours, 0 minutes, 1 seconds" in logs_of(run_id)
    pid = int((tmp_path / "prefect" / "stubborn.pid").read_text())
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def task_runs(run_id: str):
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(run_id)])))
