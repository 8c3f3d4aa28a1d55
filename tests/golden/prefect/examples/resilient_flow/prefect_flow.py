"""Prefect flow of ResilientFlow, compiled by flowc 0.1.0 from examples/resilient_flow.py.

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
    flow="ResilientFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "resilient_flow.py",
        "--ir", "ResilientFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ResilientFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (resilient_flow.py:10)
# Branches to flaky, fragile.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# flaky (resilient_flow.py:16)
# Goes to join.
# @retry(times=2): Prefect retries the task; each retry is the runtime's next attempt (resilient_flow.py:13)
# @timeout: the runtime stops the step after 60 s; Prefect's timeout is the backstop (resilient_flow.py:14)
@task(
    name="flaky",
    task_run_name=RUNTIME.pathspec,
    retries=2,
    retry_delay_seconds=0,
    timeout_seconds=120,  # @timeout 60 s + 60 s
    cache_policy=NO_CACHE,
    persist_result=False,
)
def flaky(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("flaky", run_id, index)


# fragile (resilient_flow.py:25)
# Goes to join.
# @catch: on the last attempt the runtime stores the failure in self.failure and the flow goes on (resilient_flow.py:23)
@task(
    name="fragile",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fragile(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fragile", run_id, index)


# join (resilient_flow.py:30)
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


# end (resilient_flow.py:36)
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
    name="ResilientFlow",
    description="A step that fails on its first attempt, and one whose failure is caught.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def resilient_flow() -> str:
    """A step that fails on its first attempt, and one whose failure is caught."""
    run_id = current_run_id()
    params = {}

    # start (resilient_flow.py:10): branches to flaky, fragile
    start_future = start.submit(run_id, "0", params)

    # flaky (resilient_flow.py:16): goes to join
    flaky_future = flaky.submit(run_id, "0", wait_for=[start_future])

    # fragile (resilient_flow.py:25): goes to join
    fragile_future = fragile.submit(run_id, "0", wait_for=[start_future])

    # join (resilient_flow.py:30): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[flaky_future, fragile_future])

    # end (resilient_flow.py:36): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, flaky_future, fragile_future, join_future, end_future)


if __name__ == "__main__":
    resilient_flow()
