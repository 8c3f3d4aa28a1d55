"""Prefect flow of BatchSplitFlow, compiled by flowc 0.1.0 from tests/flows/batch_split.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any, Optional

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, chosen, current_run_id, finish, foreach_indices, merged, took

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="BatchSplitFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "batch_split.py",
        "--ir", "BatchSplitFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    step_flow="BatchSplitFlow-step",  # the flow of the steps' own deployments (prefect.yaml)
    end_event="metaflow.BatchSplitFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (batch_split.py:9)
# Foreach over self.regions, into region.
# Runs in a container of its own (@batch; CPUs 2 > the flow pod's 1):
# deployment BatchSplitFlow-step/start in prefect.yaml.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params, deployment="start")


# region (batch_split.py:15)
# Foreach over self.shards, into shard.
# Runs in a container of its own (@batch):
# deployment BatchSplitFlow-step/region in prefect.yaml.
@task(
    name="region",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def region(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("region", run_id, index, deployment="region")


# shard (batch_split.py:22)
# Switch on self.kind ('big': big, 'small': small).
# Runs in a container of its own (@batch):
# deployment BatchSplitFlow-step/shard in prefect.yaml.
@task(
    name="shard",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def shard(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("shard", run_id, index, deployment="shard")


# big (batch_split.py:28)
# Goes to tally.
@task(
    name="big",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def big(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("big", run_id, index)


# small (batch_split.py:33)
# Goes to tally.
@task(
    name="small",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def small(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("small", run_id, index)


# tally (batch_split.py:38)
# Goes to shard_join.
@task(
    name="tally",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def tally(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("tally", run_id, index)


# shard_join (batch_split.py:43)
# Joins the items of region.
@task(
    name="shard_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def shard_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("shard_join", run_id, index)


# region_join (batch_split.py:48)
# Joins the items of start.
@task(
    name="region_join",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def region_join(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("region_join", run_id, index)


# route (batch_split.py:54)
# Switch on self.mode ('wide': wide, 'narrow': narrow).
# Runs in a container of its own (@batch):
# deployment BatchSplitFlow-step/route in prefect.yaml.
@task(
    name="route",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def route(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("route", run_id, index, deployment="route")


# wide (batch_split.py:59)
# Goes to report.
@task(
    name="wide",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def wide(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("wide", run_id, index)


# narrow (batch_split.py:64)
# Goes to report.
@task(
    name="narrow",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def narrow(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("narrow", run_id, index)


# report (batch_split.py:69)
# Goes to end.
@task(
    name="report",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def report(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("report", run_id, index)


# end (batch_split.py:74)
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


# ---------------------------------------------------------------- a step in a container of its own


@flow(name="BatchSplitFlow-step", flow_run_name="BatchSplitFlow/{run_id}/{step}/{index}", persist_result=False)
def container_step(step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                   params: Optional[dict] = None, secrets: Optional[list] = None) -> Any:
    """One task of the flow, run in the container its deployment describes."""
    return RUNTIME.container_step(step, run_id, index, attempt, iteration, params, secrets)


# ---------------------------------------------------------------- the flow


@flow(
    name="BatchSplitFlow",
    description="Foreach splits and switches decided on AWS Batch, at every depth.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def batch_split_flow() -> str:
    """Foreach splits and switches decided on AWS Batch, at every depth."""
    run_id = current_run_id()
    params = {}

    # start (batch_split.py:9): foreach over self.regions, into region
    start_future = start.submit(run_id, "0", params)

    # wait for start: one region task per item of self.regions
    region_indices = foreach_indices(start_future, depth=0)

    # region (batch_split.py:15): foreach over self.shards, into shard
    region_futures = region.map(unmapped(run_id), region_indices, wait_for=[start_future])

    # wait for region: one shard task per item of self.shards
    shard_indices = foreach_indices(region_futures, depth=1)

    # shard (batch_split.py:22): switch on self.kind ('big': big, 'small': small)
    shard_futures = shard.map(unmapped(run_id), shard_indices, wait_for=[region_futures])

    # wait for shard: the items whose case leads to big
    big_indices = took(shard_futures, "big")

    # big (batch_split.py:28): goes to tally
    big_futures = big.map(unmapped(run_id), big_indices, wait_for=[shard_futures])

    # wait for shard: the items whose case leads to small
    small_indices = took(shard_futures, "small")

    # small (batch_split.py:33): goes to tally
    small_futures = small.map(unmapped(run_id), small_indices, wait_for=[shard_futures])

    # the items tally runs for
    tally_indices = merged(big_indices, small_indices)

    # tally (batch_split.py:38): goes to shard_join
    tally_futures = tally.map(unmapped(run_id), tally_indices, wait_for=[big_futures, small_futures])

    # shard_join (batch_split.py:43): joins the items of region
    shard_join_futures = shard_join.map(unmapped(run_id), region_indices, wait_for=[tally_futures])

    # region_join (batch_split.py:48): joins the items of start
    region_join_future = region_join.submit(run_id, "0", wait_for=[shard_join_futures])

    # route (batch_split.py:54): switch on self.mode ('wide': wide, 'narrow': narrow)
    route_future = route.submit(run_id, "0", wait_for=[region_join_future])

    # wait for route: the case it chose decides what runs next
    route_case = chosen(route_future)

    # wide (batch_split.py:59): goes to report
    wide_future = None
    if route_case == "wide":
        wide_future = wide.submit(run_id, "0", wait_for=[route_future])

    # narrow (batch_split.py:64): goes to report
    narrow_future = None
    if route_case == "narrow":
        narrow_future = narrow.submit(run_id, "0", wait_for=[route_future])

    # report (batch_split.py:69): goes to end
    report_future = report.submit(run_id, "0", wait_for=[wide_future, narrow_future])

    # end (batch_split.py:74): the end step
    end_future = end.submit(run_id, "0", wait_for=[report_future])

    return finish(run_id, start_future, region_futures, shard_futures, big_futures, small_futures, tally_futures, shard_join_futures, region_join_future, route_future, wide_future, narrow_future, report_future, end_future)


if __name__ == "__main__":
    batch_split_flow()
