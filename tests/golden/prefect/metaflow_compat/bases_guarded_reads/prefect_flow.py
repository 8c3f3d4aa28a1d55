"""Prefect flow of BasesGuardedReadsFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/bases_guarded_reads.py.

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
    flow="BasesGuardedReadsFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "bases_guarded_reads.py",
        "--ir", "BasesGuardedReadsFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.BasesGuardedReadsFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (bases_guarded_reads.py:17)
# Switch on self.route ('fast': fast, 'slow': slow).
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# fast (bases_guarded_reads.py:26)
# Goes to fan.
@task(
    name="fast",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fast(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fast", run_id, index)


# slow (bases_guarded_reads.py:33)
# Goes to fan.
@task(
    name="slow",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def slow(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("slow", run_id, index)


# fan (bases_guarded_reads.py:38)
# Foreach over self.modes, into size.
@task(
    name="fan",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fan(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("fan", run_id, index)


# size (bases_guarded_reads.py:46)
# Goes to join.
@task(
    name="size",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def size(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("size", run_id, index)


# join (bases_guarded_reads.py:52)
# Joins the items of fan.
@task(
    name="join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("join", run_id, index)


# end (bases_guarded_reads.py:62)
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
    name="BasesGuardedReadsFlow",
    description="Guarded reads and class attributes.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def bases_guarded_reads_flow(
    threshold: int = 3,
) -> str:
    """Guarded reads and class attributes.

    Args:
        threshold: a read-only parameter
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "threshold": threshold,
    }

    # start (bases_guarded_reads.py:17): switch on self.route ('fast': fast, 'slow': slow)
    start_future = start.submit(run_id, "0", params)

    # wait for start: the case it chose decides what runs next
    start_case = chosen(start_future)

    # fast (bases_guarded_reads.py:26): goes to fan
    fast_future = None
    if start_case == "fast":
        fast_future = fast.submit(run_id, "0", wait_for=[start_future])

    # slow (bases_guarded_reads.py:33): goes to fan
    slow_future = None
    if start_case == "slow":
        slow_future = slow.submit(run_id, "0", wait_for=[start_future])

    # fan (bases_guarded_reads.py:38): foreach over self.modes, into size
    fan_future = fan.submit(run_id, "0", wait_for=[fast_future, slow_future])

    # wait for fan: one size task per item of self.modes
    size_indices = foreach_indices(fan_future, depth=0)

    # size (bases_guarded_reads.py:46): goes to join
    size_futures = size.map(unmapped(run_id), size_indices, wait_for=[fan_future])

    # join (bases_guarded_reads.py:52): joins the items of fan
    join_future = join.submit(run_id, "0", wait_for=[size_futures])

    # end (bases_guarded_reads.py:62): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, fast_future, slow_future, fan_future, size_futures, join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the BasesGuardedReadsFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--threshold", dest="threshold", metavar="INT", type=int,
                        help="a read-only parameter (default: 3)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    bases_guarded_reads_flow(**command_line())
