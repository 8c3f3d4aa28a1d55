"""Prefect flow of BranchFlow, compiled by flowc 0.1.0 from tests/flows/branch.py.

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
    flow="BranchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "branch.py",
        "--ir", "BranchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BranchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (branch.py:8)
# Branches to a, b, c.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# a (branch.py:13)
# Goes to join.
@task(
    name="a",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def a(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("a", run_id, index)


# b (branch.py:19)
# Goes to join.
@task(
    name="b",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def b(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("b", run_id, index)


# c (branch.py:24)
# Goes to join.
@task(
    name="c",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def c(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("c", run_id, index)


# join (branch.py:29)
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


# end (branch.py:36)
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
    name="BranchFlow",
    description="A three-way static branch joined by name and by merge_artifacts.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def branch_flow() -> str:
    """A three-way static branch joined by name and by merge_artifacts."""
    run_id = current_run_id()
    params = {}

    # start (branch.py:8): branches to a, b, c
    start_future = start.submit(run_id, "0", params)

    # a (branch.py:13): goes to join
    a_future = a.submit(run_id, "0", wait_for=[start_future])

    # b (branch.py:19): goes to join
    b_future = b.submit(run_id, "0", wait_for=[start_future])

    # c (branch.py:24): goes to join
    c_future = c.submit(run_id, "0", wait_for=[start_future])

    # join (branch.py:29): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[a_future, b_future, c_future])

    # end (branch.py:36): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, a_future, b_future, c_future, join_future, end_future)


if __name__ == "__main__":
    branch_flow()
