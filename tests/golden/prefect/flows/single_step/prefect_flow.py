"""Prefect flow of SingleStepFlow, compiled by flowc 0.1.0 from tests/flows/single_step.py.

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
    flow="SingleStepFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "single_step.py",
        "--ir", "SingleStepFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SingleStepFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# only (single_step.py:8)
# The end step.
@task(
    name="only",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def only(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("only", run_id, index, params=params)


# ---------------------------------------------------------------- the flow


@flow(
    name="SingleStepFlow",
    description="A flow of one step, which is both its start and its end.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def single_step_flow() -> str:
    """A flow of one step, which is both its start and its end."""
    run_id = current_run_id()
    params = {}

    # only (single_step.py:8): the end step
    only_future = only.submit(run_id, "0", params)

    return finish(run_id, only_future)


if __name__ == "__main__":
    single_step_flow()
