"""Prefect flow of MergeFlow, compiled by flowc 0.1.0 from tests/flows/merge.py.

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
    flow="MergeFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "merge.py",
        "--ir", "MergeFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.MergeFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (merge.py:8)
# Branches to left, right.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# left (merge.py:14)
# Goes to join.
@task(
    name="left",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def left(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("left", run_id, index)


# right (merge.py:20)
# Goes to join.
@task(
    name="right",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def right(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("right", run_id, index)


# join (merge.py:26)
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


# pick (merge.py:32)
# Branches to a, b.
@task(
    name="pick",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def pick(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("pick", run_id, index)


# a (merge.py:36)
# Goes to join2.
@task(
    name="a",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def a(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("a", run_id, index)


# b (merge.py:41)
# Goes to join2.
@task(
    name="b",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def b(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("b", run_id, index)


# join2 (merge.py:46)
# Joins the branches of pick.
@task(
    name="join2",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def join2(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("join2", run_id, index)


# end (merge.py:52)
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
    name="MergeFlow",
    description="merge_artifacts with include=, and a conflict resolved before merging.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def merge_flow() -> str:
    """merge_artifacts with include=, and a conflict resolved before merging."""
    run_id = current_run_id()
    params = {}

    # start (merge.py:8): branches to left, right
    start_future = start.submit(run_id, "0", params)

    # left (merge.py:14): goes to join
    left_future = left.submit(run_id, "0", wait_for=[start_future])

    # right (merge.py:20): goes to join
    right_future = right.submit(run_id, "0", wait_for=[start_future])

    # join (merge.py:26): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[left_future, right_future])

    # pick (merge.py:32): branches to a, b
    pick_future = pick.submit(run_id, "0", wait_for=[join_future])

    # a (merge.py:36): goes to join2
    a_future = a.submit(run_id, "0", wait_for=[pick_future])

    # b (merge.py:41): goes to join2
    b_future = b.submit(run_id, "0", wait_for=[pick_future])

    # join2 (merge.py:46): joins the branches of pick
    join2_future = join2.submit(run_id, "0", wait_for=[a_future, b_future])

    # end (merge.py:52): the end step
    end_future = end.submit(run_id, "0", wait_for=[join2_future])

    return finish(run_id, start_future, left_future, right_future, join_future, pick_future, a_future, b_future, join2_future, end_future)


if __name__ == "__main__":
    merge_flow()
