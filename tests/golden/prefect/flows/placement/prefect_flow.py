"""Prefect flow of PlacementFlow, compiled by flowc 0.1.0 from tests/flows/placement.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any, Optional

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="PlacementFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "placement.py",
        "--ir", "PlacementFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="PlacementFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.PlacementFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (placement.py:8)
# Branches to train_gpu, score_batch.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# train_gpu (placement.py:18)
# Goes to join.
# @retry(times=2): Prefect retries the task; each retry is the runtime's next attempt (placement.py:16)
# Runs in a container of its own (@kubernetes; its own image example.com/ml/trainer:2.0; 1 GPU; CPUs 4 > the flow pod's 1; memory 32768 MiB > the flow pod's 4096 MiB; 2048 MiB shared memory):
# deployment PlacementFlow-step/train_gpu in prefect.yaml.
@task(
    name="train_gpu",
    task_run_name=RUNTIME.pathspec,
    retries=2,
    retry_delay_seconds=90,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def train_gpu(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("train_gpu", run_id, index, deployment="train_gpu")


# score_batch (placement.py:25)
# Goes to join.
# Runs in a container of its own (@batch; CPUs 2 > the flow pod's 1; memory 8192 MiB > the flow pod's 4096 MiB):
# deployment PlacementFlow-step/score_batch in prefect.yaml.
@task(
    name="score_batch",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def score_batch(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("score_batch", run_id, index, deployment="score_batch")


# join (placement.py:30)
# Joins the branches of start.
@task(
    name="join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("join", run_id, index)


# end (placement.py:35)
# The end step.
@task(
    name="end",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def end(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("end", run_id, index)


# ---------------------------------------------------------------- a step in a container of its own


@flow(name="PlacementFlow-step", flow_run_name="PlacementFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="PlacementFlow",
    description="Light steps run where the flow runs; heavy ones are shipped to bigger hardware.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def placement_flow() -> str:
    """Light steps run where the flow runs; heavy ones are shipped to bigger hardware."""
    run_id = current_run_id()
    params = {}

    # start (placement.py:8): branches to train_gpu, score_batch
    start_future = start.submit(run_id, "0", params)

    # train_gpu (placement.py:18): goes to join
    train_gpu_future = train_gpu.submit(run_id, "0", wait_for=[start_future])

    # score_batch (placement.py:25): goes to join
    score_batch_future = score_batch.submit(run_id, "0", wait_for=[start_future])

    # join (placement.py:30): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[train_gpu_future, score_batch_future])

    # end (placement.py:35): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, train_gpu_future, score_batch_future, join_future, end_future)


if __name__ == "__main__":
    placement_flow()
