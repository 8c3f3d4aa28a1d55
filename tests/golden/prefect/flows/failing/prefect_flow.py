"""Prefect flow of FailingFlow, compiled by flowc 0.1.0 from tests/flows/failing.py.

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
    flow="FailingFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "failing.py",
        "--ir", "FailingFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.FailingFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (failing.py:8)
# Goes to boom.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# boom (failing.py:13)
# Goes to end.
@task(
    name="boom",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def boom(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("boom", run_id, index)


# end (failing.py:18)
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


# ---------------------------------------------------------------- the flow


@flow(
    name="FailingFlow",
    description="A step that always fails, with no @catch: the execution must fail.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def failing_flow() -> str:
    """A step that always fails, with no @catch: the execution must fail."""
    run_id = current_run_id()
    params = {}

    # start (failing.py:8): goes to boom
    start_future = start.submit(run_id, "0", params)

    # boom (failing.py:13): goes to end
    boom_future = boom.submit(run_id, "0", wait_for=[start_future])

    # end (failing.py:18): the end step
    end_future = end.submit(run_id, "0", wait_for=[boom_future])

    return finish(run_id, start_future, boom_future, end_future)


if __name__ == "__main__":
    failing_flow()
