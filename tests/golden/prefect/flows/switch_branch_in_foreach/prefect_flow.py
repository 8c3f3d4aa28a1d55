"""Prefect flow of SwitchBranchInForeachFlow, compiled by flowc 0.1.0 from tests/flows/switch_branch_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, merged, took, zipped

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="SwitchBranchInForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch_branch_in_foreach.py",
        "--ir", "SwitchBranchInForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.SwitchBranchInForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (switch_branch_in_foreach.py:8)
# Foreach over self.items, into classify.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# classify (switch_branch_in_foreach.py:13)
# Switch on self.kind ('even': even, 'odd': odd).
@task(
    name="classify",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def classify(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("classify", run_id, index)


# even (switch_branch_in_foreach.py:19)
# Goes to fork.
@task(
    name="even",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def even(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("even", run_id, index)


# odd (switch_branch_in_foreach.py:24)
# Goes to fork.
@task(
    name="odd",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def odd(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("odd", run_id, index)


# fork (switch_branch_in_foreach.py:29)
# Branches to left, right.
@task(
    name="fork",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fork(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fork", run_id, index)


# left (switch_branch_in_foreach.py:33)
# Goes to meet.
@task(
    name="left",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def left(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("left", run_id, index)


# right (switch_branch_in_foreach.py:38)
# Goes to meet.
@task(
    name="right",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def right(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("right", run_id, index)


# meet (switch_branch_in_foreach.py:43)
# Joins the branches of fork.
@task(
    name="meet",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def meet(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("meet", run_id, index)


# decide (switch_branch_in_foreach.py:50)
# Switch on self.final ('big': big, 'small': small).
@task(
    name="decide",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def decide(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("decide", run_id, index)


# big (switch_branch_in_foreach.py:55)
# Goes to join.
@task(
    name="big",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def big(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("big", run_id, index)


# small (switch_branch_in_foreach.py:60)
# Goes to join.
@task(
    name="small",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def small(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("small", run_id, index)


# join (switch_branch_in_foreach.py:65)
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


# end (switch_branch_in_foreach.py:70)
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
    name="SwitchBranchInForeachFlow",
    description="A switch and a branch inside a foreach body; both cases end the body.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def switch_branch_in_foreach_flow() -> str:
    """A switch and a branch inside a foreach body; both cases end the body."""
    run_id = current_run_id()
    params = {}

    # start (switch_branch_in_foreach.py:8): foreach over self.items, into classify
    start_future = start.submit(run_id, "0", params)

    # wait for start: one classify task per item of self.items
    classify_indices = foreach_indices(start_future, depth=0)

    # classify (switch_branch_in_foreach.py:13): switch on self.kind ('even': even, 'odd': odd)
    classify_futures = classify.map(unmapped(run_id), classify_indices, wait_for=[start_future])

    # wait for classify: the items whose case leads to even
    even_indices = took(classify_futures, "even")

    # even (switch_branch_in_foreach.py:19): goes to fork
    even_futures = even.map(unmapped(run_id), even_indices, wait_for=[classify_futures])

    # wait for classify: the items whose case leads to odd
    odd_indices = took(classify_futures, "odd")

    # odd (switch_branch_in_foreach.py:24): goes to fork
    odd_futures = odd.map(unmapped(run_id), odd_indices, wait_for=[classify_futures])

    # the items fork runs for
    fork_indices = merged(even_indices, odd_indices)

    # fork (switch_branch_in_foreach.py:29): branches to left, right
    fork_futures = fork.map(unmapped(run_id), fork_indices, wait_for=[even_futures, odd_futures])

    # left (switch_branch_in_foreach.py:33): goes to meet
    left_futures = left.map(unmapped(run_id), fork_indices, after=fork_futures)

    # right (switch_branch_in_foreach.py:38): goes to meet
    right_futures = right.map(unmapped(run_id), fork_indices, after=fork_futures)

    # meet (switch_branch_in_foreach.py:43): joins the branches of fork
    meet_futures = meet.map(unmapped(run_id), fork_indices, after=zipped(left_futures, right_futures))

    # decide (switch_branch_in_foreach.py:50): switch on self.final ('big': big, 'small': small)
    decide_futures = decide.map(unmapped(run_id), fork_indices, after=meet_futures)

    # wait for decide: the items whose case leads to big
    big_indices = took(decide_futures, "big")

    # big (switch_branch_in_foreach.py:55): goes to join
    big_futures = big.map(unmapped(run_id), big_indices, wait_for=[decide_futures])

    # wait for decide: the items whose case leads to small
    small_indices = took(decide_futures, "small")

    # small (switch_branch_in_foreach.py:60): goes to join
    small_futures = small.map(unmapped(run_id), small_indices, wait_for=[decide_futures])

    # join (switch_branch_in_foreach.py:65): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[big_futures, small_futures])

    # end (switch_branch_in_foreach.py:70): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, classify_futures, even_futures, odd_futures, fork_futures, left_futures, right_futures, meet_futures, decide_futures, big_futures, small_futures, join_future, end_future)


if __name__ == "__main__":
    switch_branch_in_foreach_flow()
