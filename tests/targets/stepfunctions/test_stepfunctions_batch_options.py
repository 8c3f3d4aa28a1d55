"""@batch options (and a @kubernetes tmpfs carried onto AWS Batch) in the job
definitions the Step Functions target writes, registered with AWS Batch's API
(botocore checks every field against the service's model; moto stores them)."""

from __future__ import annotations

import json

from flowc.compiler import load_flow
from flowc.targets import registry
from tests.conftest import REPO

FLOW = REPO / "tests" / "data" / "batch_options_flow.py"


def jobs(**options) -> tuple[dict[str, dict], list]:
    out = registry.get("stepfunctions")(options).compile(load_flow(FLOW))
    files = out.files
    name = next(n for n in files if n.endswith(".batch-jobs.json"))
    return {j["jobDefinitionName"].rsplit("-", 1)[-1]: j for j in json.loads(files[name])}, out.diagnostics


def test_job_definitions_carry_the_options():
    by_step, diagnostics = jobs()
    assert not [d for d in diagnostics if d.code == "FC501"]
    start = by_step["start"]["containerProperties"]
    assert start["linuxParameters"] == {"maxSwap": 2048, "swappiness": 10,
                                        "tmpfs": [{"containerPath": "/metaflow_temp", "size": 4096}]}
    assert {"name": "METAFLOW_TEMPDIR", "value": "/metaflow_temp"} in start["environment"]
    assert start["privileged"] is True
    assert start["logConfiguration"] == {"logDriver": "awslogs", "options": {"awslogs-group": "ml"}}
    assert start["ephemeralStorage"] == {"sizeInGiB": 50}
    assert start["mountPoints"] == [{"sourceVolume": "host-0", "containerPath": "/scratch"},
                                    {"sourceVolume": "efs-0", "containerPath": "/mnt/shared"}]
    assert start["volumes"][1] == {"name": "efs-0", "efsVolumeConfiguration": {"fileSystemId": "fs-0123"}}
    assert by_step["start"]["tags"] == {"team": "ml"}
    end = by_step["end"]["containerProperties"]
    assert end["linuxParameters"] == {"tmpfs": [{"containerPath": "/fast", "size": 256}]}


def test_job_definitions_register_with_batch(moto_server):
    batch = moto_server.client("batch")
    by_step, _ = jobs()
    for job in by_step.values():
        assert batch.register_job_definition(**job)["jobDefinitionName"] == job["jobDefinitionName"]


def test_a_worker_warns_that_it_applies_no_job_option():
    target = registry.get("stepfunctions")({"mode": "worker", "queue_url": "https://sqs.eu-west-1.amazonaws.com/1/q"})
    diagnostics = target.compile(load_flow(FLOW)).diagnostics
    warned = [d.message for d in diagnostics if "job options a worker does not apply" in d.message]
    assert len(warned) == 2 and "use_tmpfs" in warned[0]
