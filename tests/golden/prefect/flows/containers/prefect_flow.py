"""Prefect flow of ContainersFlow, compiled by flowc 0.1.0 from tests/flows/containers.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any, Optional

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="ContainersFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "containers.py",
        "--ir", "ContainersFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="ContainersFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.ContainersFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (containers.py:9)
# Branches to special, gpu.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# special (containers.py:16)
# Goes to meet.
# Runs in a container of its own (@kubernetes; its own image registry.example.com/team/special:2.0):
# deployment ContainersFlow-step/special in prefect.yaml.
@task(
    name="special",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def special(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("special", run_id, index, deployment="special")


# gpu (containers.py:22)
# Goes to meet.
# Runs in a container of its own (1 GPU; memory 30000 MiB > the flow pod's 4096 MiB; 1024 MiB shared memory):
# deployment ContainersFlow-step/gpu in prefect.yaml.
@task(
    name="gpu",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def gpu(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("gpu", run_id, index, deployment="gpu")


# meet (containers.py:27)
# Joins the branches of start.
@task(
    name="meet",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def meet(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("meet", run_id, index)


# fork (containers.py:33)
# Foreach over self.shards, into shard.
@task(
    name="fork",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fork(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fork", run_id, index)


# shard (containers.py:38)
# Goes to gather.
# Runs in a container of its own (@batch; CPUs 4 > the flow pod's 1; memory 8192 MiB > the flow pod's 4096 MiB):
# deployment ContainersFlow-step/shard in prefect.yaml.
@task(
    name="shard",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def shard(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("shard", run_id, index, deployment="shard")


# gather (containers.py:43)
# Joins the items of fork.
@task(
    name="gather",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def gather(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("gather", run_id, index)


# end (containers.py:49)
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


@flow(name="ContainersFlow-step", flow_run_name="ContainersFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="ContainersFlow",
    description="Steps in containers of their own: an image, GPUs, @batch with a queue,\none inside a foreach; others in the flow's own pod.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def containers_flow() -> str:
    """Steps in containers of their own: an image, GPUs, @batch with a queue,
    one inside a foreach; others in the flow's own pod.
    """
    run_id = current_run_id()
    params = {}

    # start (containers.py:9): branches to special, gpu
    start_future = start.submit(run_id, "0", params)

    # special (containers.py:16): goes to meet
    special_future = special.submit(run_id, "0", wait_for=[start_future])

    # gpu (containers.py:22): goes to meet
    gpu_future = gpu.submit(run_id, "0", wait_for=[start_future])

    # meet (containers.py:27): joins the branches of start
    meet_future = meet.submit(run_id, "0", wait_for=[special_future, gpu_future])

    # fork (containers.py:33): foreach over self.shards, into shard
    fork_future = fork.submit(run_id, "0", wait_for=[meet_future])

    # wait for fork: one shard task per item of self.shards
    shard_indices = foreach_indices(fork_future, depth=0)

    # shard (containers.py:38): goes to gather
    shard_futures = shard.map(unmapped(run_id), shard_indices, wait_for=[fork_future])

    # gather (containers.py:43): joins the items of fork
    gather_future = gather.submit(run_id, "0", wait_for=[shard_futures])

    # end (containers.py:49): the end step
    end_future = end.submit(run_id, "0", wait_for=[gather_future])

    return finish(run_id, start_future, special_future, gpu_future, meet_future, fork_future, shard_futures, gather_future, end_future)


if __name__ == "__main__":
    containers_flow()
