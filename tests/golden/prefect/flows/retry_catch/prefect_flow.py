"""Prefect flow of RetryCatchFlow, compiled by flowc 0.1.0 from tests/flows/retry_catch.py.

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
    flow="RetryCatchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "retry_catch.py",
        "--ir", "RetryCatchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.RetryCatchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (retry_catch.py:8)
# Branches to flaky, broken, slow.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# flaky (retry_catch.py:13)
# Goes to join.
# @retry(times=2): Prefect retries the task; each retry is the runtime's next attempt (retry_catch.py:11)
@task(
    name="flaky",
    task_run_name=RUNTIME.pathspec,
    retries=2,
    retry_delay_seconds=0,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def flaky(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("flaky", run_id, index)


# broken (retry_catch.py:22)
# Goes to join.
# @retry(times=1): Prefect retries the task; each retry is the runtime's next attempt (retry_catch.py:20)
# @catch: on the last attempt the runtime stores the failure in self.error and the flow goes on (retry_catch.py:19)
@task(
    name="broken",
    task_run_name=RUNTIME.pathspec,
    retries=1,
    retry_delay_seconds=0,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def broken(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("broken", run_id, index)


# slow (retry_catch.py:29)
# Goes to join.
# @timeout: the runtime stops the step after 30 s; Prefect's timeout is the backstop (retry_catch.py:27)
@task(
    name="slow",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=90,  # @timeout 30 s + 60 s
    cache_policy=NO_CACHE,
    persist_result=False,
)
def slow(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("slow", run_id, index)


# join (retry_catch.py:34)
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


# end (retry_catch.py:41)
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
    name="RetryCatchFlow",
    description="A step that succeeds on its second attempt; one whose failure is caught.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def retry_catch_flow() -> str:
    """A step that succeeds on its second attempt; one whose failure is caught."""
    run_id = current_run_id()
    params = {}

    # start (retry_catch.py:8): branches to flaky, broken, slow
    start_future = start.submit(run_id, "0", params)

    # flaky (retry_catch.py:13): goes to join
    flaky_future = flaky.submit(run_id, "0", wait_for=[start_future])

    # broken (retry_catch.py:22): goes to join
    broken_future = broken.submit(run_id, "0", wait_for=[start_future])

    # slow (retry_catch.py:29): goes to join
    slow_future = slow.submit(run_id, "0", wait_for=[start_future])

    # join (retry_catch.py:34): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[flaky_future, broken_future, slow_future])

    # end (retry_catch.py:41): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, flaky_future, broken_future, slow_future, join_future, end_future)


if __name__ == "__main__":
    retry_catch_flow()
