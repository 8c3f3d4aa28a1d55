"""Generated flows are Prefect 3 flows, not Prefect 3.7.7 flows: a set of
flows covering every construct also runs on Prefect 3.8.8, in its own
environment (.venv-prefect38, mk/prefect.mk), with artifacts equal to
`flowc run`'s."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.artifacts import flowc_run, run_artifacts

from .conftest import HERE, build

pytestmark = pytest.mark.engine

PYTHON38 = REPO / ".venv-prefect38" / "bin" / "python"
FLOWS = [REPO / "tests" / "flows" / f"{name}.py" for name in
         ("branch_switch", "foreach_body", "nested_foreach", "recursive_switch", "parameters", "retry_catch",
          "switch_in_foreach", "recursive_in_foreach")]


def test_flows_run_on_prefect_3_8(tmp_path: Path):
    if not PYTHON38.exists():
        if os.environ.get("FLOWC_REQUIRE_PREFECT38"):
            pytest.fail(f"{PYTHON38} is missing: `make test` builds it (mk/prefect.mk)")
        pytest.skip("no .venv-prefect38 (make test builds it)")
    ds = tmp_path / "ds"
    jobs, plans = [], []
    for path in FLOWS:
        folder = tmp_path / path.stem
        plan = build(path, folder, ds)
        plans.append(plan)
        jobs.append([str(folder), plan.flow_func, {}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=tempfile.mkdtemp(dir=tmp_path), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    result = subprocess.run([str(PYTHON38), str(HERE / "prefect_runner.py")], input=json.dumps(jobs), env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    runs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(runs) == len(FLOWS), result.stderr[-4000:]
    for path, plan, run in zip(FLOWS, plans, runs):
        assert run["prefect"] == "3.8.8"
        assert run["state"] == "COMPLETED", (path.name, run["message"])
        flowc_run(path, ds, f"local-{path.stem}")
        assert run_artifacts(str(ds), plan.flow.name, run["run_id"]) == \
            run_artifacts(str(ds), plan.flow.name, f"local-{path.stem}"), path.name


def test_triggers_read_and_render_alike_on_prefect_3_8(tmp_path: Path):
    """The deployment triggers of the event fixtures are Prefect 3.8.8's models
    too, and its hydration renders their parameters as 3.7.7's does."""
    from .test_prefect_events import EVENTS, prefect_models, received, render, triggers_of

    if not PYTHON38.exists():
        if os.environ.get("FLOWC_REQUIRE_PREFECT38"):
            pytest.fail(f"{PYTHON38} is missing: `make test` builds it (mk/prefect.mk)")
        pytest.skip("no .venv-prefect38 (make test builds it)")
    fired = {"report": [["data_ready", {"table": "orders", "rows": "7"}]],
             "both": [["approved", {"by": "ann", "level": "3"}], ["report_done", {"table": 5}]],
             "train": [["metaflow.Ingest.end", {"pathspec": "Ingest/1/end/0"}]]}
    jobs, expected = [], []
    for name, events in fired.items():
        (spec,), plan = triggers_of(EVENTS / f"{name}.py")
        ((model, automation),) = prefect_models([spec])
        here = render(spec["parameters"], [received(n, p) for n, p in events])
        here.pop(plan.trigger_param)
        jobs.append([spec, events])
        expected.append((type(model).__name__, automation.trigger.type, here, plan.trigger_param))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=tempfile.mkdtemp(dir=tmp_path), DO_NOT_TRACK="1")
    result = subprocess.run([str(PYTHON38), str(HERE / "prefect_triggers_runner.py")], input=json.dumps(jobs),
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(jobs), result.stderr[-4000:]
    for (model, automation, here, trigger_param), there in zip(expected, lines):
        assert there["prefect"] == "3.8.8"
        events = there["parameters"].pop(trigger_param)
        assert (there["model"], there["automation"], there["parameters"]) == (model, automation, here)
        assert events and all(e["resource"]["prefect.resource.id"] == "flowc.external" for e in events)
    assert expected[0][2] == {"table_name": "orders", "rows": 7, "note": "no note"}
