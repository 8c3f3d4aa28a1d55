"""Prefect flow of GridSearchFlow, compiled by flowc 0.1.0 from examples/nested_foreach.py.

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
    flow="GridSearchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "nested_foreach.py",
        "--ir", "GridSearchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.GridSearchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (nested_foreach.py:10)
# Foreach over self.models, into per_model.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# per_model (nested_foreach.py:15)
# Foreach over self.folds, into score.
@task(
    name="per_model",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def per_model(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("per_model", run_id, index)


# score (nested_foreach.py:21)
# Goes to per_model_done.
@task(
    name="score",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def score(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("score", run_id, index)


# per_model_done (nested_foreach.py:28)
# Joins the items of per_model.
@task(
    name="per_model_done",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def per_model_done(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("per_model_done", run_id, index)


# pick (nested_foreach.py:35)
# Joins the items of start.
@task(
    name="pick",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def pick(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("pick", run_id, index)


# end (nested_foreach.py:42)
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
    name="GridSearchFlow",
    description="Score every (model, fold) pair, pick the best model.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def grid_search_flow() -> str:
    """Score every (model, fold) pair, pick the best model."""
    run_id = current_run_id()
    params = {}

    # start (nested_foreach.py:10): foreach over self.models, into per_model
    start_future = start.submit(run_id, "0", params)

    # wait for start: one per_model task per item of self.models
    per_model_indices = foreach_indices(start_future, depth=0)

    # per_model (nested_foreach.py:15): foreach over self.folds, into score
    per_model_futures = per_model.map(unmapped(run_id), per_model_indices, wait_for=[start_future])

    # wait for per_model: one score task per item of self.folds
    score_indices = foreach_indices(per_model_futures, depth=1)

    # score (nested_foreach.py:21): goes to per_model_done
    score_futures = score.map(unmapped(run_id), score_indices, wait_for=[per_model_futures])

    # per_model_done (nested_foreach.py:28): joins the items of per_model
    per_model_done_futures = per_model_done.map(unmapped(run_id), per_model_indices, wait_for=[score_futures])

    # pick (nested_foreach.py:35): joins the items of start
    pick_future = pick.submit(run_id, "0", wait_for=[per_model_done_futures])

    # end (nested_foreach.py:42): the end step
    end_future = end.submit(run_id, "0", wait_for=[pick_future])

    return finish(run_id, start_future, per_model_futures, score_futures, per_model_done_futures, pick_future, end_future)


if __name__ == "__main__":
    grid_search_flow()
