"""Prefect flow of CardsFlow, compiled by flowc 0.1.0 from tests/flows/cards.py.

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
    flow="CardsFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "cards.py",
        "--ir", "CardsFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.CardsFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (cards.py:20)
# Foreach over self.items, into square.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# square (cards.py:37)
# Goes to join.
@task(
    name="square",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def square(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("square", run_id, index)


# join (cards.py:44)
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


# fragile (cards.py:51)
# Goes to end.
# @catch: on the last attempt the runtime stores the failure in self.failure and the flow goes on (cards.py:49)
@task(
    name="fragile",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fragile(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fragile", run_id, index)


# end (cards.py:58)
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
    name="CardsFlow",
    description="A report of every kind of card.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def cards_flow(
    n: int = 3,
) -> str:
    """A report of every kind of card.

    Args:
        n: how many items
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "n": n,
    }

    # start (cards.py:20): foreach over self.items, into square
    start_future = start.submit(run_id, "0", params)

    # wait for start: one square task per item of self.items
    square_indices = foreach_indices(start_future, depth=0)

    # square (cards.py:37): goes to join
    square_futures = square.map(unmapped(run_id), square_indices, wait_for=[start_future])

    # join (cards.py:44): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[square_futures])

    # fragile (cards.py:51): goes to end
    fragile_future = fragile.submit(run_id, "0", wait_for=[join_future])

    # end (cards.py:58): the end step
    end_future = end.submit(run_id, "0", wait_for=[fragile_future])

    return finish(run_id, start_future, square_futures, join_future, fragile_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the CardsFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--n", dest="n", metavar="INT", type=int,
                        help="how many items (default: 3)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    cards_flow(**command_line())
