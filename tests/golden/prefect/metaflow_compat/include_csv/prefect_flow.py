"""Prefect flow of IncludeCsvFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/include_csv.py.

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
    flow="IncludeCsvFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "include_csv.py",
        "--ir", "IncludeCsvFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.IncludeCsvFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (include_csv.py:14)
# Branches to measure, count.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# measure (include_csv.py:21)
# Goes to join.
@task(
    name="measure",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def measure(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("measure", run_id, index)


# count (include_csv.py:27)
# Goes to join.
@task(
    name="count",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def count(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("count", run_id, index)


# join (include_csv.py:33)
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


# end (include_csv.py:41)
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
    name="IncludeCsvFlow",
    description="Summarize an included CSV file and a binary one.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def include_csv_flow() -> str:
    """Summarize an included CSV file and a binary one."""
    run_id = current_run_id()
    params = {}

    # start (include_csv.py:14): branches to measure, count
    start_future = start.submit(run_id, "0", params)

    # measure (include_csv.py:21): goes to join
    measure_future = measure.submit(run_id, "0", wait_for=[start_future])

    # count (include_csv.py:27): goes to join
    count_future = count.submit(run_id, "0", wait_for=[start_future])

    # join (include_csv.py:33): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[measure_future, count_future])

    # end (include_csv.py:41): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, measure_future, count_future, join_future, end_future)


if __name__ == "__main__":
    include_csv_flow()
