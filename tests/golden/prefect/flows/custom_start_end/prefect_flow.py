"""Prefect flow of CustomStartEndFlow, compiled by flowc 0.1.0 from tests/flows/custom_start_end.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="CustomStartEndFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "custom_start_end.py",
        "--ir", "CustomStartEndFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.CustomStartEndFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# begin (custom_start_end.py:8)
# Goes to middle.
@task(
    name="begin",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def begin(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("begin", run_id, index, params=params)


# middle (custom_start_end.py:13)
# Goes to finish.
@task(
    name="middle",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def middle(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("middle", run_id, index)


# finish (custom_start_end.py:18)
# The end step.
@task(
    name="finish",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def finish_step(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("finish", run_id, index)


# ---------------------------------------------------------------- the flow


@flow(
    name="CustomStartEndFlow",
    description="Entry and exit steps named by annotation instead of start/end.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def custom_start_end_flow() -> str:
    """Entry and exit steps named by annotation instead of start/end."""
    run_id = current_run_id()
    params = {}

    # begin (custom_start_end.py:8): goes to middle
    begin_future = begin.submit(run_id, "0", params)

    # middle (custom_start_end.py:13): goes to finish
    middle_future = middle.submit(run_id, "0", wait_for=[begin_future])

    # finish (custom_start_end.py:18): the end step
    finish_future = finish_step.submit(run_id, "0", wait_for=[middle_future])

    return finish(run_id, begin_future, middle_future, finish_future)


if __name__ == "__main__":
    custom_start_end_flow()
