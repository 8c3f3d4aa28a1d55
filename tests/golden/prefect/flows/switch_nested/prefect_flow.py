"""Prefect flow of SwitchNestedFlow, compiled by flowc 0.1.0 from tests/flows/switch_nested.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, merged, took

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="SwitchNestedFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch_nested.py",
        "--ir", "SwitchNestedFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SwitchNestedFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (switch_nested.py:8)
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


# row (switch_nested.py:13)
# Switch on self.kind ('odd': odd, 'even': even).
@task(
    name="row",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def row(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("row", run_id, index)


# odd (switch_nested.py:19)
# Goes to expand.
@task(
    name="odd",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def odd(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("odd", run_id, index)


# even (switch_nested.py:24)
# Goes to expand.
@task(
    name="even",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def even(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("even", run_id, index)


# expand (switch_nested.py:29)
# Foreach over self.cols, into cell.
@task(
    name="expand",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def expand(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("expand", run_id, index)


# cell (switch_nested.py:34)
# Goes to cell_join.
@task(
    name="cell",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def cell(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("cell", run_id, index)


# cell_join (switch_nested.py:39)
# Joins the items of expand.
@task(
    name="cell_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def cell_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("cell_join", run_id, index)


# row_join (switch_nested.py:44)
# Joins the items of start.
@task(
    name="row_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def row_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("row_join", run_id, index)


# end (switch_nested.py:49)
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
    name="SwitchNestedFlow",
    description="A switch in a foreach level that also holds a nested foreach.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def switch_nested_flow() -> str:
    """A switch in a foreach level that also holds a nested foreach."""
    run_id = current_run_id()
    params = {}

    # start (switch_nested.py:8): foreach over self.rows, into row
    start_future = start.submit(run_id, "0", params)

    # wait for start: one row task per item of self.rows
    row_indices = foreach_indices(start_future, depth=0)

    # row (switch_nested.py:13): switch on self.kind ('odd': odd, 'even': even)
    row_futures = row.map(unmapped(run_id), row_indices, wait_for=[start_future])

    # wait for row: the items whose case leads to odd
    odd_indices = took(row_futures, "odd")

    # odd (switch_nested.py:19): goes to expand
    odd_futures = odd.map(unmapped(run_id), odd_indices, wait_for=[row_futures])

    # wait for row: the items whose case leads to even
    even_indices = took(row_futures, "even")

    # even (switch_nested.py:24): goes to expand
    even_futures = even.map(unmapped(run_id), even_indices, wait_for=[row_futures])

    # the items expand runs for
    expand_indices = merged(odd_indices, even_indices)

    # expand (switch_nested.py:29): foreach over self.cols, into cell
    expand_futures = expand.map(unmapped(run_id), expand_indices, wait_for=[odd_futures, even_futures])

    # wait for expand: one cell task per item of self.cols
    cell_indices = foreach_indices(expand_futures, depth=1)

    # cell (switch_nested.py:34): goes to cell_join
    cell_futures = cell.map(unmapped(run_id), cell_indices, wait_for=[expand_futures])

    # cell_join (switch_nested.py:39): joins the items of expand
    cell_join_futures = cell_join.map(unmapped(run_id), expand_indices, wait_for=[cell_futures])

    # row_join (switch_nested.py:44): joins the items of start
    row_join_future = row_join.submit(run_id, "0", wait_for=[cell_join_futures])

    # end (switch_nested.py:49): the end step
    end_future = end.submit(run_id, "0", wait_for=[row_join_future])

    return finish(run_id, start_future, row_futures, odd_futures, even_futures, expand_futures, cell_futures, cell_join_futures, row_join_future, end_future)


if __name__ == "__main__":
    switch_nested_flow()
