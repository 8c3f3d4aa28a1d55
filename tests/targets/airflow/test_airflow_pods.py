"""Pod specs of KubernetesPodOperator tasks, and AWS Batch job overrides,
rendered offline by Airflow itself (templated fields rendered, the pod built
by the provider) and checked: image, command, resources, secrets, scheduling."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_FLOWS, load_ir
from tests.targets.airflow.conftest import compile_flow
from tests.targets.airflow.test_airflow_compile import fid

FLOWS = {fid(p): p for p in ALL_FLOWS}


def inspect(probe, tmp_path, name, index="1", **options):
    path = FLOWS[name]
    text, _ = compile_flow(path, unsupported="warn", **options)
    file = tmp_path / f"{name.replace('/', '_')}.py"
    file.write_text(text, encoding="utf-8")
    from flowc.targets.airflow import dag_id_of

    return load_ir(path), probe.ask(op="inspect", file=str(file), dag_id=dag_id_of(load_ir(path)), index=index)


def container(task):
    (main, *sidecars) = task["pod"]["spec"]["containers"]
    assert main["name"] == "base"
    return main


def expected_command(flow, step, index, attempt="2", extra=()):
    # the probe renders try 3 of a task cleared after two tries: attempt 2 begins a new series
    return ["python", "-m", "flowc.runtime", "step", "--flow", flow.source.path.rsplit("/", 1)[-1],
            "--ir", f"{flow.name}.ir.json", "--step", step, "--run-id", "manual__probe", "--index", index,
            "--attempt", attempt, "--first-attempt", "2", "--datastore", "s3://flowc-datastore", *extra]


# every pod writes its OUT.json (and the events its step published) where the provider's sidecar reads XCom from
POD_OUTPUT = ("--output", "/airflow/xcom/return.json")


def pod_command(flow, step, index, attempt="2"):
    return expected_command(flow, step, index, attempt, extra=POD_OUTPUT)


@pytest.fixture(params=[3, 2], ids=["airflow3", "airflow2"])
def probe(request, airflow3):
    if request.param == 3:
        return airflow3.probe, 3
    return request.getfixturevalue("airflow2").probe, 2


def test_resources_gpus_node_selector_tolerations(probe, tmp_path):
    probe, version = probe
    flow, answer = inspect(probe, tmp_path, "flows/resources", airflow_version=version)
    start = container(answer["tasks"]["start"])
    assert start["image"] == "flowc:0.1.0"
    assert start["command"] == pod_command(flow, "start", "0")
    assert start["resources"] == {"requests": {"cpu": "2", "memory": "4096Mi", "ephemeral-storage": "20000Mi"},
                                  "limits": {"memory": "4096Mi"}}
    train = answer["tasks"]["train"]["pod"]
    assert train["metadata"]["namespace"] == "ml-jobs"
    assert train["metadata"]["labels"]["team"] == "ml"
    assert train["metadata"]["annotations"] == {"cost-center": "research"}
    assert train["spec"]["serviceAccountName"] == "trainer"
    assert train["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": "p3.8xlarge"}
    assert train["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert container(answer["tasks"]["train"])["resources"] == {
        "requests": {"cpu": "8", "memory": "16384Mi"}, "limits": {"memory": "16384Mi", "nvidia.com/gpu": "2"}}


def test_secrets_are_kubernetes_secret_references(probe, tmp_path):
    probe, version = probe
    _, answer = inspect(probe, tmp_path, "flows/secrets", airflow_version=version)
    start = container(answer["tasks"]["start"])
    assert start["envFrom"] == [{"secretRef": {"name": "db-credentials"}}, {"secretRef": {"name": "api-token"}}]
    assert "db-credentials" not in str(start["command"])


def test_per_step_image_and_pull_policy(probe, tmp_path):
    probe, version = probe
    _, answer = inspect(probe, tmp_path, "flows/image", airflow_version=version, image="registry.example.com/flows:9")
    assert container(answer["tasks"]["start"])["image"] == "registry.example.com/flows:9"
    special = container(answer["tasks"]["special"])
    assert special["image"] == "example.com/team/special:1.2.3"
    assert special["imagePullPolicy"] == "IfNotPresent"


def test_environment_values_reach_the_pod_literally(probe, tmp_path):
    probe, version = probe
    _, answer = inspect(probe, tmp_path, "flows/placement", airflow_version=version)
    train = container(answer["tasks"]["train_gpu"])
    assert {e["name"]: e["value"] for e in train["env"]} == {"MODE": "{{ not a template }}", "PLAIN": "yes"}
    assert train["image"] == "example.com/ml/trainer:2.0"
    assert train["resources"] == {"requests": {"cpu": "4", "memory": "32768Mi"},
                                  "limits": {"memory": "32768Mi", "amd.com/gpu": "1"}}
    assert train["envFrom"] == [{"secretRef": {"name": "hf-token"}}]
    mounts = {m["name"]: m["mountPath"] for m in train["volumeMounts"]}
    assert mounts == {"pvc-0": "/mnt/datasets", "dshm": "/dev/shm", "xcom": "/airflow/xcom"}
    volumes = {v["name"]: v for v in answer["tasks"]["train_gpu"]["pod"]["spec"]["volumes"]}
    assert volumes["pvc-0"]["persistentVolumeClaim"] == {"claimName": "datasets"}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "2048Mi"}
    assert answer["tasks"]["train_gpu"]["retries"] == 2 and answer["tasks"]["train_gpu"]["retry_delay"] == 90


def test_batch_job_overrides(probe, tmp_path):
    probe, version = probe
    flow, answer = inspect(probe, tmp_path, "flows/placement", airflow_version=version)
    batch = answer["tasks"]["score_batch"]
    assert batch["type"] == "BatchOperator"
    assert batch["batch"]["job_queue"] == "cpu-queue" and batch["batch"]["job_definition"] == "flowc"
    overrides = batch["batch"]["container_overrides"]
    assert overrides["command"] == expected_command(flow, "score_batch", "0")
    assert overrides["resourceRequirements"] == [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "8192"}]
    assert overrides["environment"] == [{"name": "MODE", "value": "batch"}]
    assert answer["tasks"]["start"]["type"] == "KubernetesPodOperator"  # the default placement


def test_mapped_pods_get_their_index_and_every_pod_pushes_its_out_json(probe, tmp_path):
    """A split's OUT.json feeds its lister; every pod's carries the events its step published."""
    probe, version = probe
    flow, answer = inspect(probe, tmp_path, "flows/foreach_body", index="2", airflow_version=version)
    start = answer["tasks"]["start"]
    assert start["do_xcom_push"] is True
    assert container(start)["command"] == pod_command(flow, "start", "0")
    for step in ("prepare", "train", "evaluate"):
        task = answer["tasks"][f"foreach_start.{step}"]
        assert container(task)["command"] == pod_command(flow, step, "2")
        assert task["do_xcom_push"] is True
    flow, answer = inspect(probe, tmp_path, "flows/nested_foreach", index="1.0", airflow_version=version)
    assert container(answer["tasks"]["foreach_row.cell"])["command"] == pod_command(flow, "cell", "1.0")
    assert container(answer["tasks"]["row_each.row"])["command"][-2:] == list(POD_OUTPUT)


def test_start_step_gets_the_parameters_as_one_json_object(probe, tmp_path):
    import json

    probe, version = probe
    flow, answer = inspect(probe, tmp_path, "flows/hostile", airflow_version=version)
    command = container(answer["tasks"]["start"])["command"]
    assert command[:-4] == expected_command(flow, "start", "0") and command[-2:] == list(POD_OUTPUT)
    assert command[-4] == "--params"
    assert json.loads(command[-3]) == {p.name: p.default for p in flow.parameters}
    assert "--params" not in container(answer["tasks"]["end"])["command"]


def test_retries_timeouts_and_trigger_rules(probe, tmp_path):
    probe, version = probe
    _, answer = inspect(probe, tmp_path, "flows/retry_catch", airflow_version=version)
    tasks = answer["tasks"]
    assert (tasks["flaky"]["retries"], tasks["flaky"]["retry_delay"]) == (2, 0)
    assert tasks["broken"]["retries"] == 1
    assert tasks["slow"]["retries"] == 0 and tasks["slow"]["execution_timeout"] == 90
    _, answer = inspect(probe, tmp_path, "flows/branch_switch", airflow_version=version)
    assert answer["tasks"]["join"]["trigger_rule"] == "none_failed_min_one_success"
    assert answer["tasks"]["right"]["trigger_rule"] == "all_success"
    assert answer["tasks"]["left_branch"]["op_kwargs"] == {}


def test_batch_splits_and_switches_hand_their_outcome_to_a_worker_task(probe, tmp_path):
    """A Batch job is asked for no XCom file; the worker task after it holds
    the step's OUT.json, and the lister, branch task and case gates read it."""
    probe, version = probe
    flow, answer = inspect(probe, tmp_path, "flows/batch_split", airflow_version=version)
    tasks = answer["tasks"]
    start = tasks["start"]
    assert start["type"] == "BatchOperator" and start["batch"]["job_queue"] == "cpu-queue"
    assert start["batch"]["container_overrides"]["command"] == expected_command(flow, "start", "0")
    assert start["batch"]["container_overrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}]
    region = tasks["region_each.region"]["batch"]["container_overrides"]["command"]
    assert region == expected_command(flow, "region", "1")
    # each reader waits for its job (and, mapped, for the index paths of its group)
    readers = {"start_outcome": ("start", []), "region_each.region_outcome": ("region_each.region", ["start_indices"]),
               "foreach_region.shard_outcome": ("foreach_region.shard", ["region_indices"]),
               "route_outcome": ("route", [])}
    for reader, (job, indices) in readers.items():
        assert tasks[reader]["type"] == "_PythonDecoratedOperator"
        assert tasks[reader]["upstream"] == sorted([job] + indices) and tasks[job]["type"] == "BatchOperator"
        assert tasks[reader]["op_args"][0] == job.rsplit(".", 1)[-1]  # read_outcome(step[, index])
        assert len(tasks[reader]["op_args"]) == (2 if "." in job else 1)
    assert tasks["start_indices"]["upstream"] == ["start_outcome"]
    assert tasks["region_indices"]["upstream"] == ["region_each.region_outcome"]
    assert tasks["route_branch"]["upstream"] == ["route_outcome"]
    for case in ("big", "small"):
        gate = tasks[f"foreach_region.shard_to_{case}"]
        assert gate["upstream"] == ["foreach_region.shard_outcome"]
        assert gate["op_args"] == ["foreach_region.shard_outcome", case]
    # the light steps keep the default placement, in pods
    assert container(tasks["foreach_region.tally"])["command"] == pod_command(flow, "tally", "1")
