"""Prefect flow of SwitchInForeachFlow, compiled by flowc 0.1.0 from tests/flows/switch_in_foreach.py.

Each step is a Prefect task that runs flowc's runtime; artifacts stay in the
datastore (s3://flowc-datastore), never in Prefect. Recompile instead of editing.

    python prefect_flow.py     run it on this machine, every step here
    prefect deploy --all      deploy it and its container steps (see prefect.yaml)
"""

import json
import logging
import os
import queue
import subprocess
import tempfile
import threading
from typing import Any, Optional

from prefect import flow, get_run_logger, runtime, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

# ---------------------------------------------------------------- how a task runs
# Every task runs the flowc runtime's one command. Artifacts stay in the
# datastore; only small values come back (a foreach's count, a switch's case).

FLOW = "SwitchInForeachFlow"
STEP_FLOW = "SwitchInForeachFlow-step"
HERE = os.path.dirname(os.path.abspath(__file__))
# Steps with a deployment of their own (see prefect.yaml) run through it when
# this flow runs from a deployment; run directly, every step runs here.
# FLOWC_PREFECT_CONTAINER_STEPS=deployments or =local decides instead.
CONTAINER_STEPS = os.environ.get("FLOWC_PREFECT_CONTAINER_STEPS", "auto")


class StepFailed(Exception):
    """A step's task did not complete."""


def runtime_command(step: str, run_id: str, index: str, attempt: int, output: str, iteration: Optional[int] = None,
                    params: Optional[dict] = None, in_own_image: bool = False) -> list:
    """The runtime's one command for one task (flowc's runtime contract).
    in_own_image: the task runs in the step's own container."""
    argv = [
        "python", "-m", "flowc.runtime", "step",
        "--flow", "switch_in_foreach.py",
        "--ir", "SwitchInForeachFlow.ir.json",
        "--step", step,
        "--run-id", run_id,
        "--index", index,
        "--attempt", str(attempt),
        "--datastore", "s3://flowc-datastore",
        "--output", output,
    ]
    if iteration is not None:
        argv += ["--iteration", str(iteration)]
    if params is not None:
        argv += ["--params", json.dumps(params, sort_keys=True)]
    return argv


def pathspec() -> str:
    """A task run's name: the task's pathspec, Flow/run/step/task."""
    p = runtime.task_run.parameters
    task_id = p["index"] + (f"@{p['iteration']}" if p.get("iteration") else "")
    return f"{FLOW}/{p['run_id']}/{runtime.task_run.task_name}/{task_id}"


def run_step(step: str, run_id: str, index: str, *, iteration: Optional[int] = None,
             params: Optional[dict] = None, secrets: tuple = (), deployment: Optional[str] = None) -> dict:
    """Run one task (attempt = Prefect's retry count); returns its small values."""
    attempt = runtime.task_run.run_count - 1
    if deployment is not None and dispatch_to_containers():
        return run_in_container(deployment, step, run_id, index, attempt, iteration, params, secrets)
    return execute(step, run_id, index, attempt, iteration, params, secrets)


def dispatch_to_containers() -> bool:
    if CONTAINER_STEPS in ("deployments", "local"):
        return CONTAINER_STEPS == "deployments"
    return runtime.deployment.id is not None


def execute(step: str, run_id: str, index: str, attempt: int, iteration: Optional[int] = None,
            params: Optional[dict] = None, secrets=(), in_own_image: bool = False) -> dict:
    """Run the runtime here, in a subprocess; its output goes to Prefect's run logger."""
    logger = get_run_logger()
    env = {**os.environ, **secret_env(secrets), "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(prefix="flowc-") as tmp:
        output = os.path.join(tmp, "out.json")
        argv = runtime_command(step, run_id, index, attempt, output, iteration, params, in_own_image)
        proc = subprocess.Popen(argv, cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
        lines: queue.Queue = queue.Queue()
        readers = [threading.Thread(target=_pump, args=(stream, level, lines), daemon=True)
                   for stream, level in ((proc.stdout, logging.INFO), (proc.stderr, logging.WARNING))]
        for reader in readers:
            reader.start()
        try:
            while True:  # short waits, so that Prefect's timeout can interrupt the task
                try:
                    level, line = lines.get(timeout=0.2)
                except queue.Empty:
                    if proc.poll() is not None and not any(r.is_alive() for r in readers):
                        break
                    continue
                logger.log(level, "%s", line)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != 0:
            raise StepFailed(f"{FLOW}/{run_id}/{step}/{index}: the runtime exited with status {proc.returncode}")
        with open(output, encoding="utf-8") as f:
            out = json.load(f)
    return {"index": index, **{k: out[k] for k in ("chosen", "foreach_count") if k in out}}


def _pump(stream, level: int, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((level, line.rstrip("\n")))
    stream.close()


def secret_env(names) -> dict:
    """@secrets: each Prefect Secret block as environment variables (a JSON
    object gives one variable per key; text, one variable named after the block)."""
    env = {}
    if names:
        from prefect.blocks.system import Secret

        for name in names:
            value = Secret.load(name).get()
            if isinstance(value, dict):
                env.update({str(k): str(v) for k, v in value.items()})
            else:
                env[name.upper().replace("-", "_")] = str(value)
    return env


def run_in_container(deployment: str, step: str, run_id: str, index: str, attempt: int,
                     iteration: Optional[int], params: Optional[dict], secrets) -> dict:
    """Start the step's own deployment (its container) and wait for its flow run."""
    from prefect.deployments import run_deployment

    task_id = index + (f"@{iteration}" if iteration else "")
    child = run_deployment(
        name=f"{STEP_FLOW}/{deployment}",
        parameters={"step": step, "run_id": run_id, "index": index, "attempt": attempt,
                    "iteration": iteration, "params": params, "secrets": list(secrets)},
        idempotency_key=f"{FLOW}/{run_id}/{step}/{task_id}/{attempt}",
        timeout=None,
        poll_interval=2,
    )
    state = child.state
    if state is None or not state.is_completed():
        raise StepFailed(f"{FLOW}/{run_id}/{step}/{task_id}: its flow run {child.name} ended "
                         f"{state.name if state else 'without a state'}: {state.message if state else ''}")
    return json.loads(state.message)


# ---------------------------------------------------------------- what the flow waits for


def outcome(future) -> dict:
    """A task's small values; the flow run fails here if the task did not complete."""
    future.wait()
    if not future.state.is_completed():
        raise StepFailed(f"task run {future.task_run_id} ended {future.state.name}: {future.state.message}")
    return future.result()


def chosen(future) -> Optional[str]:
    """The step a switch's task chose (None when the switch did not run)."""
    return None if future is None else outcome(future)["chosen"]


def foreach_indices(split, depth: int) -> list:
    """The index paths of a foreach's items: i for a top-level foreach, P.i below."""
    out = []
    for future in _futures(split):
        result = outcome(future)
        prefix = "" if depth == 0 else result["index"] + "."
        out += [f"{prefix}{i}" for i in range(result["foreach_count"])]
    return out


def took(futures, step: str) -> list:
    """The index paths of the switch tasks that chose ``step``."""
    return [r["index"] for r in map(outcome, _futures(futures)) if r["chosen"] == step]


def merged(*lists) -> list:
    """Index paths from several alternatives, in order."""
    return sorted(set().union(*lists), key=lambda p: [int(i) for i in p.split(".")])


def common(*lists) -> list:
    """Index paths every parent group delivered."""
    return [i for i in lists[0] if all(i in other for other in lists[1:])]


def zipped(*futures) -> list:
    """Each item's tasks of several steps, side by side (for .map)."""
    return list(zip(*futures))


def json_text(value) -> str:
    """A JSON parameter's value, as the runtime reads it."""
    return json.dumps(value, sort_keys=True)


def repeat_switch(step_task, step: str, run_id: str, futures) -> list:
    """A recursive switch inside a foreach: run each item's step again while it
    chooses itself; returns each item's last task."""
    last = list(futures)
    iteration = 0
    while True:
        again = [i for i, f in enumerate(last) if outcome(f)["chosen"] == step]
        if not again:
            return last
        iteration += 1
        for i in again:
            last[i] = step_task.submit(run_id, outcome(last[i])["index"], iteration, wait_for=[last[i]])


def current_run_id() -> str:
    """The run id every task shares: this flow run's id."""
    return str(runtime.flow_run.id)


def finish(run_id: str, *futures) -> str:
    """Wait for every task; the flow run fails if one did not complete."""
    failed = []
    for future in _futures(futures):
        future.wait()
        if not future.state.is_completed():
            failed.append(f"{future.task_run_id} ({future.state.name}: {future.state.message})")
    if failed:
        raise StepFailed(f"{len(failed)} task(s) did not complete: " + "; ".join(failed))
    return run_id


def _futures(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _futures(v)]
    return [value]


# ---------------------------------------------------------------- one task per step


# start (switch_in_foreach.py:8): foreach over self.sizes, into classify
@task(
    name="start",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def start(run_id: str, index: str, params: dict, after: Any = None) -> dict:
    return run_step("start", run_id, index, params=params)


# classify (switch_in_foreach.py:13): switch on self.kind ('big': big, 'mid': mid, 'small': small)
@task(
    name="classify",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def classify(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("classify", run_id, index)


# big (switch_in_foreach.py:19): goes to tag
@task(
    name="big",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def big(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("big", run_id, index)


# mid (switch_in_foreach.py:24): goes to tag
@task(
    name="mid",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def mid(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("mid", run_id, index)


# small (switch_in_foreach.py:29): goes to tag
@task(
    name="small",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def small(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("small", run_id, index)


# tag (switch_in_foreach.py:34): goes to join
@task(
    name="tag",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def tag(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("tag", run_id, index)


# join (switch_in_foreach.py:39): joins the items of start
@task(
    name="join",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def join(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("join", run_id, index)


# end (switch_in_foreach.py:44): the end step
@task(
    name="end",
    task_run_name=pathspec,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def end(run_id: str, index: str, after: Any = None) -> dict:
    return run_step("end", run_id, index)


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
