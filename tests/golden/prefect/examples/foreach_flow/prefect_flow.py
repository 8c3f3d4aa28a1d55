"""Prefect flow of ForeachFlow, compiled by flowc 0.1.0 from examples/foreach_flow.py.

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
    flow="ForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "foreach_flow.py",
        "--ir", "ForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (foreach_flow.py:12)
# Foreach over self.numbers, into square.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# square (foreach_flow.py:17)
# Goes to gather.
@task(
    name="square",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def square(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("square", run_id, index)


# gather (foreach_flow.py:22)
# Joins the items of start.
@task(
    name="gather",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def gather(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("gather", run_id, index)


# end (foreach_flow.py:28)
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
    name="ForeachFlow",
    description="Square each number in parallel and sum the squares.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def foreach_flow(
    count: int = 5,
) -> str:
    """Square each number in parallel and sum the squares.

    Args:
        count: how many numbers
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "count": count,
    }

    # start (foreach_flow.py:12): foreach over self.numbers, into square
    start_future = start.submit(run_id, "0", params)

    # wait for start: one square task per item of self.numbers
    square_indices = foreach_indices(start_future, depth=0)

    # square (foreach_flow.py:17): goes to gather
    square_futures = square.map(unmapped(run_id), square_indices, wait_for=[start_future])

    # gather (foreach_flow.py:22): joins the items of start
    gather_future = gather.submit(run_id, "0", wait_for=[square_futures])

    # end (foreach_flow.py:28): the end step
    end_future = end.submit(run_id, "0", wait_for=[gather_future])

    return finish(run_id, start_future, square_futures, gather_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the ForeachFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--count", dest="count", metavar="INT", type=int,
                        help="how many numbers (default: 5)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    foreach_flow(**command_line())
