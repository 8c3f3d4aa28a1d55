"""Prefect flow of RecursiveSwitchFlow, compiled by flowc 0.1.0 from tests/flows/recursive_switch.py.

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
    flow="RecursiveSwitchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "recursive_switch.py",
        "--ir", "RecursiveSwitchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.RecursiveSwitchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (recursive_switch.py:10)
# Goes to loop.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# loop (recursive_switch.py:16)
# Switch on self.status ('again': loop, 'done': finish).
@task(
    name="loop",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def loop(run_id: str, index: str, iteration: int, after: Any = None) -> dict:
    return RUNTIME.run_step("loop", run_id, index, iteration=iteration)


# finish (recursive_switch.py:23)
# Goes to end.
@task(
    name="finish",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def finish_step(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("finish", run_id, index)


# end (recursive_switch.py:28)
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
    name="RecursiveSwitchFlow",
    description="A switch that loops back onto its own step until a condition holds.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def recursive_switch_flow(
    target: int = 3,
) -> str:
    """A switch that loops back onto its own step until a condition holds.

    Args:
        target: iterations to run
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "target": target,
    }

    # start (recursive_switch.py:10): goes to loop
    start_future = start.submit(run_id, "0", params)

    # loop (recursive_switch.py:16): switch on self.status ('again': loop, 'done': finish)
    loop_future = loop.submit(run_id, "0", 0, wait_for=[start_future])
    loop_iteration = 0
    while chosen(loop_future) == "loop":  # it chose itself: once more
        loop_iteration += 1
        loop_future = loop.submit(run_id, "0", loop_iteration, wait_for=[loop_future])

    # finish (recursive_switch.py:23): goes to end
    finish_future = finish_step.submit(run_id, "0", wait_for=[loop_future])

    # end (recursive_switch.py:28): the end step
    end_future = end.submit(run_id, "0", wait_for=[finish_future])

    return finish(run_id, start_future, loop_future, finish_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the RecursiveSwitchFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--target", dest="target", metavar="INT", type=int,
                        help="iterations to run (default: 3)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    recursive_switch_flow(**command_line())
