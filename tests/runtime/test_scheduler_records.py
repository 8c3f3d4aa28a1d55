"""The scheduler keeps, of each finished task's done record, only what
deciding readiness reads (runtime/inputs.READS): a run over 10,000 items
would otherwise hold 10,000 whole records. These tests hold that the slim
record answers every question the whole one does, on finished runs of flows
with every kind of join, switch and loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.inputs import input_tasks, latest, slim
from flowc.runtime.plan import FlowPlan
from tests.conftest import REPO

FLOWS = ["branch_switch.py", "nested_foreach.py", "recursive_in_foreach.py", "switch_in_foreach.py",
         "loop_in_foreach.py", "switch_branch_in_foreach.py", "merge.py", "recursive_switch.py"]


def finished_run(flow: str, ds: Path) -> tuple[FlowPlan, dict[tuple[str, str], dict]]:
    """The flow's plan and every done record of its run, by (step, task id)."""
    env = {**os.environ, "FLOWC_CACHE_DIR": str(ds.parent / "cache")}
    ir = subprocess.run([sys.executable, "-m", "flowc", "ir", f"tests/flows/{flow}"], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=120)
    assert ir.returncode == 0, ir.stderr
    run = subprocess.run([sys.executable, "-m", "flowc", "run", f"tests/flows/{flow}", "--datastore", str(ds), "-q"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    plan = FlowPlan.from_json(ir.stdout)
    records = {}
    for done in (ds / plan.name / "runs" / "1").glob("*/*/done.json"):
        meta = json.loads(done.read_text())
        records[(meta["step"], meta["task_id"])] = meta
    return plan, records


@pytest.mark.parametrize("flow", FLOWS)
def test_a_slim_record_decides_as_the_whole_one(flow: str, tmp_path: Path) -> None:
    plan, records = finished_run(flow, tmp_path / "ds")
    slimmed = {key: slim(meta) for key, meta in records.items()}
    assert (plan.end, "0") in records

    def whole(step: str, tid: str) -> dict | None:
        return records.get((step, tid))

    def kept(step: str, tid: str) -> dict | None:
        return slimmed.get((step, tid))

    asked = 0
    for meta in records.values():
        step = plan.steps[meta["step"]]
        index, iteration = tuple(meta["index"]), meta["iteration"]
        assert input_tasks(plan, step, index, iteration, kept) == input_tasks(plan, step, index, iteration, whole)
        assert (latest(step, index, kept) or [None])[0] == (latest(step, index, whole) or [None])[0]
        for child in step.next:  # every join the task could feed, at every depth
            cs = plan.steps[child]
            if cs.is_join:
                jidx = index[:cs.depth]
                assert input_tasks(plan, cs, jidx, 0, kept) == input_tasks(plan, cs, jidx, 0, whole)
                asked += 1
    assert asked or not any(s.is_join for s in plan.steps.values())


def test_the_slim_record_drops_what_is_not_read() -> None:
    meta = {"taken": ["a"], "foreach_count": 3, "chosen": "b", "artifacts": {"x": "0" * 64}, "frames": [],
            "inputs": ["start/0"], "started_at": 1.0}
    assert slim(meta) == {"taken": ["a"], "foreach_count": 3, "chosen": "b"}
    assert slim({"taken": [], "artifacts": {}}) == {"taken": []}
