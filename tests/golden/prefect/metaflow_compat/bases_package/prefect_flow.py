"""Prefect flow of BasesPackageFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/bases_package.py.

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
    flow="BasesPackageFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "bases_package.py",
        "--ir", "BasesPackageFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BasesPackageFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (common/base.py:21)
# Goes to process.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# process (bases_package.py:13)
# Goes to fan_out.
@task(
    name="process",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def process(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("process", run_id, index)


# fan_out (common/mixins.py:25)
# Foreach over self.items, into square.
@task(
    name="fan_out",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fan_out(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fan_out", run_id, index)


# square (common/mixins.py:30)
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


# gather (common/mixins.py:35)
# Joins the items of fan_out.
@task(
    name="gather",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def gather(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("gather", run_id, index)


# end (common/base.py:31)
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
    name="BasesPackageFlow",
    description="Base flow + fan-out mixin; process overridden to go to the foreach.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def bases_package_flow(
    alpha: int = 2,
    label: str = "run",
    width: int = 3,
) -> str:
    """Base flow + fan-out mixin; process overridden to go to the foreach.

    Args:
        alpha: multiplier applied by process
        label: prefix of the summary
        width: how many items to fan out over
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "alpha": alpha,
        "label": label,
        "width": width,
    }

    # start (common/base.py:21): goes to process
    start_future = start.submit(run_id, "0", params)

    # process (bases_package.py:13): goes to fan_out
    process_future = process.submit(run_id, "0", wait_for=[start_future])

    # fan_out (common/mixins.py:25): foreach over self.items, into square
    fan_out_future = fan_out.submit(run_id, "0", wait_for=[process_future])

    # wait for fan_out: one square task per item of self.items
    square_indices = foreach_indices(fan_out_future, depth=0)

    # square (common/mixins.py:30): goes to gather
    square_futures = square.map(unmapped(run_id), square_indices, wait_for=[fan_out_future])

    # gather (common/mixins.py:35): joins the items of fan_out
    gather_future = gather.submit(run_id, "0", wait_for=[square_futures])

    # end (common/base.py:31): the end step
    end_future = end.submit(run_id, "0", wait_for=[gather_future])

    return finish(run_id, start_future, process_future, fan_out_future, square_futures, gather_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the BasesPackageFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--alpha", dest="alpha", metavar="INT", type=int,
                        help="multiplier applied by process (default: 2)")
    parser.add_argument("--label", dest="label", metavar="STR", type=str,
                        help="prefix of the summary (default: \"run\")")
    parser.add_argument("--width", dest="width", metavar="INT", type=int,
                        help="how many items to fan out over (default: 3)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    bases_package_flow(**command_line())
