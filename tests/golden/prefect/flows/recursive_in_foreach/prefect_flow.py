"""Prefect flow of RecursiveInForeachFlow, compiled by flowc 0.1.0 from tests/flows/recursive_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, repeat_switch, took

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="RecursiveInForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "recursive_in_foreach.py",
        "--ir", "RecursiveInForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.RecursiveInForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (recursive_in_foreach.py:8)
# Foreach over self.goals, into setup.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# setup (recursive_in_foreach.py:13)
# Goes to climb.
@task(
    name="setup",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def setup(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("setup", run_id, index)


# climb (recursive_in_foreach.py:19)
# Switch on self.state ('more': climb, 'enough': report).
@task(
    name="climb",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def climb(run_id: str, index: str, iteration: int, after: Any = None) -> dict:
    return RUNTIME.run_step("climb", run_id, index, iteration=iteration)


# report (recursive_in_foreach.py:25)
# Goes to join.
@task(
    name="report",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def report(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("report", run_id, index)


# join (recursive_in_foreach.py:30)
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


# end (recursive_in_foreach.py:35)
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
    name="RecursiveInForeachFlow",
    description="A recursive switch inside a foreach: each item loops a different number of times.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def recursive_in_foreach_flow() -> str:
    """A recursive switch inside a foreach: each item loops a different number of times."""
    run_id = current_run_id()
    params = {}

    # start (recursive_in_foreach.py:8): foreach over self.goals, into setup
    start_future = start.submit(run_id, "0", params)

    # wait for start: one setup task per item of self.goals
    setup_indices = foreach_indices(start_future, depth=0)

    # setup (recursive_in_foreach.py:13): goes to climb
    setup_futures = setup.map(unmapped(run_id), setup_indices, wait_for=[start_future])

    # climb (recursive_in_foreach.py:19): switch on self.state ('more': climb, 'enough': report)
    climb_futures = climb.map(unmapped(run_id), setup_indices, 0, after=setup_futures)

    # each climb task that chose climb runs again, until none does
    climb_futures = repeat_switch(climb, "climb", run_id, climb_futures)

    # wait for climb: the items whose case leads to report
    report_indices = took(climb_futures, "report")

    # report (recursive_in_foreach.py:25): goes to join
    report_futures = report.map(unmapped(run_id), report_indices, wait_for=[climb_futures])

    # join (recursive_in_foreach.py:30): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[report_futures])

    # end (recursive_in_foreach.py:35): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, setup_futures, climb_futures, report_futures, join_future, end_future)


if __name__ == "__main__":
    recursive_in_foreach_flow()
