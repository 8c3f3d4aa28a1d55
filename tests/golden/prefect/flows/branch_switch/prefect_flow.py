"""Prefect flow of BranchSwitchFlow, compiled by flowc 0.1.0 from tests/flows/branch_switch.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, chosen, current_run_id, finish

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="BranchSwitchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "branch_switch.py",
        "--ir", "BranchSwitchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BranchSwitchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (branch_switch.py:9)
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


# left (branch_switch.py:14)
# Switch on self.mode ('fast': fast, 'slow': slow).
@task(
    name="left",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def left(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("left", run_id, index)


# fast (branch_switch.py:18)
# Goes to join.
@task(
    name="fast",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fast(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fast", run_id, index)


# slow (branch_switch.py:23)
# Goes to join.
@task(
    name="slow",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def slow(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("slow", run_id, index)


# right (branch_switch.py:28)
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


# join (branch_switch.py:33)
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


# end (branch_switch.py:38)
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
    name="BranchSwitchFlow",
    description="A switch inside one branch of a static split: the join waits for\nwhichever case ran on that branch, and for the other branch.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def branch_switch_flow() -> str:
    """A switch inside one branch of a static split: the join waits for
    whichever case ran on that branch, and for the other branch.
    """
    run_id = current_run_id()
    params = {}

    # start (branch_switch.py:9): branches to left, right
    start_future = start.submit(run_id, "0", params)

    # left (branch_switch.py:14): switch on self.mode ('fast': fast, 'slow': slow)
    left_future = left.submit(run_id, "0", wait_for=[start_future])

    # right (branch_switch.py:28): goes to join
    right_future = right.submit(run_id, "0", wait_for=[start_future])

    # wait for left: the case it chose decides what runs next
    left_case = chosen(left_future)

    # fast (branch_switch.py:18): goes to join
    fast_future = None
    if left_case == "fast":
        fast_future = fast.submit(run_id, "0", wait_for=[left_future])

    # slow (branch_switch.py:23): goes to join
    slow_future = None
    if left_case == "slow":
        slow_future = slow.submit(run_id, "0", wait_for=[left_future])

    # join (branch_switch.py:33): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[fast_future, slow_future, right_future])

    # end (branch_switch.py:38): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, left_future, fast_future, slow_future, right_future, join_future, end_future)


if __name__ == "__main__":
    branch_switch_flow()
