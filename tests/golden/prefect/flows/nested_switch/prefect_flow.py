"""Prefect flow of NestedSwitchFlow, compiled by flowc 0.1.0 from tests/flows/nested_switch.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, chosen, current_run_id, finish, foreach_indices

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="NestedSwitchFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "nested_switch.py",
        "--ir", "NestedSwitchFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.NestedSwitchFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (nested_switch.py:12)
# Switch on self.route ('shallow': shallow, 'deep': deep).
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# shallow (nested_switch.py:17)
# Foreach over self.items, into fan.
@task(
    name="shallow",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def shallow(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("shallow", run_id, index)


# fan (nested_switch.py:22)
# Goes to fan_join.
@task(
    name="fan",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fan(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fan", run_id, index)


# fan_join (nested_switch.py:27)
# Joins the items of shallow.
@task(
    name="fan_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fan_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fan_join", run_id, index)


# deep (nested_switch.py:32)
# Switch on self.level ('one': one, 'two': two_a).
@task(
    name="deep",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def deep(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("deep", run_id, index)


# one (nested_switch.py:37)
# Goes to deep_merge.
@task(
    name="one",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def one(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("one", run_id, index)


# two_a (nested_switch.py:42)
# Goes to two_b.
@task(
    name="two_a",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def two_a(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("two_a", run_id, index)


# two_b (nested_switch.py:47)
# Goes to deep_merge.
@task(
    name="two_b",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def two_b(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("two_b", run_id, index)


# deep_merge (nested_switch.py:52)
# Goes to merge.
@task(
    name="deep_merge",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def deep_merge(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("deep_merge", run_id, index)


# merge (nested_switch.py:57)
# Goes to end.
@task(
    name="merge",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def merge(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("merge", run_id, index)


# end (nested_switch.py:62)
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
    name="NestedSwitchFlow",
    description="A switch on one case of another switch, a case with two steps, and a\nforeach that only one case runs.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def nested_switch_flow(
    mode: str = "deep",
    depth: int = 2,
) -> str:
    """A switch on one case of another switch, a case with two steps, and a
    foreach that only one case runs.

    Args:
        mode: shallow or deep
        depth: 1 or 2
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "mode": mode,
        "depth": depth,
    }

    # start (nested_switch.py:12): switch on self.route ('shallow': shallow, 'deep': deep)
    start_future = start.submit(run_id, "0", params)

    # wait for start: the case it chose decides what runs next
    start_case = chosen(start_future)

    # shallow (nested_switch.py:17): foreach over self.items, into fan
    shallow_future = None
    if start_case == "shallow":
        shallow_future = shallow.submit(run_id, "0", wait_for=[start_future])

    # deep (nested_switch.py:32): switch on self.level ('one': one, 'two': two_a)
    deep_future = None
    if start_case == "deep":
        deep_future = deep.submit(run_id, "0", wait_for=[start_future])

    # wait for shallow: one fan task per item of self.items
    fan_indices = foreach_indices(shallow_future, depth=0)

    # fan (nested_switch.py:22): goes to fan_join
    fan_futures = fan.map(unmapped(run_id), fan_indices, wait_for=[shallow_future])

    # fan_join (nested_switch.py:27): joins the items of shallow
    fan_join_future = None
    if shallow_future is not None:
        fan_join_future = fan_join.submit(run_id, "0", wait_for=[fan_futures])

    # wait for deep: the case it chose decides what runs next
    deep_case = chosen(deep_future)

    # one (nested_switch.py:37): goes to deep_merge
    one_future = None
    if deep_case == "one":
        one_future = one.submit(run_id, "0", wait_for=[deep_future])

    # two_a (nested_switch.py:42): goes to two_b
    two_a_future = None
    if deep_case == "two_a":
        two_a_future = two_a.submit(run_id, "0", wait_for=[deep_future])

    # two_b (nested_switch.py:47): goes to deep_merge
    two_b_future = None
    if two_a_future is not None:
        two_b_future = two_b.submit(run_id, "0", wait_for=[two_a_future])

    # deep_merge (nested_switch.py:52): goes to merge
    deep_merge_future = None
    if one_future is not None or two_b_future is not None:
        deep_merge_future = deep_merge.submit(run_id, "0", wait_for=[one_future, two_b_future])

    # merge (nested_switch.py:57): goes to end
    merge_future = merge.submit(run_id, "0", wait_for=[fan_join_future, deep_merge_future])

    # end (nested_switch.py:62): the end step
    end_future = end.submit(run_id, "0", wait_for=[merge_future])

    return finish(run_id, start_future, shallow_future, fan_futures, fan_join_future, deep_future, one_future, two_a_future, two_b_future, deep_merge_future, merge_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the NestedSwitchFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--mode", dest="mode", metavar="STR", type=str,
                        help="shallow or deep (default: \"deep\")")
    parser.add_argument("--depth", dest="depth", metavar="INT", type=int,
                        help="1 or 2 (default: 2)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    nested_switch_flow(**command_line())
