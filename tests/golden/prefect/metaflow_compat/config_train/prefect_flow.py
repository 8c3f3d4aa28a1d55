"""Prefect flow of ConfigTrainFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/config_train.py.

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
    flow="ConfigTrainFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "config_train.py",
        "--ir", "ConfigTrainFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="ConfigTrainFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.config_demo.user.flowc.ConfigTrainFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (config_train.py:15)
# Foreach over self.folds, into train.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# train (config_train.py:24)
# Goes to join.
# Runs in a container of its own (CPUs 2 > the flow pod's 1):
# deployment ConfigTrainFlow-step/config_demo.user.flowc.train in prefect.yaml.
@task(
    name="train",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def train(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("train", run_id, index, deployment="config_demo.user.flowc.train")


# join (config_train.py:31)
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


# end (config_train.py:38)
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


@flow(name="ConfigTrainFlow-step", flow_run_name="ConfigTrainFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="ConfigTrainFlow",
    description="Train one small model per fold, with every setting from configs/train.json.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def config_train_flow(
    lr: float = 0.01,
) -> str:
    """Train one small model per fold, with every setting from configs/train.json.

    Args:
        lr: learning rate (default from the config)
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "lr": lr,
    }

    # start (config_train.py:15): foreach over self.folds, into train
    start_future = start.submit(run_id, "0", params)

    # wait for start: one train task per item of self.folds
    train_indices = foreach_indices(start_future, depth=0)

    # train (config_train.py:24): goes to join
    train_futures = train.map(unmapped(run_id), train_indices, wait_for=[start_future])

    # join (config_train.py:31): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[train_futures])

    # end (config_train.py:38): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, train_futures, join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the ConfigTrainFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--lr", dest="lr", metavar="FLOAT", type=float,
                        help="learning rate (default from the config) (default: 0.01)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    config_train_flow(**command_line())
