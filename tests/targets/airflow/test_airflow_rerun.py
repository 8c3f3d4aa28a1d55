"""Airflow's "Clear" on a finished task runs it again (a new attempt), in
Airflow 3: dag.test() runs the DAG, Airflow's own clear_task_instances()
clears one task, and the scheduler's loop (as dag.test() runs it) runs what
was cleared. The runtime tells the rerun from a retry by --first-attempt
(docs/runtime-contract.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_ir
from tests.support.engines import deploy_airflow_flow as deploy_flow

pytestmark = pytest.mark.engine

FLOW = '''
from flowc import FlowSpec, step


class ClearedFlow(FlowSpec):
    @step
    def start(self):
        with open(__file__ + ".runs", "a") as f:
            f.write("start\\n")
        print("start ran")
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        self.total = self.value + 1
'''

# Runs in a process of its own with the Airflow environment.
SCRIPT = r'''
import json, sys
from airflow.models import DagBag, TaskInstance
from airflow.models.taskinstance import clear_task_instances
from airflow.sdk import timezone
from airflow.sdk.definitions.dag import _run_task
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState

dags_folder, dag_id, out = sys.argv[1:4]
dag = DagBag(dag_folder=dags_folder).dags[dag_id]
when = timezone.datetime(2026, 1, 1)
first = dag.test(logical_date=when, run_after=when)
report = {"run_id": first.run_id, "first_state": str(first.state)}


def tries(session):
    return {ti.task_id: [ti.try_number, ti.max_tries, str(ti.state)] for ti in
            session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == first.run_id)}


with create_session() as session:
    report["before"] = tries(session)
    tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == first.run_id,
                                             TaskInstance.task_id == "start").all()
    clear_task_instances(tis, session, dag_run_state=DagRunState.RUNNING)  # what "Clear" in the UI calls
    session.commit()
    report["cleared"] = tries(session)
with create_session() as session:  # the scheduler's part, as dag.test() does it
    from airflow.models.dagrun import DagRun

    from airflow.serialization.serialized_objects import DagSerialization

    dr = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == first.run_id).one()
    dr.dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    for _ in range(20):
        if dr.state != DagRunState.RUNNING:
            break
        session.expire_all()
        schedulable, _ = dr.update_state(session=session)
        for ti in schedulable:
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        for ti in dr.get_task_instances(session=session):
            if ti.state == TaskInstanceState.SCHEDULED:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id])
        session.expire_all()
    report["after"] = tries(session)
    report["final_state"] = str(dr.state)
json.dump(report, open(out, "w"), default=str)
'''


def test_clear_of_a_finished_task_runs_it_again(airflow3, tmp_path: Path) -> None:
    from flowc.runtime.identity import safe_run_id
    from flowc.targets.airflow import dag_id_of

    src = tmp_path / "cleared.py"
    src.write_text(FLOW)
    datastore = tmp_path / "ds"
    folder = airflow3.dags / "cleared"
    deploy_flow(folder, src, force_placement="local", datastore=str(datastore))
    flow = load_ir(src)
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(airflow3.dags), dag_id_of(flow), str(out)],
                          env=airflow3.env, cwd=str(airflow3.home), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["before"]["start"][:2] == [1, 0], report
    assert "success" in report["final_state"], report
    assert report["after"]["start"][0] == 2 and report["after"]["end"][0] == 1, report  # only start was cleared
    # the step ran twice: once per series of tries; the second run is attempt 1 and is what done.json holds
    assert (folder / "cleared.py.runs").read_text().splitlines() == ["start", "start"]
    task = datastore / "ClearedFlow" / "runs" / safe_run_id(report["run_id"]) / "start" / "0"
    assert json.loads((task / "done.json").read_text())["attempt"] == 1
    assert [(task / f"attempt-{n}" / "stdout").read_text() for n in (0, 1)] == ["start ran\n"] * 2
