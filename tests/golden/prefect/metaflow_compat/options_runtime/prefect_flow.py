"""Prefect flow of OptionsRuntimeFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/options_runtime.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any, Optional

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="OptionsRuntimeFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "options_runtime.py",
        "--ir", "OptionsRuntimeFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.OptionsRuntimeFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (options_runtime.py:22)
# Branches to flaky, score, report.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# flaky (options_runtime.py:30)
# Goes to join.
# @retry(times=2): Prefect retries the task; each retry is the runtime's next attempt (options_runtime.py:28)
@task(
    name="flaky",
    task_run_name=RUNTIME.pathspec,
    retries=2,
    retry_delay_seconds=0,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def flaky(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("flaky", run_id, index)


# score (options_runtime.py:42)
# Goes to join.
# @timeout: the runtime stops the step after 120 s; Prefect's timeout is the backstop (options_runtime.py:40)
@task(
    name="score",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=180,  # @timeout 120 s + 60 s
    cache_policy=NO_CACHE,
    persist_result=False,
)
def score(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("score", run_id, index)


# report (options_runtime.py:53)
# Goes to join.
# @catch: on the last attempt the runtime stores the failure in self.report_error and the flow goes on (options_runtime.py:51)
@task(
    name="report",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def report(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("report", run_id, index)


# join (options_runtime.py:59)
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


# end (options_runtime.py:69)
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
    name="OptionsRuntimeFlow",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def options_runtime_flow(
    regions: str = "eu,us",
    verbose: bool = False,
    dry: Optional[bool] = None,
    alpha: float = 0.5,
) -> str:
    """The OptionsRuntimeFlow flow.

    Args:
        regions: regions to score, comma-separated
        verbose: print every score
        dry: score nothing
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "regions": regions,
        "verbose": verbose,
        "dry": dry,
        "alpha": alpha,
    }

    # start (options_runtime.py:22): branches to flaky, score, report
    start_future = start.submit(run_id, "0", params)

    # flaky (options_runtime.py:30): goes to join
    flaky_future = flaky.submit(run_id, "0", wait_for=[start_future])

    # score (options_runtime.py:42): goes to join
    score_future = score.submit(run_id, "0", wait_for=[start_future])

    # report (options_runtime.py:53): goes to join
    report_future = report.submit(run_id, "0", wait_for=[start_future])

    # join (options_runtime.py:59): joins the branches of start
    join_future = join.submit(run_id, "0", wait_for=[flaky_future, score_future, report_future])

    # end (options_runtime.py:69): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, flaky_future, score_future, report_future, join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    def flag(text: str) -> bool:
        word = text.strip().lower()
        if word not in ("true", "1", "yes", "y", "on", "false", "0", "no", "n", "off"):
            raise ValueError(text)
        return word in ("true", "1", "yes", "y", "on")

    flag.__name__ = "true or false"  # argparse names the type in its errors

    parser = argparse.ArgumentParser(
        description="Run the OptionsRuntimeFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--regions", dest="regions", metavar="STR", type=str,
                        help="regions to score, comma-separated (default: \"eu,us\")")
    parser.add_argument("--verbose", dest="verbose", metavar="BOOL", type=flag, nargs="?", const=True,
                        help="print every score (default: False)")
    parser.add_argument("--dry", dest="dry", metavar="BOOL", type=flag, nargs="?", const=True,
                        help="score nothing (default: None)")
    parser.add_argument("--alpha", dest="alpha", metavar="FLOAT", type=float,
                        help="(default: 0.5)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    options_runtime_flow(**command_line())
