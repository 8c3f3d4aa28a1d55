"""Prefect flow of SwitchFlow, compiled by flowc 0.1.0 from examples/switch_flow.py.

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
    flow="SwitchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch_flow.py",
        "--ir", "SwitchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SwitchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (switch_flow.py:12)
# Switch on self.mode ('full': full_retrain, 'incremental': incremental).
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# full_retrain (switch_flow.py:17)
# Goes to publish.
@task(
    name="full_retrain",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def full_retrain(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("full_retrain", run_id, index)


# incremental (switch_flow.py:22)
# Goes to publish.
@task(
    name="incremental",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def incremental(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("incremental", run_id, index)


# publish (switch_flow.py:27)
# Goes to end.
@task(
    name="publish",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def publish(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("publish", run_id, index)


# end (switch_flow.py:32)
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
    name="SwitchFlow",
    description="Route a dataset to a full or an incremental retrain by its size.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def switch_flow(
    rows: int = 1200,
) -> str:
    """Route a dataset to a full or an incremental retrain by its size.

    Args:
        rows: rows in today's data
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "rows": rows,
    }

    # start (switch_flow.py:12): switch on self.mode ('full': full_retrain, 'incremental': incremental)
    start_future = start.submit(run_id, "0", params)

    # wait for start: the case it chose decides what runs next
    start_case = chosen(start_future)

    # full_retrain (switch_flow.py:17): goes to publish
    full_retrain_future = None
    if start_case == "full_retrain":
        full_retrain_future = full_retrain.submit(run_id, "0", wait_for=[start_future])

    # incremental (switch_flow.py:22): goes to publish
    incremental_future = None
    if start_case == "incremental":
        incremental_future = incremental.submit(run_id, "0", wait_for=[start_future])

    # publish (switch_flow.py:27): goes to end
    publish_future = publish.submit(run_id, "0", wait_for=[full_retrain_future, incremental_future])

    # end (switch_flow.py:32): the end step
    end_future = end.submit(run_id, "0", wait_for=[publish_future])

    return finish(run_id, start_future, full_retrain_future, incremental_future, publish_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the SwitchFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--rows", dest="rows", metavar="INT", type=int,
                        help="rows in today's data (default: 1200)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    switch_flow(**command_line())
