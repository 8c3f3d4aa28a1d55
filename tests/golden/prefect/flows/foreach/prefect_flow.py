"""Prefect flow of ForeachFixtureFlow, compiled by flowc 0.1.0 from tests/flows/foreach.py.

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
    flow="ForeachFixtureFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "foreach.py",
        "--ir", "ForeachFixtureFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ForeachFixtureFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (foreach.py:8)
# Foreach over self.words, into upper.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# upper (foreach.py:13)
# Goes to join.
@task(
    name="upper",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def upper(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("upper", run_id, index)


# join (foreach.py:19)
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


# end (foreach.py:25)
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
    name="ForeachFixtureFlow",
    description="A foreach over a list of strings, joined in order.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def foreach_fixture_flow() -> str:
    """A foreach over a list of strings, joined in order."""
    run_id = current_run_id()
    params = {}

    # start (foreach.py:8): foreach over self.words, into upper
    start_future = start.submit(run_id, "0", params)

    # wait for start: one upper task per item of self.words
    upper_indices = foreach_indices(start_future, depth=0)

    # upper (foreach.py:13): goes to join
    upper_futures = upper.map(unmapped(run_id), upper_indices, wait_for=[start_future])

    # join (foreach.py:19): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[upper_futures])

    # end (foreach.py:25): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, upper_futures, join_future, end_future)


if __name__ == "__main__":
    foreach_fixture_flow()
