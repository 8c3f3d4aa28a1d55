"""Prefect flow of OptionsDeployFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/options_deploy.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any, Optional

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="OptionsDeployFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "options_deploy.py",
        "--ir", "OptionsDeployFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="OptionsDeployFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.scoring.test.nightly.OptionsDeployFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (options_deploy.py:17)
# Foreach over self.batches, into score.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params, secrets=("db-credentials",))


# score (options_deploy.py:25)
# Goes to join.
# @retry(times=1): Prefect retries the task; each retry is the runtime's next attempt (options_deploy.py:23)
# @timeout: the runtime stops the step after 60 s; Prefect's timeout is the backstop (options_deploy.py:22)
# Runs in a container of its own (@kubernetes):
# deployment OptionsDeployFlow-step/scoring.test.nightly.score in prefect.yaml.
@task(
    name="score",
    task_run_name=RUNTIME.pathspec,
    retries=1,
    retry_delay_seconds=120,
    timeout_seconds=120,  # @timeout 60 s + 60 s
    cache_policy=NO_CACHE,
    persist_result=False,
)
def score(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("score", run_id, index, deployment="scoring.test.nightly.score")


# join (options_deploy.py:30)
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


# end (options_deploy.py:35)
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


# ---------------------------------------------------------------- a step in a container of its own


@flow(name="OptionsDeployFlow-step", flow_run_name="OptionsDeployFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="OptionsDeployFlow",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def options_deploy_flow(
    batch_size: int = 300,
) -> str:
    """The OptionsDeployFlow flow.

    Args:
        batch_size: rows per scoring task
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "batch-size": batch_size,
    }

    # start (options_deploy.py:17): foreach over self.batches, into score
    start_future = start.submit(run_id, "0", params)

    # wait for start: one score task per item of self.batches
    score_indices = foreach_indices(start_future, depth=0)

    # score (options_deploy.py:25): goes to join
    score_futures = score.map(unmapped(run_id), score_indices, wait_for=[start_future])

    # join (options_deploy.py:30): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[score_futures])

    # end (options_deploy.py:35): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, score_futures, join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the OptionsDeployFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--batch-size", dest="batch_size", metavar="INT", type=int,
                        help="rows per scoring task (default: 300)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    options_deploy_flow(**command_line())
