"""The emitted prefect.yaml deploys, with `prefect deploy`, against the
session's Prefect server and a Kubernetes work pool made from the emitted
base job template; the Kubernetes job a container step's flow run would get
is rendered by prefect-kubernetes and checked; and container steps run
through their own deployments, each job's command run as a node would."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.support.artifacts import flowc_run, run_artifacts

from .conftest import Node, build, compile_flow, load_prefect_flow, prefect_cli, prefect_server, write_files

pytestmark = pytest.mark.engine

POOL = "flowc-k8s"
FIXTURES = REPO / "tests" / "flows"


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> str:
    """A Kubernetes work pool whose base job template is the one flowc emits."""
    files, _, _ = compile_flow(FIXTURES / "linear.py")
    folder = write_files(files, tmp_path_factory.mktemp("pool"))
    prefect_cli(["work-pool", "create", POOL, "--type", "kubernetes",
                 "--base-job-template", "kubernetes-job-template.json"], folder, prefect_server())
    return POOL


def deploy(path: Path, folder: Path, api: str, **options):
    files, _, target = compile_flow(path, work_pool=POOL, **options)
    write_files(files, folder)
    prefect_cli(["deploy", "--all"], folder, api)
    return yaml.safe_load(files["prefect.yaml"]), target.plan(target.lower(target.flow))


def client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


@pytest.mark.parametrize("name", ["events", "hostile", "containers", "recsys", "parameters", "required_params"])
def test_prefect_deploy_accepts_prefect_yaml(name: str, tmp_path: Path, prefect_api, pool):
    path = {"recsys": REPO / "examples" / "recsys.py"}.get(name, FIXTURES / f"{name}.py")
    doc, plan = deploy(path, tmp_path, prefect_api)
    with client() as c:
        for spec in doc["deployments"]:
            flow_name = plan.flow.name if spec["entrypoint"].endswith(plan.flow_func) else plan.step_flow_name
            d = c.read_deployment_by_name(f"{flow_name}/{spec['name']}")
            assert d.work_pool_name == POOL
            assert d.job_variables == spec["work_pool"]["job_variables"]
            assert d.tags == spec["tags"]
            assert d.work_queue_name == spec["work_pool"].get("work_queue_name", "default")
            assert d.pull_steps == doc["pull"]
            if flow_name != plan.flow.name:
                continue
            assert d.parameters == (spec.get("parameters") or {})
            props = d.parameter_openapi_schema["properties"]
            py_name = {p.name: p.py for p in plan.params}
            for p in plan.flow.parameters:  # the run form holds every default, even those not in prefect.yaml
                if not p.required:
                    assert props[py_name[p.name]]["default"] == p.default
            assert [(s.schedule.cron, s.schedule.timezone or None) for s in d.schedules] == [
                (s["cron"], s.get("timezone")) for s in spec.get("schedules", [])]
    if name == "events":
        assert doc["deployments"][0]["name"] == "forecasting.test.nightly.EventsFlow"
        with client() as c:
            d = c.read_deployment_by_name("EventsFlow/forecasting.test.nightly.EventsFlow")
            assert [s.schedule.cron for s in d.schedules] == ["0 0 * * *"]
            triggers = c.request("POST", "/automations/filter").json()
        assert any(t["trigger"].get("expect") == ["data_updated"] for t in triggers)
    if name == "hostile":  # what prefect deploy would substitute stays in the flow's signature only
        assert set(doc["deployments"][0]["parameters"]) == {"quote", "backslash", "unicode_text"}


def test_kubernetes_job_of_a_container_step(tmp_path: Path, prefect_api, pool):
    """The job the Kubernetes worker would create for the fixture's GPU step."""
    deploy(FIXTURES / "resources.py", tmp_path, prefect_api)
    train = render_job("ResourcesFlow-step/train", {"step": "train", "run_id": "r1", "index": "0", "attempt": 0})
    pod = train["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "flowc:0.1.0"
    assert container["args"] == ["prefect", "flow-run", "execute"]
    # memory in MiB, its limit equal to its request (targets/kubernetes.py)
    assert container["resources"] == {"requests": {"cpu": "8", "memory": "16384Mi"},
                                      "limits": {"memory": "16384Mi", "nvidia.com/gpu": 2}}
    assert pod["nodeSelector"] == {"node.kubernetes.io/instance-type": "p3.8xlarge"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["serviceAccountName"] == "trainer"
    assert train["metadata"]["namespace"] == "ml-jobs"
    assert train["metadata"]["labels"]["team"] == "ml"
    assert train["metadata"]["annotations"] == {"cost-center": "research"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PREFECT__DEPLOYMENT_NAME"] == "train" and "PREFECT__FLOW_RUN_ID" in env

    start = render_job("ResourcesFlow-step/start", {"step": "start", "run_id": "r1", "index": "0", "attempt": 0})
    (container,) = start["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {"requests": {"cpu": "2", "memory": "4096Mi", "ephemeral-storage": "20000Mi"},
                                      "limits": {"memory": "4096Mi"}}
    assert "nodeSelector" not in start["spec"]["template"]["spec"]


def test_kubernetes_job_volumes_image_and_secrets(tmp_path: Path, prefect_api, pool):
    deploy(FIXTURES / "containers.py", tmp_path, prefect_api)
    special = render_job("ContainersFlow-step/special", {"step": "special", "run_id": "r", "index": "0"})
    pod = special["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/team/special:2.0"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert pod["volumes"] == [{"name": "pvc-0", "persistentVolumeClaim": {"claimName": "shared-data"}}]
    assert container["volumeMounts"] == [{"name": "pvc-0", "mountPath": "/mnt/data"}]
    gpu = render_job("ContainersFlow-step/gpu", {"step": "gpu", "run_id": "r", "index": "0"})
    pod = gpu["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "1024Mi"}}]
    assert pod["containers"][0]["resources"]["limits"] == {"memory": "30000Mi", "nvidia.com/gpu": 1}


def render_job(deployment_name: str, parameters: dict) -> dict:
    """A flow run of the deployment, and the Kubernetes job prefect-kubernetes renders for it."""
    from prefect.client.orchestration import get_client
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    async def render():
        async with get_client() as c:
            d = await c.read_deployment_by_name(deployment_name)
            run = await c.create_flow_run_from_deployment(d.id, parameters=parameters)
            pool = await c.read_work_pool(d.work_pool_name)
            flow = await c.read_flow(d.flow_id)
            variables = {**(d.job_variables or {}), **(run.job_variables or {})}
            config = await KubernetesWorkerJobConfiguration.from_template_and_values(pool.base_job_template, variables)
            config.prepare_for_flow_run(run, d, flow)
            await c.delete_flow_run(run.id)
            return config.job_manifest

    return asyncio.run(render())


@pytest.mark.parametrize("path, how", [(FIXTURES / "containers.py", "deployment"),
                                       (FIXTURES / "image.py", "direct")], ids=["containers", "image"])
def test_container_steps_run_through_their_deployments(path: Path, how: str, tmp_path: Path, prefect_api, pool,
                                                      monkeypatch):
    """Container steps become flow runs of their own deployments on the
    Kubernetes pool, whose jobs a node runs; the artifacts equal flowc run's.
    "deployment": the flow itself runs from its deployment, as a job of the
    pool too (with prefect.yaml's parameters and pull step), and sends its
    container steps to their deployments by itself. "direct": the flow runs
    here, told to send them (FLOWC_PREFECT_CONTAINER_STEPS=deployments)."""
    from prefect.deployments import run_deployment

    folder, ds = tmp_path / "prefect", tmp_path / "ds"
    plan = build(path, folder, ds, work_pool=POOL, workdir=str(folder))
    prefect_cli(["deploy", "--all"], folder, prefect_api)
    with Node(POOL, prefect_api) as node:
        if how == "deployment":
            run = run_deployment(f"{plan.flow.name}/{plan.deployment}", timeout=300, poll_interval=1)
            state, run_id = run.state, str(run.id)
        else:
            monkeypatch.setenv("FLOWC_PREFECT_CONTAINER_STEPS", "deployments")
            state = load_prefect_flow(folder, plan.flow_func)(return_state=True)
            run_id = str(state.state_details.flow_run_id)
    assert not node.errors, node.errors
    assert state.is_completed(), state.message
    containers = {t.step: t.container for t in plan.tasks if t.container}
    prefect_artifacts = run_artifacts(str(ds), plan.flow.name, run_id)
    expected_jobs = {c.deployment: len(prefect_artifacts[s]) for s, c in containers.items()}
    if how == "deployment":
        expected_jobs[plan.deployment] = 1
    assert {name: len(jobs) for name, jobs in node.manifests.items()} == expected_jobs
    for step, c in containers.items():
        for job in node.manifests[c.deployment]:
            assert job["spec"]["template"]["spec"]["containers"][0]["image"] == c.job_variables["image"]
    flowc_run(path, ds, "local")
    assert prefect_artifacts == run_artifacts(str(ds), plan.flow.name, "local")
    with client() as c:  # each container step's flow run is a subflow of the flow run
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

        children = c.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(run_id)])))
    assert sorted(r.name for r in children) == sorted(
        f"{plan.flow.name}/{run_id}/{s}/{i}" for s in containers for i in prefect_artifacts[s])
