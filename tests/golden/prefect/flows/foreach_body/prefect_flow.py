"""Prefect flow of ForeachBodyFlow, compiled by flowc 0.1.0 from tests/flows/foreach_body.py.

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
    flow="ForeachBodyFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "foreach_body.py",
        "--ir", "ForeachBodyFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ForeachBodyFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (foreach_body.py:8)
# Foreach over self.seeds, into prepare.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# prepare (foreach_body.py:13)
# Goes to train.
@task(
    name="prepare",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def prepare(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("prepare", run_id, index)


# train (foreach_body.py:19)
# Goes to evaluate.
@task(
    name="train",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def train(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("train", run_id, index)


# evaluate (foreach_body.py:24)
# Goes to join.
@task(
    name="evaluate",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def evaluate(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("evaluate", run_id, index)


# join (foreach_body.py:30)
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


# end (foreach_body.py:36)
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
    name="ForeachBodyFlow",
    description="A foreach whose body is three steps long.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def foreach_body_flow() -> str:
    """A foreach whose body is three steps long."""
    run_id = current_run_id()
    params = {}

    # start (foreach_body.py:8): foreach over self.seeds, into prepare
    start_future = start.submit(run_id, "0", params)

    # wait for start: one prepare task per item of self.seeds
    prepare_indices = foreach_indices(start_future, depth=0)

    # prepare (foreach_body.py:13): goes to train
    prepare_futures = prepare.map(unmapped(run_id), prepare_indices, wait_for=[start_future])

    # train (foreach_body.py:19): goes to evaluate
    train_futures = train.map(unmapped(run_id), prepare_indices, after=prepare_futures)

    # evaluate (foreach_body.py:24): goes to join
    evaluate_futures = evaluate.map(unmapped(run_id), prepare_indices, after=train_futures)

    # join (foreach_body.py:30): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[evaluate_futures])

    # end (foreach_body.py:36): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, prepare_futures, train_futures, evaluate_futures, join_future, end_future)


if __name__ == "__main__":
    foreach_body_flow()
