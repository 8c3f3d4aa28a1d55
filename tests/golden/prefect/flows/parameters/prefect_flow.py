"""Prefect flow of ParametersFlow, compiled by flowc 0.1.0 from tests/flows/parameters.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, json_text

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="ParametersFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "parameters.py",
        "--ir", "ParametersFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ParametersFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (parameters.py:16)
# Goes to end.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# end (parameters.py:30)
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
    name="ParametersFlow",
    description="One parameter of every type, with defaults.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def parameters_flow(
    text: str = "hello",
    count: int = 3,
    ratio: float = 0.25,
    flag: bool = True,
    options: Any = {"depth": 2, "tags": ["a", "b"]},
    weights: Any = [0.5, 0.5],
    lr: float = 0.01,
) -> str:
    """One parameter of every type, with defaults.

    Args:
        text: a string
        count: an int
        ratio: a float
        flag: a bool
        options: a JSON object
        weights: a JSON list
        lr: attribute and name differ
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "text": text,
        "count": count,
        "ratio": ratio,
        "flag": flag,
        "options": json_text(options),
        "weights": json_text(weights),
        "lr": lr,
    }

    # start (parameters.py:16): goes to end
    start_future = start.submit(run_id, "0", params)

    # end (parameters.py:30): the end step
    end_future = end.submit(run_id, "0", wait_for=[start_future])

    return finish(run_id, start_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse
    import json

    def flag(text: str) -> bool:
        word = text.strip().lower()
        if word not in ("true", "1", "yes", "y", "on", "false", "0", "no", "n", "off"):
            raise ValueError(text)
        return word in ("true", "1", "yes", "y", "on")

    flag.__name__ = "true or false"  # argparse names the type in its errors

    def json_value(text: str) -> Any:
        return json.loads(text)

    json_value.__name__ = "JSON"

    parser = argparse.ArgumentParser(
        description="Run the ParametersFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--text", dest="text", metavar="STR", type=str,
                        help="a string (default: \"hello\")")
    parser.add_argument("--count", dest="count", metavar="INT", type=int,
                        help="an int (default: 3)")
    parser.add_argument("--ratio", dest="ratio", metavar="FLOAT", type=float,
                        help="a float (default: 0.25)")
    parser.add_argument("--flag", dest="flag", metavar="BOOL", type=flag,
                        help="a bool (default: True)")
    parser.add_argument("--options", dest="options", metavar="JSON", type=json_value,
                        help="a JSON object (default: {\"depth\": 2, \"tags\": [\"a\", \"b\"]})")
    parser.add_argument("--weights", dest="weights", metavar="JSON", type=json_value,
                        help="a JSON list (default: [0.5, 0.5])")
    parser.add_argument("--lr", dest="lr", metavar="FLOAT", type=float,
                        help="attribute and name differ (default: 0.01)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    parameters_flow(**command_line())
