"""Prefect flow of ResourcesFlow, compiled by flowc 0.1.0 from tests/flows/resources.py.

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
    flow="ResourcesFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "resources.py",
        "--ir", "ResourcesFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="ResourcesFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.ResourcesFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (resources.py:12)
# Goes to train.
# Runs in a container of its own (CPUs 2 > the flow pod's 1; disk 20000 MiB > the flow pod's 10240 MiB):
# deployment ResourcesFlow-step/start in prefect.yaml.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params, deployment="start")


# train (resources.py:26)
# Goes to end.
# Runs in a container of its own (@kubernetes; 2 GPUs; CPUs 8 > the flow pod's 1; memory 16384 MiB > the flow pod's 4096 MiB):
# deployment ResourcesFlow-step/train in prefect.yaml.
@task(
    name="train",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def train(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("train", run_id, index, deployment="train")


# end (resources.py:31)
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


@flow(name="ResourcesFlow-step", flow_run_name="ResourcesFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="ResourcesFlow",
    description="Resources, GPUs and Kubernetes pod options on different steps.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def resources_flow() -> str:
    """Resources, GPUs and Kubernetes pod options on different steps."""
    run_id = current_run_id()
    params = {}

    # start (resources.py:12): goes to train
    start_future = start.submit(run_id, "0", params)

    # train (resources.py:26): goes to end
    train_future = train.submit(run_id, "0", wait_for=[start_future])

    # end (resources.py:31): the end step
    end_future = end.submit(run_id, "0", wait_for=[train_future])

    return finish(run_id, start_future, train_future, end_future)


if __name__ == "__main__":
    resources_flow()
