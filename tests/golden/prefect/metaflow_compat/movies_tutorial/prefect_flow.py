"""Prefect flow of MoviesTutorialFlow, compiled by flowc 0.1.0 from tests/flows/metaflow_compat/movies_tutorial.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flowc.engines.prefect import FlowRuntime, current_run_id, finish, foreach_indices

# How every task runs flowc's runtime: artifacts stay in the datastore; only
# small values come back (a foreach's count, the case a switch chose).
RUNTIME = FlowRuntime(
    flow="MoviesTutorialFlow",
    module=__file__,  # the runtime runs in this file's folder
    command=[  # the runtime's command; each task adds its step, run, index and attempt
        "python", "-m", "flowc.runtime", "step",
        "--flow", "movies_tutorial.py",
        "--ir", "MoviesTutorialFlow.ir.json",
        "--datastore", "s3://flowc-datastore",
    ],
    end_event="metaflow.MoviesTutorialFlow.end",  # what a successful run publishes (as a Prefect event)
)


# ---------------------------------------------------------------- one task per step


# start (movies_tutorial.py:22)
# Foreach over self.genres, into genre.
@task(
    name="start",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return RUNTIME.run_step("start", run_id, index, params=params)


# genre (movies_tutorial.py:29)
# Goes to join.
@task(
    name="genre",
    task_run_name=RUNTIME.pathspec,
    timeout_seconds=432000,  # no @timeout: Metaflow's 5-day limit
    cache_policy=NO_CACHE,
    persist_result=False,
)
def genre(run_id: str, index: str, after: Any = None) -> dict:
    return RUNTIME.run_step("genre", run_id, index)


# join (movies_tutorial.py:35)
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


# end (movies_tutorial.py:40)
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
    name="MoviesTutorialFlow",
    description="Count the movies of each genre in an included CSV file.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # tasks at once (option max_workers)
    persist_result=False,
)
def movies_tutorial_flow(
    min_year: int = 1990,
) -> str:
    """Count the movies of each genre in an included CSV file.

    Args:
        min_year: movies from this year on
    """
    run_id = current_run_id()
    params = {  # the start step's parameters, by name
        "min_year": min_year,
    }

    # start (movies_tutorial.py:22): foreach over self.genres, into genre
    start_future = start.submit(run_id, "0", params)

    # wait for start: one genre task per item of self.genres
    genre_indices = foreach_indices(start_future, depth=0)

    # genre (movies_tutorial.py:29): goes to join
    genre_futures = genre.map(unmapped(run_id), genre_indices, wait_for=[start_future])

    # join (movies_tutorial.py:35): joins the items of start
    join_future = join.submit(run_id, "0", wait_for=[genre_futures])

    # end (movies_tutorial.py:40): the end step
    end_future = end.submit(run_id, "0", wait_for=[join_future])

    return finish(run_id, start_future, genre_futures, join_future, end_future)


def command_line() -> dict:
    """The flow's parameters from this script's command line, typed as `flowc run`
    reads them; those not given keep the flow's defaults."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the MoviesTutorialFlow flow on this machine, under Prefect (its temporary server unless PREFECT_API_URL is set).",
        allow_abbrev=False,
    )
    parser.add_argument("--min_year", dest="min_year", metavar="INT", type=int,
                        help="movies from this year on (default: 1990)")
    return {name: value for name, value in vars(parser.parse_args()).items() if value is not None}


if __name__ == "__main__":
    movies_tutorial_flow(**command_line())
