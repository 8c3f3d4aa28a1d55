"""Foreach splits and switches placed on AWS Batch. A Batch job cannot hand
its OUT.json to Airflow, so a task on the worker reads it back from the
datastore (the runtime's --output-only) for the lister, branch task or case
gates after it.

AWS Batch cannot run here. The jobs are rendered offline by Airflow and the
provider and checked (test_airflow_pods). Here dag.test() runs the DAG for
real with each BatchOperator task running its job's own command on this
machine instead of submitting it (airflow_probe.batch_jobs_run_here, patched
inside the probe's process only): the job hands Airflow nothing but a job
id, as on AWS Batch, so the DAG only goes on if its worker tasks read each
outcome back from the datastore."""

from __future__ import annotations

import json
import sys

import pytest

from flowc.runtime.identity import safe_run_id
from tests.conftest import ALL_FLOWS, load_ir
from tests.support.artifacts import run_artifacts

from tests.targets.airflow.test_airflow_compile import fid
from tests.support.engines import deploy_airflow_flow as deploy_flow
from tests.targets.airflow.test_airflow_engine import local_artifacts

pytestmark = pytest.mark.engine

FLOWS = {fid(p): p for p in ALL_FLOWS}
ON_BATCH = {"placement": "batch", "batch_queue": "default-queue"}
# (flow, options): airflow/batch_split places its splits and switches with
# @batch and its light steps on the worker; the corpus flows go wholly to Batch
RUNS = {
    "flows/batch_split": {"placement": "local"},
    "flows/foreach": ON_BATCH,
    "flows/switch": ON_BATCH,
    "flows/foreach_body": ON_BATCH,
    "flows/nested_foreach": ON_BATCH,
    "flows/switch_in_foreach": ON_BATCH,
    "flows/switch_nested": ON_BATCH,
}


def dag_id(name: str) -> str:
    return f"batch.{load_ir(FLOWS[name]).name}"


@pytest.fixture(scope="session")
def batch_dags(airflow3, tmp_path_factory):
    """The DAGs of RUNS in Airflow 3's dags folder, and the datastore they share with `flowc run`."""
    datastore = tmp_path_factory.mktemp("batch-datastore")
    for name, options in RUNS.items():
        deploy_flow(airflow3.dags / f"batch_{name.replace('/', '_')}", FLOWS[name], datastore=str(datastore),
                    dag_id=dag_id(name), **options)
    return datastore


_RUNS: dict[str, dict] = {}


def run_on_batch(probe, name: str, lose=(), once=True) -> dict:
    """dag.test() of the flow's Batch DAG, its Batch jobs run on this machine."""
    if once and name in _RUNS:
        return _RUNS[name]
    answer = probe.ask(op="test", dag_id=dag_id(name), xcom=True,
                       batch={"python": sys.executable, "lose": list(lose)})
    if once:
        _RUNS[name] = answer
    return answer


def outcome_in_datastore(datastore, flow, run_id, step, task):
    """The task's out.json, with the events it published (events.json), as OUT.json carries them."""
    folder = datastore / flow.name / "runs" / run_id / step / task
    out = json.loads((folder / "out.json").read_text())
    if (folder / "events.json").exists():
        out["events"] = json.loads((folder / "events.json").read_text())
    return out


@pytest.mark.parametrize("name", list(RUNS))
def test_batch_splits_and_switches_run_and_their_artifacts_equal_flowc_run(name, batch_dags, airflow3):
    from flowc.targets.airflow import plan_dag

    answer = run_on_batch(airflow3.probe, name)
    assert answer.get("state") == "success", (json.dumps(answer.get("states"), indent=1),
                                              airflow3.probe.log_tail())
    flow = load_ir(FLOWS[name])
    run_id = safe_run_id(answer["run_id"])
    assert run_artifacts(str(batch_dags), flow.name, run_id) == local_artifacts(FLOWS[name], batch_dags)

    plan = plan_dag(flow, {"dag_id": dag_id(name), **RUNS[name]})
    on_batch = {t.full_id for t in plan.tasks if t.placement == "batch"}
    readers = {t.out_full_id: t for t in plan.tasks if t.reader}
    assert readers, "the flow has no foreach split or switch on AWS Batch"
    # every Batch task ran its job, which carries no --output: nothing comes back from it but its job id
    jobs = answer["batch_jobs"]
    succeeded = [(task_id, index) for task_id in on_batch
                 for index, state in answer["states"].get(task_id, {}).items() if state == "success"]
    assert sorted((job["task_id"], str(job["map_index"])) for job in jobs) == sorted(succeeded)
    for job in jobs:
        assert job["ran"] and "--output" not in job["command"] and "--output-only" not in job["command"]
    for task_id in on_batch:
        for value in xcoms(answer, task_id).values():
            assert isinstance(value, str) and value.startswith("local-job-"), (task_id, value)
    # each reader pushed exactly the outcome the runtime stored for its task
    for reader_id, t in readers.items():
        pushed = xcoms(answer, reader_id)
        # a case not taken (for an item, inside a foreach) skips its reader too; every other reader succeeded
        assert answer["states"][reader_id] == answer["states"][t.full_id]
        assert set(answer["states"][reader_id].values()) <= {"success", "skipped"}
        assert sorted(pushed) == sorted(i for i, state in answer["states"][reader_id].items() if state == "success")
        for value in pushed.values():
            assert value == outcome_in_datastore(batch_dags, flow, run_id, t.step.name, value["task_id"])
            assert value["step"] == t.step.name
            assert ("foreach_count" in value) == (t.step.kind == "foreach")
            assert ("chosen" in value) == (t.step.kind == "switch")
            # the end step's reader brings its end event back, for forward_events (these steps publish nothing else)
            assert [e["name"] for e in value.get("events", [])] == (
                [f"metaflow.{flow.name}.end"] if t.step.kind == "end" else [])


def xcoms(answer, task_id):
    """{map_index: return value} of one task of the run."""
    out = {}
    for key, value in answer["xcom"].items():
        tid, _, index = key.rpartition("[")
        if tid == task_id:
            out[index.rstrip("]")] = value
    return out


def test_a_foreach_on_batch_fans_out_and_a_switch_on_batch_picks_its_case(batch_dags, airflow3):
    answer = run_on_batch(airflow3.probe, "flows/batch_split")
    s = answer["states"]
    # start (on Batch) splits over 2 regions; each region (on Batch) over its shards: eu 3, us 2
    assert xcoms(answer, "start_outcome")["-1"]["foreach_count"] == 2
    assert sorted(v["foreach_count"] for v in xcoms(answer, "region_each.region_outcome").values()) == [2, 3]
    assert len(s["region_each.region"]) == 2 and len(s["foreach_region.shard"]) == 5
    # each shard (on Batch) takes its own case: sizes 1, 20, 300 | 4, 50
    chosen = {v["task_id"]: v["chosen"] for v in xcoms(answer, "foreach_region.shard_outcome").values()}
    assert chosen == {"0.0": "small", "0.1": "big", "0.2": "big", "1.0": "small", "1.1": "big"}
    assert sorted(s["foreach_region.big"].values()) == ["skipped"] * 2 + ["success"] * 3
    assert sorted(s["foreach_region.small"].values()) == ["skipped"] * 3 + ["success"] * 2
    # route (on Batch) picks "wide" at the top level
    assert xcoms(answer, "route_outcome")["-1"]["chosen"] == "wide"
    assert s["wide"] == {"-1": "success"} and s["narrow"] == {"-1": "skipped"} and s["end"] == {"-1": "success"}


def test_an_outcome_that_never_reached_the_datastore_stops_the_run(batch_dags, airflow3):
    """The reader reads the datastore, nothing else: a Batch job that reports
    success without having run leaves nothing to read, and the run stops there."""
    answer = run_on_batch(airflow3.probe, "flows/batch_split", lose=["start"], once=False)
    s = answer["states"]
    assert answer["state"] == "failed"
    assert s["start"] == {"-1": "success"} and s["start_outcome"] == {"-1": "failed"}
    assert "start_indices" not in s or set(s["start_indices"].values()) <= {"upstream_failed"}
    assert "end" not in s or set(s["end"].values()) <= {"upstream_failed"}
    assert "start/0 has not finished" in airflow3.probe.log_tail(400)


# the Airflow 2.10 DAG reads its Batch outcomes back too
AIRFLOW2_RUNS = ["flows/batch_split", "flows/switch_in_foreach"]


@pytest.fixture(scope="session")
def batch_dags2(airflow2_db, tmp_path_factory):
    datastore = tmp_path_factory.mktemp("batch-datastore2")
    for name in AIRFLOW2_RUNS:
        deploy_flow(airflow2_db.dags / f"batch_{name.replace('/', '_')}", FLOWS[name], datastore=str(datastore),
                    dag_id=dag_id(name), airflow_version=2, local_python=sys.executable, **RUNS[name])
    return datastore


@pytest.mark.parametrize("name", AIRFLOW2_RUNS)
def test_airflow_2_reads_batch_outcomes_back(name, batch_dags2, airflow2_db):
    answer = run_on_batch(airflow2_db.probe, name, once=False)
    assert answer.get("state") == "success", (json.dumps(answer.get("states"), indent=1),
                                              airflow2_db.probe.log_tail())
    flow = load_ir(FLOWS[name])
    assert answer["batch_jobs"] and all(job["ran"] for job in answer["batch_jobs"])
    in_airflow = run_artifacts(str(batch_dags2), flow.name, safe_run_id(answer["run_id"]))
    assert in_airflow == local_artifacts(FLOWS[name], batch_dags2)
