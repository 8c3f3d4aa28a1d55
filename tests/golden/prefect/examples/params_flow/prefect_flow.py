"""Prefect flow of ParamsFlow, compiled by flowc 0.1.0 from examples/params_flow.py.

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
    flow="ParamsFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "params_flow.py",
        "--ir", "ParamsFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.ParamsFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (params_flow.py:16)
# Goes to compose.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# compose (params_flow.py:21)
# Goes to finish.
@task(
    name="compose",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def compose(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("compose", run_id, index)


# finish (params_flow.py:27)
# Goes to end.
@task(
    name="finish",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def finish_step(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("finish", run_id, index)


# end (params_flow.py:33)
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
    name="ParamsFlow",
    description="Build a greeting from typed parameters, one step at a time.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def params_flow(
    greeting: str = "hello",
    times: int = 2,
    scale: float = 1.5,
    shout: bool = False,
    config: Any = {"names": ["ada", "grace"]},
) -> str:
    """Build a greeting from typed parameters, one step at a time.

    Args:
        greeting: the word to start with
        times: how many times to repeat it
        scale: a float multiplier
        shout: upper-case the result
        config: who to greet
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "greeting": greeting,
        "times": times,
        "scale": scale,
        "shout": shout,
        "config": json_text(config),
    }

    # start (params_flow.py:16): goes to compose
    start_future = start.submit(run_id, "0", params)

    # compose (params_flow.py:21): goes to finish
    compose_future = compose.submit(run_id, "0", wait_for=[start_future])

    # finish (params_flow.py:27): goes to end
    finish_future = finish_step.submit(run_id, "0", wait_for=[compose_future])

    # end (params_flow.py:33): the end step
    end_future = end.submit(run_id, "0", wait_for=[finish_future])

    return finish(run_id, start_future, compose_future, finish_future, end_future)


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
        description="Run the ParamsFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--greeting", dest="greeting", metavar="STR", type=str,
                        help="the word to start with (default: \"hello\")")
    parser.add_argument("--times", dest="times", metavar="INT", type=int,
                        help="how many times to repeat it (default: 2)")
    parser.add_argument("--scale", dest="scale", metavar="FLOAT", type=float,
                        help="a float multiplier (default: 1.5)")
    parser.add_argument("--shout", dest="shout", metavar="BOOL", type=flag,
                        help="upper-case the result (default: False)")
    parser.add_argument("--config", dest="config", metavar="JSON", type=json_value,
                        help="who to greet (default: {\"names\": [\"ada\", \"grace\"]})")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    params_flow(**command_line())
