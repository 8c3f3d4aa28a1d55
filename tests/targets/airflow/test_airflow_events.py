"""Events on a real Airflow (3, and 2.10 with Datasets): a chain of flows
started by Airflow's own data-aware scheduling.

Ingest (dag.test()) publishes data_ready from its start step (flowc.events)
and quality.checked from another (Metaflow's ArgoEvent); its end task emits
its end event. Each task forwards what its step published as asset events.
Then the scheduler's own run creation (SchedulerJobRunner, one pass) must
create a run of Train (@trigger_on_finish Ingest) and of Report (@trigger on
both events, parameters mapped), from the queued asset events alone; those
runs are run by dag.test()'s loop, and their artifacts show what
current.trigger gave the start step: the upstream Run for Train, the
payloads and mapped parameters (one field missing: its default) for Report.

Each Airflow version gets a home, database and dags folder of its own, so
the events of other tests' DAGs never reach these.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.identity import safe_run_id
from tests.support.artifacts import run_artifacts
from tests.support.engines import Probe, airflow_env, airflow_python, deploy_airflow_flow

from .conftest import require_airflow2

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent / "events"
INGEST, TRAIN, REPORT = (HERE / f"{name}.py" for name in ("ingest", "train", "report"))
ODD_LABEL = 'said "hi" \\ {{ ds }} <b>'  # what Ingest's data_ready payload carries as label


def asset(name: str) -> str:
    return "x-flowc-event:" + name


@pytest.fixture(scope="module", params=[(3, "local"), (2, "local"), (3, "kubernetes")],
                ids=["airflow3", "airflow2", "airflow3-pods"])
def chain(request, tmp_path_factory):
    """Ingest run by dag.test() on a fresh Airflow; the three DAGs deployed and synced.
    Steps on the worker (FlowcStep forwards in execute), or in pods (KubernetesPodOperator
    forwards in post_execute, from the pod's return value), run here by the probe."""
    version, placement = request.param
    if version == 2:
        require_airflow2()
    home = tmp_path_factory.mktemp(f"airflow{version}-events")
    dags, datastore = home / "dags", home / "datastore"
    dags.mkdir()
    # a deployment unpauses the DAGs it wants to run; Airflow queues events only for those
    env = {**airflow_env(home, dags), "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False"}
    python = airflow_python(version)
    done = subprocess.run([str(python), "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True,
                          cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    options = {"force_placement": placement, "datastore": str(datastore)}
    if version == 2:
        options.update(airflow_version=2, local_python=sys.executable)
    for path in (INGEST, TRAIN, REPORT):
        deploy_airflow_flow(dags / path.stem, path, **options)
        text = (dags / path.stem / f"{path.stem.capitalize()}.py").read_text()
        assert ("KubernetesPodOperator(" in text) == (placement == "kubernetes")
    probe = Probe(python, env, home / "probe.log")
    try:
        synced = probe.ask(op="sync")
        assert synced["errors"] == {} and {"Ingest", "Train", "Report"} <= set(synced["dags"]), synced
        pods = {"python": sys.executable} if placement == "kubernetes" else None
        ingest = probe.ask(op="test", dag_id="Ingest", pods=pods)
        assert ingest["state"] == "success", (ingest["states"], probe.log_tail())
        yield {"probe": probe, "datastore": datastore, "ingest": ingest, "version": version, "pods": pods}
    finally:
        probe.close()


@pytest.fixture(scope="module")
def scheduled(chain):
    """What is queued for Train and Report after Ingest's run, then one pass of the scheduler's run creation."""
    probe = chain["probe"]
    queued = {dag: probe.ask(op="queued", dag_id=dag)["uris"] for dag in ("Train", "Report", "Ingest")}
    runs = {r["dag_id"]: r for r in probe.ask(op="schedule")["runs"]}
    again = probe.ask(op="schedule")["runs"]  # the queue was consumed: nothing more to create
    return {"queued": queued, "runs": runs, "again": again}


def ingest_run_id(chain) -> str:
    return safe_run_id(chain["ingest"]["run_id"])


def test_the_events_ingest_published_are_queued_for_the_dags_waiting_for_them(chain, scheduled):
    assert scheduled["queued"]["Train"] == [asset("metaflow.Ingest.end")]
    assert scheduled["queued"]["Report"] == sorted([asset("data_ready"), asset("quality.checked")])
    assert scheduled["queued"]["Ingest"] == []  # Ingest waits for nothing


def test_the_scheduler_creates_one_run_of_each_downstream_dag_from_the_asset_events(chain, scheduled):
    runs = scheduled["runs"]
    assert sorted(runs) == ["Report", "Train"]
    end = next(e for e in runs["Train"]["events"] if e["uri"] == asset("metaflow.Ingest.end"))
    assert end["source_dag_id"] == "Ingest" and end["source_task_id"] == "end"
    assert end["extra"]["pathspec"] == f"Ingest/{ingest_run_id(chain)}/end/0"
    data = next(e for e in runs["Report"]["events"] if e["uri"] == asset("data_ready"))
    assert data["source_task_id"] == "start"  # forwarded after the step that published it
    payload = {"rows": 42, "label": ODD_LABEL, "extra": [1, 2]}
    if chain["version"] == 2:  # 2.10 hashes an alias event's extra: a list travels as JSON text
        assert json.loads(data["extra"].pop("flowc.payload")) == payload and data["extra"] == {}
    else:
        assert data["extra"] == payload
    checked = next(e for e in runs["Report"]["events"] if e["uri"] == asset("quality.checked"))
    assert checked["extra"] == {"score": 0.75} and checked["source_task_id"] == "check"
    assert scheduled["again"] == []


def run_downstream(chain, scheduled, dag_id: str) -> dict:
    """Run the scheduler-created run of dag_id (dag.test()'s loop); its artifacts."""
    run_id = scheduled["runs"][dag_id]["run_id"]
    answer = chain["probe"].ask(op="test", dag_id=dag_id, run_id=run_id, pods=chain["pods"])
    assert answer["run_id"] == run_id
    assert answer["state"] == "success", (answer["states"], chain["probe"].log_tail())
    return run_artifacts(str(chain["datastore"]), dag_id, safe_run_id(run_id))


def test_train_reads_the_upstream_run_through_current_trigger(chain, scheduled):
    start = run_downstream(chain, scheduled, "Train")["start"]["0"]
    assert start["upstream"] == f"Ingest/{ingest_run_id(chain)}"
    assert start["upstream_rows"] == 42  # an artifact of the Ingest run, read from the shared datastore
    assert start["event_name"] == "metaflow.Ingest.end" and start["event_type"] == "run"


def test_report_gets_both_events_and_parameters_mapped_from_the_payload(chain, scheduled):
    start = run_downstream(chain, scheduled, "Report")["start"]["0"]
    assert start["names"] == ["data_ready", "quality.checked"]
    assert start["payloads"] == {"data_ready": {"rows": 42, "label": ODD_LABEL, "extra": [1, 2]},
                                 "quality.checked": {"score": 0.75}}
    assert start["rows"] == 42 and start["label"] == ODD_LABEL
    assert start["region"] == "eu"  # the payload has no region: the default stands
