"""Prefect flow of NestedForeachFlow, compiled by flowc 0.1.0 from tests/flows/nested_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="NestedForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "nested_foreach.py",
        "--ir", "NestedForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.NestedForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (nested_foreach.py:8)
# Foreach over self.rows, into row.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# row (nested_foreach.py:13)
# Foreach over self.cols, into cell.
@task(
    name="row",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def row(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("row", run_id, index)


# cell (nested_foreach.py:19)
# Goes to row_join.
@task(
    name="cell",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def cell(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("cell", run_id, index)


# row_join (nested_foreach.py:25)
# Joins the items of row.
@task(
    name="row_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def row_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("row_join", run_id, index)


# all_join (nested_foreach.py:31)
# Joins the items of start.
@task(
    name="all_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def all_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("all_join", run_id, index)


# end (nested_foreach.py:36)
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
    name="NestedForeachFlow",
    description="A foreach inside a foreach; the inner body reads both levels.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def nested_foreach_flow() -> str:
    """A foreach inside a foreach; the inner body reads both levels."""
    run_id = current_run_id()
    params = {}

    # start (nested_foreach.py:8): foreach over self.rows, into row
    start_future = start.submit(run_id, "0", params)

    # wait for start: one row task per item of self.rows
    row_indices = foreach_indices(start_future, depth=0)

    # row (nested_foreach.py:13): foreach over self.cols, into cell
    row_futures = row.map(unmapped(run_id), row_indices, wait_for=[start_future])

    # wait for row: one cell task per item of self.cols
    cell_indices = foreach_indices(row_futures, depth=1)

    # cell (nested_foreach.py:19): goes to row_join
    cell_futures = cell.map(unmapped(run_id), cell_indices, wait_for=[row_futures])

    # row_join (nested_foreach.py:25): joins the items of row
    row_join_futures = row_join.map(unmapped(run_id), row_indices, wait_for=[cell_futures])

    # all_join (nested_foreach.py:31): joins the items of start
    all_join_future = all_join.submit(run_id, "0", wait_for=[row_join_futures])

    # end (nested_foreach.py:36): the end step
    end_future = end.submit(run_id, "0", wait_for=[all_join_future])

    return finish(run_id, start_future, row_futures, cell_futures, row_join_futures, all_join_future, end_future)


if __name__ == "__main__":
    nested_foreach_flow()
