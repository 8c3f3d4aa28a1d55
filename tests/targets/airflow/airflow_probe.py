"""Ask a real Airflow about generated DAG files, in a process of its own.

The tests run this script with the Python of an Airflow installation (the
project's .venv for Airflow 3, .venv-airflow2 for Airflow 2.10), so Airflow's
configuration (AIRFLOW_HOME, the dags folder) never leaks into pytest's
process, and one import of Airflow serves many questions. It reads one JSON
request per line on stdin and answers one JSON line on stdout:

    {"op": "load", "folder": F}              DagBag over F: import errors, DAGs, tasks, parse times
    {"op": "inspect", "file": F, "dag_id": D, "index": "1"}
                                             params, and every task's templated fields
                                             rendered (pods built offline, Batch overrides)
                                             and upstream task ids
    {"op": "test", "dag_id": D, "conf": {}}  dag.test() on a DAG of the dags folder
        [, "batch": {"python": P, "lose": [TASK_ID...]}]
                                             with AWS Batch jobs run on this machine
                                             (see batch_jobs_run_here)
        [, "pods": {"python": P}]            with pods run on this machine (see pods_run_here)
        [, "run_id": R]                      run the existing run R (one the scheduler created)
                                             instead of a new manual run
    {"op": "event_assets", "file": F, "names": [N...]}
                                             the generated event_asset() of a DAG file, called:
                                             each name's asset (uri, name), or the error Airflow raised
    {"op": "sync"}                           every DAG of the dags folder written to the database
                                             (what the DAG processor does), so assets are known
    {"op": "queued", "dag_id": D}            the asset events queued for D (the scheduler's
                                             AssetDagRunQueue; DatasetDagRunQueue on Airflow 2)
    {"op": "schedule"}                       the scheduler's own run creation, once: returns the
                                             asset-triggered runs it created, with the events each
                                             consumed

It imports nothing from flowc: .venv-airflow2 does not have it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from types import SimpleNamespace


def dagbag(folder):
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag
    import airflow

    if airflow.__version__.startswith("2."):
        return DagBag(dag_folder=folder, include_examples=False)
    return DagBag(dag_folder=folder)


def op_load(req):
    started = time.perf_counter()
    bag = dagbag(req["folder"])
    total = time.perf_counter() - started
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "file": os.path.relpath(dag.fileloc, req["folder"]),
            "tasks": sorted(dag.task_dict),
            "params": sorted(dag.params.keys()),
        }
    stats = {os.path.relpath(s.file if os.path.isabs(s.file) else os.path.join(req["folder"], s.file.lstrip("/")),
                             req["folder"]): _seconds(s.duration) for s in bag.dagbag_stats}
    return {"errors": {os.path.relpath(k, req["folder"]): v for k, v in bag.import_errors.items()},
            "dags": dags, "parse_seconds": stats, "total_seconds": total}


def _seconds(duration):
    return duration.total_seconds() if hasattr(duration, "total_seconds") else float(duration)


def op_inspect(req):
    bag = dagbag(os.path.dirname(req["file"]))
    if req["dag_id"] not in bag.dags:
        return {"errors": bag.import_errors}
    dag = bag.dags[req["dag_id"]]
    params = {}
    for name in dag.params.keys():
        p = dag.params.get_param(name)
        params[name] = {"value": _jsonable(getattr(p, "value", None)), "description": p.description,
                        "schema": p.schema, "has_value": p.has_value}
    tasks = {}
    for task_id, task in dag.task_dict.items():
        kind = type(task).__name__
        if kind in ("_PythonDecoratedOperator", "_BranchPythonDecoratedOperator"):
            tasks[task_id] = {"type": kind, "op_args": _jsonable(task.op_args), "op_kwargs": _jsonable(task.op_kwargs),
                              "upstream": sorted(task.upstream_task_ids)}
            continue
        tasks[task_id] = {"type": kind, "upstream": sorted(task.upstream_task_ids),
                          **render(dag, task, req.get("index", "1"))}
    return {"params": params, "tasks": tasks, "schedule": _schedule(dag), "doc_md": dag.doc_md,
            "description": dag.description, "tags": sorted(dag.tags)}


def _schedule(dag):
    timetable = dag.timetable
    expression = getattr(timetable, "expression", None) or getattr(timetable, "_expression", None)
    zone = getattr(timetable, "timezone", None) or getattr(timetable, "_timezone", None)
    return {"type": type(timetable).__name__, "expression": expression,
            "timezone": getattr(zone, "name", None) or str(zone or "")}


def _resolve_mapped(value, index):
    """Stand in for Airflow's expansion of a mapped group's argument: the index
    the group's map index would resolve to."""
    if type(value).__name__ == "MappedArgument":
        return index
    if isinstance(value, list):
        return [_resolve_mapped(v, index) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_mapped(v, index) for k, v in value.items()}
    return value


def render(dag, task, index):
    op = copy.copy(task)
    for field in op.template_fields:
        setattr(op, field, _resolve_mapped(getattr(op, field, None), index))
    params = {name: dag.params[name] for name in dag.params.keys() if dag.params.get_param(name).has_value}
    ti = SimpleNamespace(try_number=3, max_tries=(op.retries or 0) + 2, map_index=int(index.split(".")[-1]), task_id=task.task_id,
                         dag_id=dag.dag_id, run_id="manual__probe")
    context = {"run_id": "manual__probe", "ti": ti, "task_instance": ti, "params": params, "dag": dag,
               "task": op, "ds": "2024-01-01", "logical_date": datetime(2024, 1, 1, tzinfo=timezone.utc),
               # a run no event started: Airflow gives an empty mapping
               "triggering_asset_events": {}, "triggering_dataset_events": {}}
    op.render_template_fields(context, jinja_env=dag.get_template_env())
    out = {"retries": op.retries, "retry_delay": _seconds(op.retry_delay) if op.retry_delay is not None else None,
           "execution_timeout": _seconds(op.execution_timeout) if op.execution_timeout is not None else None,
           "trigger_rule": str(getattr(op.trigger_rule, "value", op.trigger_rule)), "doc_md": op.doc_md}
    kind = type(task).__name__
    if kind == "KubernetesPodOperator":
        from kubernetes.client import ApiClient

        try:
            pod = op.build_pod_request_obj(None, dry_run=True)
        except TypeError:  # older providers have no dry_run: keep them from asking a cluster
            op.__dict__["hook"] = _OfflineHook()
            pod = op.build_pod_request_obj(None)
        out["pod"] = ApiClient().sanitize_for_serialization(pod)
        out["do_xcom_push"] = op.do_xcom_push
    elif kind == "BatchOperator":
        out["batch"] = {"job_name": op.job_name, "job_definition": op.job_definition, "job_queue": op.job_queue,
                        "container_overrides": _jsonable(op.container_overrides)}
    elif kind == "FlowcStep":
        out["local"] = {"step": op.step, "index": op.index, "returns": op.returns, "env": op.env}
    return out


class _OfflineHook:
    """Stands in for the Kubernetes hook of older providers, which asks a
    cluster while building the pod: no cluster, the provider's defaults."""

    is_in_cluster = False

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _jsonable(value):
    return json.loads(json.dumps(value, default=repr))


@contextlib.contextmanager
def batch_jobs_run_here(python, lose=()):
    """For tests only, inside this process: AWS Batch cannot run here, so each
    BatchOperator task runs its job's command (the container overrides, as
    Airflow rendered them) as a subprocess, with the job's environment, in
    the DAG file's folder (the flow and its IR, as in the job's image), and
    `python` for the image's "python". Like the real operator it returns the
    job's id and nothing of the task's outcome. A task id in `lose` reports
    success without running its job (a job whose result never reached the
    datastore). Yields the list of jobs it ran."""
    from airflow.providers.amazon.aws.operators.batch import BatchOperator

    jobs = []

    def execute(self, context, **_):  # Airflow 2.10 passes its executor safeguard's sentinel
        overrides = self.container_overrides
        command = list(overrides["command"])
        assert command[0] == "python", command
        ti = context["ti"]
        job = {"task_id": self.task_id, "map_index": ti.map_index, "command": command,
               "job_queue": self.job_queue, "job_definition": self.job_definition, "ran": self.task_id not in lose}
        jobs.append(job)
        if job["ran"]:
            env = {**os.environ, **{e["name"]: e["value"] for e in overrides.get("environment", [])}}
            done = subprocess.run([python] + command[1:], cwd=os.path.dirname(self.dag.fileloc), env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the job of {self.task_id} failed ({done.returncode}): {done.stderr}")
        return f"local-job-{self.task_id}-{ti.map_index}"

    original = BatchOperator.execute
    BatchOperator.execute = execute
    try:
        yield jobs
    finally:
        BatchOperator.execute = original


@contextlib.contextmanager
def pods_run_here(python):
    """For tests only, inside this process: no cluster here, so each
    KubernetesPodOperator task runs its container's command (as Airflow
    rendered it) as a subprocess with the pod's environment, in the DAG
    file's folder, `python` for the image's "python", and the file the pod
    writes its return value to in a temporary folder; like the operator with
    do_xcom_push it returns that value (its sidecar's part), so post_execute
    and XCom get what they would from a pod."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    def execute(self, context, **_):
        command = list(self.cmds) + list(self.arguments or [])
        assert command[0] == "python", command
        with tempfile.TemporaryDirectory(prefix="flowc-pod-") as tmp:
            xcom = os.path.join(tmp, "return.json")
            command = [xcom if arg == "/airflow/xcom/return.json" else arg for arg in command]
            env = {**os.environ, **{e.name: e.value for e in self.env_vars or []}}
            done = subprocess.run([python] + command[1:], cwd=os.path.dirname(self.dag.fileloc), env=env,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the pod of {self.task_id} failed ({done.returncode}): {done.stderr}")
            if not self.do_xcom_push:
                return None
            with open(xcom, encoding="utf-8") as f:
                return json.load(f)

    original = KubernetesPodOperator.execute
    KubernetesPodOperator.execute = execute
    try:
        yield
    finally:
        KubernetesPodOperator.execute = original


def op_test(req):
    from airflow.models import TaskInstance

    bag = dagbag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if req["dag_id"] not in bag.dags:
        return {"errors": bag.import_errors}
    dag = bag.dags[req["dag_id"]]
    batch = req.get("batch")
    started = time.perf_counter()
    existing = _existing_run(req["dag_id"], req["run_id"]) if req.get("run_id") else contextlib.nullcontext()
    pods = pods_run_here(req["pods"]["python"]) if req.get("pods") else contextlib.nullcontext()
    with batch_jobs_run_here(batch["python"], batch.get("lose", ())) if batch else contextlib.nullcontext([]) as jobs, \
            existing, pods:
        run = dag.test(run_conf=req.get("conf") or None)
    seconds = time.perf_counter() - started
    states = {}
    xcom_sizes = {}
    from airflow.utils.session import create_session

    with create_session() as session:
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == dag.dag_id,
                                                     TaskInstance.run_id == run.run_id):
            states.setdefault(ti.task_id, {})[str(ti.map_index)] = str(getattr(ti.state, "value", ti.state))
        xcom_sizes = _xcom_sizes(session, dag.dag_id, run.run_id)
    return {"state": str(getattr(run.state, "value", run.state)), "run_id": run.run_id, "states": states,
            "xcom_sizes": xcom_sizes, "xcom": _xcom_values(dag.dag_id, run.run_id) if req.get("xcom") else {},
            "batch_jobs": jobs, "seconds": seconds}


def _xcom_sizes(session, dag_id, run_id):
    """The size of each XCom value the run stored (bytes of its JSON)."""
    try:
        from airflow.models.xcom import XComModel as XCom  # Airflow 3
    except ImportError:
        from airflow.models.xcom import XCom
    sizes = {}
    for row in session.query(XCom).filter(XCom.dag_id == dag_id, XCom.run_id == run_id):
        value = row.value
        text = value if isinstance(value, str) else json.dumps(value, default=repr) if not isinstance(
            value, bytes) else value.decode("utf-8", "replace")
        sizes[f"{row.task_id}[{row.map_index}]:{row.key}"] = len(text.encode("utf-8"))
    return sizes


def _xcom_values(dag_id, run_id):
    """Every return value the run stored in XCom: {"task_id[map_index]": value}."""
    try:
        from airflow.models.xcom import XComModel as XCom  # Airflow 3
    except ImportError:
        from airflow.models.xcom import XCom
    from airflow.utils.session import create_session

    values = {}
    with create_session() as session:
        for row in session.query(XCom).filter(XCom.dag_id == dag_id, XCom.run_id == run_id,
                                              XCom.key == "return_value"):
            value = row.value
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            values[f"{row.task_id}[{row.map_index}]"] = value
    return values


V3 = not __import__("airflow").__version__.startswith("2.")


@contextlib.contextmanager
def _existing_run(dag_id, run_id):
    """dag.test() runs the given existing run (set running) instead of creating
    a manual one: dag.test's own loop then schedules and runs its tasks."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState

    def existing(*args, **kwargs):
        session = kwargs.get("session") or next(a for a in args if hasattr(a, "scalar"))
        dr = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one()
        dr.state = DagRunState.RUNNING
        session.commit()
        dr.dag = kwargs["dag"] if "dag" in kwargs else args[0]  # what dag.test() would have created it with
        return dr

    if V3:
        import airflow.models.dagrun as where
        name = "get_or_create_dagrun"
    else:
        import airflow.models.dag as where
        name = "_get_or_create_dagrun"
    original = getattr(where, name)
    setattr(where, name, existing)
    try:
        yield
    finally:
        setattr(where, name, original)


def op_event_assets(req):
    import importlib.util

    spec = importlib.util.spec_from_file_location("flowc_dag_under_test", req["file"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = []
    for name in req["names"]:
        try:
            asset = module.event_asset(name)
            out.append({"uri": asset.uri, "name": getattr(asset, "name", asset.uri)})
        except Exception as exc:  # what Airflow refuses, reported to the test
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return {"assets": out}


def op_sync(req):
    folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    if V3:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
        from airflow.utils.session import create_session

        manager = DagBundlesManager()
        with create_session() as session:
            manager.sync_bundles_to_db(session=session)
        bundle = next(b for b in manager.get_all_dag_bundles() if b.name == "dags-folder")
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)
    else:
        bag = dagbag(folder)
        bag.sync_to_db()
    return {"dags": sorted(bag.dags), "errors": bag.import_errors}


def op_queued(req):
    """The events queued for a DAG: the asset (dataset) URIs the scheduler holds for it."""
    from airflow.utils.session import create_session

    if V3:
        from airflow.models.asset import AssetDagRunQueue as Queue, AssetModel as Model
        key, column = Queue.asset_id, "asset_id"
    else:
        from airflow.models.dataset import DatasetDagRunQueue as Queue, DatasetModel as Model
        key, column = Queue.dataset_id, "dataset_id"
    with create_session() as session:
        rows = session.query(Model.uri).join(Queue, key == Model.id).filter(Queue.target_dag_id == req["dag_id"])
        return {"uris": sorted(uri for (uri,) in rows)}


def op_schedule(req):
    """One pass of the scheduler's run creation (SchedulerJobRunner._create_dagruns_for_dags,
    what its loop calls): the asset-triggered runs it created and the events each consumed."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.sqlalchemy import prohibit_commit
    from airflow.utils.types import DagRunType

    kind = DagRunType.ASSET_TRIGGERED if V3 else DagRunType.DATASET_TRIGGERED
    with create_session() as session:
        before = {r.run_id for r in session.query(DagRun).filter(DagRun.run_type == kind)}
    runner = SchedulerJobRunner(job=Job())
    with create_session() as session:
        with prohibit_commit(session) as guard:
            runner._create_dagruns_for_dags(guard, session)
    runs = []
    with create_session() as session:
        for dr in session.query(DagRun).filter(DagRun.run_type == kind):
            if dr.run_id in before:
                continue
            consumed = dr.consumed_asset_events if V3 else dr.consumed_dataset_events
            runs.append({"dag_id": dr.dag_id, "run_id": dr.run_id, "state": str(dr.state),
                         "events": [{"uri": (e.asset if V3 else e.dataset).uri, "extra": e.extra,
                                     "source_dag_id": e.source_dag_id, "source_task_id": e.source_task_id}
                                    for e in consumed]})
    return {"runs": sorted(runs, key=lambda r: r["dag_id"])}


OPS = {"load": op_load, "inspect": op_inspect, "test": op_test, "sync": op_sync, "queued": op_queued,
       "schedule": op_schedule, "event_assets": op_event_assets}


def main():
    # Airflow's own output must not mix with the answers: they keep a copy of the
    # original stdout, and file descriptor 1 itself (which loggers configured
    # before this point may write to) now goes to stderr
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            with contextlib.redirect_stdout(io.StringIO()) if req.get("quiet") else contextlib.nullcontext():
                result = {"ok": True, **OPS[req["op"]](req)}
        except Exception as exc:  # reported to the test, which shows it
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        answer.write(json.dumps(result, default=repr) + "\n")
        answer.flush()


if __name__ == "__main__":
    main()
