"""Prefect flow of HostileFlow, compiled by flowc 0.1.0 from tests/flows/hostile.py.

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
    flow="HostileFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "hostile.py",
        "--ir", "HostileFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.HostileFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (hostile.py:15): Step docstring with """ and {{ }} and ${X}.
# Goes to end.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    description="Step docstring with \"\"\" and {{ }} and ${X}.",
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# end (hostile.py:21)
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
    name="HostileFlow",
    description="Docstring with \"quotes\", 'single', \\backslash, {{ argo }}, ${ shell }, $.path,\na ''' triple and unicode: ünïcödé ✓ — and a second line.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def hostile_flow(
    quote: str = "say \"hi\" and 'bye'",
    template: str = "{{workflow.name}} ${HOME} $.x {% raw %}",
    backslash: str = "C:\\temp\\new",
    unicode_text: str = "ünïcödé ✓ 日本",
    payload: Any = {"k": "v\"q", "list": ["{{x}}", "$."]},
) -> str:
    """Docstring with \"quotes\", 'single', \\backslash, {{ argo }}, ${ shell }, $.path,
    a ''' triple and unicode: ünïcödé ✓ — and a second line.

    Args:
        quote: help with \"quotes\" and {{ braces }}
        template: ${ injection }
            newline
        backslash: back\\slash $(rm -rf /) `uname`
        unicode_text: ユニコード
        payload: json
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "quote": quote,
        "template": template,
        "backslash": backslash,
        "unicode_text": unicode_text,
        "payload": json_text(payload),
    }

    # start (hostile.py:15): goes to end
    start_future = start.submit(run_id, "0", params)

    # end (hostile.py:21): the end step
    end_future = end.submit(run_id, "0", wait_for=[start_future])

    return finish(run_id, start_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse
    import json

    def json_value(text: str) -> Any:
        return json.loads(text)

    json_value.__name__ = "JSON"

    parser = argparse.ArgumentParser(
        description="Run the HostileFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--quote", dest="quote", metavar="STR", type=str,
                        help="help with \"quotes\" and {{ braces }} (default: \"say \\\"hi\\\" and 'bye'\")")
    parser.add_argument("--template", dest="template", metavar="STR", type=str,
                        help="${ injection }\nnewline (default: \"{{workflow.name}} ${HOME} $.x {%% raw %%}\")")
    parser.add_argument("--backslash", dest="backslash", metavar="STR", type=str,
                        help="back\\slash $(rm -rf /) `uname` (default: \"C:\\\\temp\\\\new\")")
    parser.add_argument("--unicode_text", dest="unicode_text", metavar="STR", type=str,
                        help="ユニコード (default: \"ünïcödé ✓ 日本\")")
    parser.add_argument("--payload", dest="payload", metavar="JSON", type=json_value,
                        help="json (default: {\"k\": \"v\\\"q\", \"list\": [\"{{x}}\", \"$.\"]})")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    hostile_flow(**command_line())
