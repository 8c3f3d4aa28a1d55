"""Prefect flow of RecSysFlow, compiled by flowc 0.1.0 from examples/recsys.py.

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
    flow="RecSysFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "recsys.py",
        "--ir", "RecSysFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    # the steps' own environments (@pypi / @conda): in its own container a step finds
    # its environment in the image; run anywhere else, the runtime builds it
    environments={
        "fit_a": {"id": "715288879e47", "image": None, "manager": "pypi", "packages": {"tabulate": "0.8.10"}, "python": "3.11"},
        "fit_b": {"id": "846f64c914d8", "image": None, "manager": "pypi", "packages": {"tabulate": "0.9.0"}, "python": None},
    },
    step_flow="RecSysFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.RecSysFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (recsys.py:44): Load the ratings both models train on.
# Branches to fit_a, fit_b.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    description="Load the ratings both models train on.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# fit_a (recsys.py:51): Model A: item popularity (mean rating per item), with old pins.
# Goes to ensemble.
# @pypi: environment 715288879e47, in its image recsysflow:715288879e47
# Runs in a container of its own (its @pypi environment's image recsysflow:715288879e47):
# deployment RecSysFlow-step/fit_a in prefect.yaml.
@task(
    name="fit_a",
    task_run_name=RUNTIME.pathspec,
    description="Model A: item popularity (mean rating per item), with old pins.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fit_a(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fit_a", run_id, index, deployment="fit_a")


# fit_b (recsys.py:64): Model B: item scores corrected for each user's bias, on GPUs, with newer pins.
# Goes to ensemble.
# @pypi: environment 846f64c914d8, in its image recsysflow:846f64c914d8
# Runs in a container of its own (its @pypi environment's image recsysflow:846f64c914d8; 2 GPUs; memory 16000 MiB > the flow pod's 4096 MiB):
# deployment RecSysFlow-step/fit_b in prefect.yaml.
@task(
    name="fit_b",
    task_run_name=RUNTIME.pathspec,
    description="Model B: item scores corrected for each user's bias, on GPUs, with newer pins.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fit_b(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fit_b", run_id, index, deployment="fit_b")


# ensemble (recsys.py:79): Blend the two models' scores item by item.
# Joins the branches of start.
@task(
    name="ensemble",
    task_run_name=RUNTIME.pathspec,
    description="Blend the two models' scores item by item.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def ensemble(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("ensemble", run_id, index)


# end (recsys.py:86): Report the top items.
# The end step.
@task(
    name="end",
    task_run_name=RUNTIME.pathspec,
    description="Report the top items.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def end(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("end", run_id, index)


# ---------------------------------------------------------------- a step in a container of its own


@flow(name="RecSysFlow-step", flow_run_name="RecSysFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="RecSysFlow",
    description="Train two recommenders in parallel and blend them.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def rec_sys_flow(
    alpha: float = 0.5,
    seed: int = 7,
) -> str:
    """Train two recommenders in parallel and blend them.

    Args:
        alpha: weight of model A in the blend
        seed: seed of the synthetic ratings
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "alpha": alpha,
        "seed": seed,
    }

    # start (recsys.py:44): branches to fit_a, fit_b
    start_future = start.submit(run_id, "0", params)

    # fit_a (recsys.py:51): goes to ensemble
    fit_a_future = fit_a.submit(run_id, "0", wait_for=[start_future])

    # fit_b (recsys.py:64): goes to ensemble
    fit_b_future = fit_b.submit(run_id, "0", wait_for=[start_future])

    # ensemble (recsys.py:79): joins the branches of start
    ensemble_future = ensemble.submit(run_id, "0", wait_for=[fit_a_future, fit_b_future])

    # end (recsys.py:86): the end step
    end_future = end.submit(run_id, "0", wait_for=[ensemble_future])

    return finish(run_id, start_future, fit_a_future, fit_b_future, ensemble_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the RecSysFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--alpha", dest="alpha", metavar="FLOAT", type=float,
                        help="weight of model A in the blend (default: 0.5)")
    parser.add_argument("--seed", dest="seed", metavar="INT", type=int,
                        help="seed of the synthetic ratings (default: 7)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    rec_sys_flow(**command_line())
