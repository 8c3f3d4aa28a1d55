"""Prefect flow of BasesAbsoluteFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/bases_absolute.py.

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
    flow="BasesAbsoluteFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "bases_absolute.py",
        "--ir", "BasesAbsoluteFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BasesAbsoluteFlow.end",  # what a successful run publishes (as a Prefect event)
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


# process (bases_absolute.py:17)
# Goes to features.
@task(
    name="process",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def process(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("process", run_id, index)


# features (common/mixins.py:14)
# Goes to end.
@task(
    name="features",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def features(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("features", run_id, index)


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
    name="BasesAbsoluteFlow",
    description="Base flow + feature mixin; process overridden to add an offset.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def bases_absolute_flow(
    offset: int = 10,
    alpha: int = 2,
    label: str = "run",
    n_features: int = 3,
) -> str:
    """Base flow + feature mixin; process overridden to add an offset.

    Args:
        offset: added to the base's result
        alpha: multiplier applied by process
        label: prefix of the summary
        n_features: how many features to build
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "offset": offset,
        "alpha": alpha,
        "label": label,
        "n_features": n_features,
    }

    # start (common/base.py:21): goes to process
    start_future = start.submit(run_id, "0", params)

    # process (bases_absolute.py:17): goes to features
    process_future = process.submit(run_id, "0", wait_for=[start_future])

    # features (common/mixins.py:14): goes to end
    features_future = features.submit(run_id, "0", wait_for=[process_future])

    # end (common/base.py:31): the end step
    end_future = end.submit(run_id, "0", wait_for=[features_future])

    return finish(run_id, start_future, process_future, features_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the BasesAbsoluteFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--offset", dest="offset", metavar="INT", type=int,
                        help="added to the base's result (default: 10)")
    parser.add_argument("--alpha", dest="alpha", metavar="INT", type=int,
                        help="multiplier applied by process (default: 2)")
    parser.add_argument("--label", dest="label", metavar="STR", type=str,
                        help="prefix of the summary (default: \"run\")")
    parser.add_argument("--n_features", dest="n_features", metavar="INT", type=int,
                        help="how many features to build (default: 3)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    bases_absolute_flow(**command_line())
