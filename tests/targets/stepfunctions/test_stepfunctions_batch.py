"""The AWS Batch mode executed in moto's Step Functions interpreter:
`batch:submitJob.sync` against moto's Batch API (its job parameters
substituted by moto, the container command run on this machine, see
sfn_harness.patch_moto_batch_runs_commands), the foreach counts and switch
choices read back from out.json in moto's S3. Artifacts equal `flowc run`'s."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import REPO, load_ir
from tests.support.artifacts import flowc_run, run_artifacts
from tests.targets.stepfunctions.sfn_harness import (ROLE, Patches, compile_flow, patch_moto_batch_runs_commands,
                                                     prepare_workdir)

pytestmark = pytest.mark.engine

BUCKET = "flowc-sfn-batch"


@pytest.fixture(scope="module")
def batch_queue(moto_server):
    patches = Patches()
    patch_moto_batch_runs_commands(patches, moto_server.env)
    moto_server.client("s3").create_bucket(Bucket=BUCKET)
    iam = moto_server.client("iam")
    role = iam.create_role(RoleName="flowc-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    batch = moto_server.client("batch")
    env = batch.create_compute_environment(computeEnvironmentName="flowc-local", type="UNMANAGED", state="ENABLED",
                                           serviceRole=role)["computeEnvironmentArn"]
    batch.create_job_queue(jobQueueName="flowc", state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}])
    yield "flowc"
    patches.undo()


@pytest.mark.parametrize("stem, params", [
    ("switch", {"size": 500}),
    ("recursive_switch", {}),
    ("nested_foreach", {}),
    ("retry_catch", {}),
])
def test_the_batch_mode_runs_in_moto(moto_server, batch_queue, harness, tmp_path, monkeypatch, stem, params):
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    flow_path = REPO / "tests" / "flows" / f"{stem}.py"
    flow = load_ir(flow_path)
    datastore = f"s3://{BUCKET}/{stem}"
    files = compile_flow(flow_path, tmp_path / "out", "--datastore", datastore, "--python", sys.executable,
                         "--job-queue", batch_queue)
    prepare_workdir(flow_path, tmp_path / "work", datastore, moto_server.env)
    batch = moto_server.client("batch")
    for job in json.loads(files[f"{flow.name}.batch-jobs.json"].read_text()):
        batch.register_job_definition(**job)
    sfn = moto_server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"batch-{stem}", definition=files[f"{flow.name}.asl.json"].read_text(),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="batch-1", input=json.dumps(params))["executionArn"]
    execution = harness.wait(arn, tmp_path / "work", timeout=300)
    assert execution.status == "SUCCEEDED", execution.story()
    got = run_artifacts(datastore, flow.name, "batch-1")
    reference = tmp_path / "reference"
    flowc_run(flow_path, reference, "batch-1", params={k: json.dumps(v) for k, v in params.items()})
    assert got == run_artifacts(str(reference), flow.name, "batch-1")
    reads = [e for e in execution.events if e["type"] == "TaskSucceeded"
             and e["taskSucceededEventDetails"]["resourceType"] == "aws-sdk:s3"]
    expected_reads = {"switch": 1, "recursive_switch": 3, "nested_foreach": 4, "retry_catch": 0}[stem]
    assert len(reads) == expected_reads
