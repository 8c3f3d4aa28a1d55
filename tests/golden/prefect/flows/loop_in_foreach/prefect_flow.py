"""Prefect flow of LoopInForeachFlow, compiled by flowc 0.1.0 from tests/flows/loop_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices, repeat_switch, took

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="LoopInForeachFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "loop_in_foreach.py",
        "--ir", "LoopInForeachFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.LoopInForeachFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (loop_in_foreach.py:10)
# Foreach over self.groups, into group.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# group (loop_in_foreach.py:15)
# Foreach over self.members, into member.
@task(
    name="group",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def group(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("group", run_id, index)


# member (loop_in_foreach.py:20)
# Goes to spin.
@task(
    name="member",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def member(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("member", run_id, index)


# spin (loop_in_foreach.py:27)
# Switch on self.state ('again': spin, 'done': settle).
# @retry(times=1): Prefect retries the task; each retry is the runtime's next attempt (loop_in_foreach.py:25)
@task(
    name="spin",
    task_run_name=RUNTIME.pathspec,
    retries=1,
    retry_delay_seconds=0,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def spin(run_id: str, index: str, iteration: int, after: Any = None) -> dict:
    return RUNTIME.run_step("spin", run_id, index, iteration=iteration)


# settle (loop_in_foreach.py:33)
# Goes to group_join.
@task(
    name="settle",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def settle(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("settle", run_id, index)


# group_join (loop_in_foreach.py:38)
# Joins the items of group.
@task(
    name="group_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def group_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("group_join", run_id, index)


# all_join (loop_in_foreach.py:43)
# Joins the items of start.
@task(
    name="all_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def all_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("all_join", run_id, index)


# end (loop_in_foreach.py:48)
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
    name="LoopInForeachFlow",
    description="A recursive switch inside a nested foreach: each item loops its own number of times.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def loop_in_foreach_flow(
    rounds: int = 2,
) -> str:
    """A recursive switch inside a nested foreach: each item loops its own number of times.

    Args:
        rounds: extra rounds for every item
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "rounds": rounds,
    }

    # start (loop_in_foreach.py:10): foreach over self.groups, into group
    start_future = start.submit(run_id, "0", params)

    # wait for start: one group task per item of self.groups
    group_indices = foreach_indices(start_future, depth=0)

    # group (loop_in_foreach.py:15): foreach over self.members, into member
    group_futures = group.map(unmapped(run_id), group_indices, wait_for=[start_future])

    # wait for group: one member task per item of self.members
    member_indices = foreach_indices(group_futures, depth=1)

    # member (loop_in_foreach.py:20): goes to spin
    member_futures = member.map(unmapped(run_id), member_indices, wait_for=[group_futures])

    # spin (loop_in_foreach.py:27): switch on self.state ('again': spin, 'done': settle)
    spin_futures = spin.map(unmapped(run_id), member_indices, 0, after=member_futures)

    # each spin task that chose spin runs again, until none does
    spin_futures = repeat_switch(spin, "spin", run_id, spin_futures)

    # wait for spin: the items whose case leads to settle
    settle_indices = took(spin_futures, "settle")

    # settle (loop_in_foreach.py:33): goes to group_join
    settle_futures = settle.map(unmapped(run_id), settle_indices, wait_for=[spin_futures])

    # group_join (loop_in_foreach.py:38): joins the items of group
    group_join_futures = group_join.map(unmapped(run_id), group_indices, wait_for=[settle_futures])

    # all_join (loop_in_foreach.py:43): joins the items of start
    all_join_future = all_join.submit(run_id, "0", wait_for=[group_join_futures])

    # end (loop_in_foreach.py:48): the end step
    end_future = end.submit(run_id, "0", wait_for=[all_join_future])

    return finish(run_id, start_future, group_futures, member_futures, spin_futures, settle_futures, group_join_futures, all_join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the LoopInForeachFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--rounds", dest="rounds", metavar="INT", type=int,
                        help="extra rounds for every item (default: 2)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    loop_in_foreach_flow(**command_line())
