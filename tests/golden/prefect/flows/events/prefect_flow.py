"""Prefect flow of EventsFlow, compiled by flowc 0.1.0 from tests/flows/events.py.

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
    flow="EventsFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "events.py",
        "--ir", "EventsFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.forecasting.test.nightly.EventsFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (events.py:16)
# Goes to end.
# the events that started the run reach the runtime as --trigger (current.trigger)
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, trigger: Optional[list] = None, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params, secrets=("db-credentials", "api-token"), trigger=trigger)


# end (events.py:24)
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
    name="EventsFlow",
    description="Scheduled daily, triggered by an event, namespaced by a project; reads a secret.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def events_flow(
    region: str = "eu",
    max_rows: int = 100,
    class_: str = "gold",
    flowc_trigger: Optional[list] = None,  # the events that started the run (prefect.yaml's triggers)
) -> str:
    """Scheduled daily, triggered by an event, namespaced by a project; reads a secret.

    Args:
        region: where the data lives
        max_rows: a name that is not a Python identifier
        class_: a name that is a Python keyword
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "region": region,
        "max-rows": max_rows,
        "class": class_,
    }

    # start (events.py:16): goes to end
    start_future = start.submit(run_id, "0", params, flowc_trigger)

    # end (events.py:24): the end step
    end_future = end.submit(run_id, "0", wait_for=[start_future])

    return finish(run_id, start_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the EventsFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--region", dest="region", metavar="STR", type=str,
                        help="where the data lives (default: \"eu\")")
    parser.add_argument("--max-rows", dest="max_rows", metavar="INT", type=int,
                        help="a name that is not a Python identifier (default: 100)")
    parser.add_argument("--class", dest="class_", metavar="STR", type=str,
                        help="a name that is a Python keyword (default: \"gold\")")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    events_flow(**command_line())
