"""Events on Prefect's server: `prefect deploy` makes automations of the
deployment triggers, Prefect's own trigger services (reactive triggers and
actions, which the temporary server runs) evaluate emitted events and create
flow runs of the deployments with the templated parameters, a node runs
those flow runs as the Kubernetes worker would, and what the runs publish
(a step's event, the end event) starts the next flows: Ingest -> Train
(@trigger_on_finish, current.trigger.run) and Report (@trigger with mapped
parameters) -> Both (two events, all required)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.support.artifacts import run_artifacts

from .conftest import Node, build, prefect_cli, prefect_server, wait_until

pytestmark = pytest.mark.engine

POOL = "flowc-events"
EVENTS = Path(__file__).resolve().parent / "events"


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> str:
    """A Kubernetes work pool made from the emitted base job template."""
    folder = tmp_path_factory.mktemp("pool")
    build(EVENTS / "ingest.py", folder, folder / "ds", work_pool=POOL)
    prefect_cli(["work-pool", "create", POOL, "--type", "kubernetes",
                 "--base-job-template", "kubernetes-job-template.json"], folder, prefect_server())
    return POOL


@pytest.fixture
def deployed(prefect_api, pool, tmp_path):
    """The four event flows deployed (deployments of this test only, so that no
    automation of another test acts on its events); their plans, and the
    datastore they share. The deployments go afterwards, their automations
    with them."""
    ds = tmp_path / "ds"
    plans = {}
    tag = uuid.uuid4().hex[:8]
    for name in ("ingest", "train", "report", "both"):
        folder = tmp_path / name
        plans[name] = build(EVENTS / f"{name}.py", folder, ds, work_pool=pool, workdir=str(folder),
                            deployment=f"{name}-{tag}")
        prefect_cli(["deploy", "--all"], folder, prefect_api)
    yield plans, ds
    with client() as c:
        for plan in plans.values():
            d = c.read_deployment_by_name(f"{plan.flow.name}/{plan.deployment}")
            c.delete_resource_owned_automations(f"prefect.deployment.{d.id}")
            c.delete_deployment(d.id)


def client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def runs_of(plan) -> list:
    """The flow runs of a flow's deployment, oldest first."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with client() as c:
        d = c.read_deployment_by_name(f"{plan.flow.name}/{plan.deployment}")
        runs = c.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[d.id])))
    return sorted(runs, key=lambda r: r.created)


def finished(plan, count: int, timeout: float = 240) -> list:
    """Wait for ``count`` flow runs of the deployment, each in a final state."""
    def done():
        runs = runs_of(plan)
        return len(runs) >= count and all(r.state and r.state.is_final() for r in runs)

    assert wait_until(done, timeout=timeout, step=0.5), [(r.name, r.state_name) for r in runs_of(plan)]
    return runs_of(plan)


def emit(name: str, payload: dict) -> None:
    """An event from outside any flow, as `prefect event emit NAME --resource-id flowc.external` sends it."""
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    emit_event(event=name, resource={"prefect.resource.id": "flowc.external"}, payload=payload, id=uuid.uuid4())
    EventsWorker.drain_all(timeout=30)


def test_an_event_runs_the_deployment_with_the_mapped_parameters(deployed, prefect_api):
    """Prefect's trigger evaluation fires the automation on the event: one flow
    run of Report, its parameters from the payload (a missing field keeps the
    default), and the run sees the event as current.trigger."""
    plans, ds = deployed
    report = plans["report"]
    before = len(runs_of(report))
    with Node(POOL, prefect_api) as node:
        emit("data_ready", {"table": "orders", "rows": 7})
        (*_, run) = finished(report, before + 1)
    assert not node.errors, node.errors
    assert run.state.is_completed(), run.state.message
    assert (run.created_by.type, run.created_by.display_value) == ("AUTOMATION", f"{report.deployment} on data_ready")
    events = run.parameters.pop(report.trigger_param)
    assert run.parameters == {"table_name": "orders", "rows": 7, "note": "no note"}
    assert [(e["event"], e["payload"]) for e in events] == [("data_ready", {"table": "orders", "rows": 7})]
    start = run_artifacts(str(ds), "Report", str(run.id))["start"]["0"]
    assert start["got"] == ("orders", 7, "no note")
    assert start["event"] == ("data_ready", {"table": "orders", "rows": 7})


def test_two_events_start_one_run_only_when_both_arrived(deployed, prefect_api):
    plans, ds = deployed
    both = plans["both"]
    before = len(runs_of(both))
    with Node(POOL, prefect_api) as node:
        emit("approved", {"by": "ann", "level": "3"})
        time.sleep(5)  # time enough for Prefect's triggers to act on one event
        assert len(runs_of(both)) == before
        emit("report_done", {"table": "returns"})
        (*_, run) = finished(both, before + 1)
        time.sleep(3)
    assert not node.errors, node.errors
    assert len(runs_of(both)) == before + 1 and run.state.is_completed(), run.state.message
    start = run_artifacts(str(ds), "Both", str(run.id))["start"]["0"]
    assert start["names"] == ["approved", "report_done"]
    assert start["got"] == ("returns", "ann", 3)


def test_a_chain_of_flows_runs_on_the_events_its_runs_publish(deployed, prefect_api):
    """Ingest's run publishes data_ready from a step and its end event; they
    start Train (@trigger_on_finish: current.trigger.run is that Ingest run)
    and Report (its parameters from data_ready's payload); Report publishes
    report_done (ArgoEvent), which with an approval starts Both."""
    from prefect.deployments import run_deployment

    plans, ds = deployed
    ingest, train, report, both = (plans[n] for n in ("ingest", "train", "report", "both"))
    counts = {n: len(runs_of(p)) for n, p in plans.items()}
    with Node(POOL, prefect_api) as node:
        upstream = run_deployment(f"Ingest/{ingest.deployment}", timeout=240, poll_interval=1)
        assert upstream.state.is_completed(), upstream.state.message
        (*_, trained) = finished(train, counts["train"] + 1)
        (*_, reported) = finished(report, counts["report"] + 1)
        emit("approved", {"by": "bob"})
        (*_, joined) = finished(both, counts["both"] + 1)
    assert not node.errors, node.errors
    for run in (trained, reported, joined):
        assert run.state.is_completed(), (run.name, run.state.message)

    ingest_run = f"Ingest/{upstream.id}"
    train_data = run_artifacts(str(ds), "Train", str(trained.id))
    start = train_data["start"]["0"]
    assert (start["upstream"], start["upstream_rows"], start["kind"]) == (ingest_run, 42, "run")
    assert start["event_name"] == "metaflow.Ingest.end"
    assert train_data["end"]["0"]["seen_in_end"] == ingest_run

    assert reported.parameters[report.trigger_param][0]["resource"]["prefect.resource.id"] == \
        f"flowc.task.{ingest_run}/start/0"
    report_start = run_artifacts(str(ds), "Report", str(reported.id))["start"]["0"]
    assert report_start["got"] == ("sales", 42, "no note")
    assert run_artifacts(str(ds), "Both", str(joined.id))["start"]["0"]["got"] == ("sales", "bob", 1)
