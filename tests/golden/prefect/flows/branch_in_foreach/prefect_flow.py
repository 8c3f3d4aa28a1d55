"""Prefect flow of BranchInForeachFlow, compiled by flowc 0.1.0 from tests/flows/branch_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, zipped

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="BranchInForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "branch_in_foreach.py",
        "--ir", "BranchInForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BranchInForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (branch_in_foreach.py:8)
# Foreach over self.words, into split.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# split (branch_in_foreach.py:13)
# Branches to upper, length.
@task(
    name="split",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def split(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("split", run_id, index)


# upper (branch_in_foreach.py:18)
# Goes to pair.
@task(
    name="upper",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def upper(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("upper", run_id, index)


# length (branch_in_foreach.py:23)
# Goes to pair.
@task(
    name="length",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def length(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("length", run_id, index)


# pair (branch_in_foreach.py:28)
# Joins the branches of split.
@task(
    name="pair",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def pair(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("pair", run_id, index)


# after (branch_in_foreach.py:33)
# Goes to join.
@task(
    name="after",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def after(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("after", run_id, index)


# join (branch_in_foreach.py:38)
# Joins the items of start.
@task(
    name="join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("join", run_id, index)


# end (branch_in_foreach.py:43)
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
    name="BranchInForeachFlow",
    description="Each item of a foreach splits into two branches that join again, item by item.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def branch_in_foreach_flow() -> str:
    """Each item of a foreach splits into two branches that join again, item by item."""
    run_id = current_run_id()
    params = {}

    # start (branch_in_foreach.py:8): foreach over self.words, into split
    start_future = start.submit(run_id, "0", params)

    # wait for start: one split task per item of self.words
    split_indices = foreach_indices(start_future, depth=0)

    # split (branch_in_foreach.py:13): branches to upper, length
    split_futures = split.map(unmapped(run_id), split_indices, wait_for=[start_future])

    # upper (branch_in_foreach.py:18): goes to pair
    upper_futures = upper.map(unmapped(run_id), split_indices, after=split_futures)

    # length (branch_in_foreach.py:23): goes to pair
    length_futures = length.map(unmapped(run_id), split_indices, after=split_futures)

    # pair (branch_in_foreach.py:28): joins the branches of split
    pair_futures = pair.map(unmapped(run_id), split_indices, after=zipped(upper_futures, length_futures))

    # after (branch_in_foreach.py:33): goes to join
    after_futures = after.map(unmapped(run_id), split_indices, after=pair_futures)

    # join (branch_in_foreach.py:38): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[after_futures])

    # end (branch_in_foreach.py:43): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, split_futures, upper_futures, length_futures, pair_futures, after_futures, join_future, end_future)


if __name__ == "__main__":
    branch_in_foreach_flow()
