"""Prefect flow of SwitchInForeachFlow, compiled by flowc 0.1.0 from tests/flows/switch_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, merged, took

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="SwitchInForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch_in_foreach.py",
        "--ir", "SwitchInForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SwitchInForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (switch_in_foreach.py:8)
# Foreach over self.sizes, into classify.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# classify (switch_in_foreach.py:13)
# Switch on self.kind ('big': big, 'mid': mid, 'small': small).
@task(
    name="classify",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def classify(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("classify", run_id, index)


# big (switch_in_foreach.py:19)
# Goes to tag.
@task(
    name="big",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def big(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("big", run_id, index)


# mid (switch_in_foreach.py:24)
# Goes to tag.
@task(
    name="mid",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def mid(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("mid", run_id, index)


# small (switch_in_foreach.py:29)
# Goes to tag.
@task(
    name="small",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def small(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("small", run_id, index)


# tag (switch_in_foreach.py:34)
# Goes to join.
@task(
    name="tag",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def tag(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("tag", run_id, index)


# join (switch_in_foreach.py:39)
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


# end (switch_in_foreach.py:44)
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
    name="SwitchInForeachFlow",
    description="Each item of a foreach takes its own case of a switch.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def switch_in_foreach_flow() -> str:
    """Each item of a foreach takes its own case of a switch."""
    run_id = current_run_id()
    params = {}

    # start (switch_in_foreach.py:8): foreach over self.sizes, into classify
    start_future = start.submit(run_id, "0", params)

    # wait for start: one classify task per item of self.sizes
    classify_indices = foreach_indices(start_future, depth=0)

    # classify (switch_in_foreach.py:13): switch on self.kind ('big': big, 'mid': mid, 'small': small)
    classify_futures = classify.map(unmapped(run_id), classify_indices, wait_for=[start_future])

    # wait for classify: the items whose case leads to big
    big_indices = took(classify_futures, "big")

    # big (switch_in_foreach.py:19): goes to tag
    big_futures = big.map(unmapped(run_id), big_indices, wait_for=[classify_futures])

    # wait for classify: the items whose case leads to mid
    mid_indices = took(classify_futures, "mid")

    # mid (switch_in_foreach.py:24): goes to tag
    mid_futures = mid.map(unmapped(run_id), mid_indices, wait_for=[classify_futures])

    # wait for classify: the items whose case leads to small
    small_indices = took(classify_futures, "small")

    # small (switch_in_foreach.py:29): goes to tag
    small_futures = small.map(unmapped(run_id), small_indices, wait_for=[classify_futures])

    # the items tag runs for
    tag_indices = merged(big_indices, mid_indices, small_indices)

    # tag (switch_in_foreach.py:34): goes to join
    tag_futures = tag.map(unmapped(run_id), tag_indices, wait_for=[big_futures, mid_futures, small_futures])

    # join (switch_in_foreach.py:39): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[tag_futures])

    # end (switch_in_foreach.py:44): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, classify_futures, big_futures, mid_futures, small_futures, tag_futures, join_future, end_future)


if __name__ == "__main__":
    switch_in_foreach_flow()
