"""Prefect flow of ConfigFormatsFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/config_formats.py.

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
    flow="ConfigFormatsFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "config_formats.py",
        "--ir", "ConfigFormatsFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ConfigFormatsFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (config_formats.py:16)
# Goes to score.
# @retry(times=2): Prefect retries the task; each retry is the runtime's next attempt (config_formats.py:14)
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    retries=2,
    retry_delay_seconds=120,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# score (config_formats.py:23)
# Goes to end.
# @timeout: the runtime stops the step after 600 s; Prefect's timeout is the backstop (config_formats.py:21)
@task(
    name="score",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=660,  # @timeout 600 s + 60 s
    cache_policy=NO_CACHE,
    persist_result=False,
)
def score(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("score", run_id, index)


# end (config_formats.py:31)
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
    name="ConfigFormatsFlow",
    description="Score labels with settings from three configs.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def config_formats_flow() -> str:
    """Score labels with settings from three configs."""
    run_id = current_run_id()
    params = {}

    # start (config_formats.py:16): goes to score
    start_future = start.submit(run_id, "0", params)

    # score (config_formats.py:23): goes to end
    score_future = score.submit(run_id, "0", wait_for=[start_future])

    # end (config_formats.py:31): the end step
    end_future = end.submit(run_id, "0", wait_for=[score_future])

    return finish(run_id, start_future, score_future, end_future)


if __name__ == "__main__":
    config_formats_flow()
