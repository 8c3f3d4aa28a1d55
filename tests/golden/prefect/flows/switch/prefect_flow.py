"""Prefect flow of SwitchFixtureFlow, compiled by flowc 0.1.0 from tests/flows/switch.py.

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
    flow="SwitchFixtureFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch.py",
        "--ir", "SwitchFixtureFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SwitchFixtureFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (switch.py:10)
# Switch on self.route ('big': big, 'medium': medium, 'small': small).
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# big (switch.py:20)
# Goes to merge.
@task(
    name="big",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def big(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("big", run_id, index)


# medium (switch.py:25)
# Goes to merge.
@task(
    name="medium",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def medium(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("medium", run_id, index)


# small (switch.py:30)
# Goes to merge.
@task(
    name="small",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def small(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("small", run_id, index)


# merge (switch.py:35)
# Goes to end.
@task(
    name="merge",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def merge(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("merge", run_id, index)


# end (switch.py:40)
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
    name="SwitchFixtureFlow",
    description="A three-way switch whose cases meet again.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def switch_fixture_flow(
    size: int = 50,
) -> str:
    """A three-way switch whose cases meet again.

    Args:
        size: decides the route
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "size": size,
    }

    # start (switch.py:10): switch on self.route ('big': big, 'medium': medium, 'small': small)
    start_future = start.submit(run_id, "0", params)

    # wait for start: the case it chose decides what runs next
    start_case = chosen(start_future)

    # big (switch.py:20): goes to merge
    big_future = None
    if start_case == "big":
        big_future = big.submit(run_id, "0", wait_for=[start_future])

    # medium (switch.py:25): goes to merge
    medium_future = None
    if start_case == "medium":
        medium_future = medium.submit(run_id, "0", wait_for=[start_future])

    # small (switch.py:30): goes to merge
    small_future = None
    if start_case == "small":
        small_future = small.submit(run_id, "0", wait_for=[start_future])

    # merge (switch.py:35): goes to end
    merge_future = merge.submit(run_id, "0", wait_for=[big_future, medium_future, small_future])

    # end (switch.py:40): the end step
    end_future = end.submit(run_id, "0", wait_for=[merge_future])

    return finish(run_id, start_future, big_future, medium_future, small_future, merge_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the SwitchFixtureFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--size", dest="size", metavar="INT", type=int,
                        help="decides the route (default: 50)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    switch_fixture_flow(**command_line())
