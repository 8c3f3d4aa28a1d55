"""Prefect flow of ImageFlow, compiled by flowc 0.1.0 from tests/flows/image.py.

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
    flow="ImageFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "image.py",
        "--ir", "ImageFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="ImageFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.ImageFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (image.py:8)
# Goes to special.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# special (image.py:14)
# Goes to end.
# Runs in a container of its own (@kubernetes; its own image example.com/team/special:1.2.3):
# deployment ImageFlow-step/special in prefect.yaml.
@task(
    name="special",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def special(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("special", run_id, index, deployment="special")


# end (image.py:19)
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


@flow(name="ImageFlow-step", flow_run_name="ImageFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="ImageFlow",
    description="One step runs in an image of its own.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def image_flow() -> str:
    """One step runs in an image of its own."""
    run_id = current_run_id()
    params = {}

    # start (image.py:8): goes to special
    start_future = start.submit(run_id, "0", params)

    # special (image.py:14): goes to end
    special_future = special.submit(run_id, "0", wait_for=[start_future])

    # end (image.py:19): the end step
    end_future = end.submit(run_id, "0", wait_for=[special_future])

    return finish(run_id, start_future, special_future, end_future)


if __name__ == "__main__":
    image_flow()
