"""What a Prefect flow compiled by flowc imports (``prefect_flow.py``).

The generated module holds the flow: one ``@task`` per step and one ``@flow``
whose body submits them. How a task runs a step lives here, once: the
module describes its flow in one :class:`FlowRuntime` (the flow's name, the
runtime's command, the steps' environments) and each task calls its
``run_step``. The other exports are what the flow body waits for: the case a
switch chose, a foreach's index paths, every task at the end.

Every task runs flowc's runtime in a subprocess (its output goes to
Prefect's run logger); artifacts stay in the datastore, and only small values
come back: a foreach's count, the case a switch chose. A step with a
deployment of its own (prefect.yaml) runs through it when the flow runs from
a deployment; run directly, every step runs here.
``FLOWC_PREFECT_CONTAINER_STEPS=deployments`` or ``=local`` decides instead.

Imports only the standard library and Prefect.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from prefect import get_run_logger, runtime

__all__ = [
    "FlowRuntime", "StepFailed",
    "current_run_id", "chosen", "foreach_indices", "took", "merged", "common", "zipped", "repeat_switch",
    "json_text", "finish", "trigger_events", "emit",
]


class StepFailed(Exception):
    """A step's task did not complete."""


@dataclass(frozen=True)
class FlowRuntime:
    """One flow's runtime: how its tasks run flowc's runtime.

    flow: the flow's name. module: the generated module's ``__file__`` (the
    runtime runs in its folder, beside the flow file or its code package).
    command: the runtime's command for this flow, without the options of one
    task (``--step``, ``--run-id``, ``--index``, ``--attempt``, ``--output``...).
    environments: the steps' own environments (@pypi / @conda) for the
    runtime to build, each where the step does not run in its own image (or
    everywhere, with ``bootstrap``). step_flow: the flow of the steps'
    own deployments. end_event: the event a successful run publishes
    (resolved at compile time, with its @project branch)."""

    flow: str
    module: str
    command: Sequence[str]
    environments: Mapping[str, dict] = field(default_factory=dict)
    bootstrap: bool = False
    step_flow: str = ""
    end_event: str = ""

    @property
    def datastore(self) -> str:
        """The datastore's root, from the runtime's command (relative to the folder it runs in)."""
        root = self.command[list(self.command).index("--datastore") + 1]
        return root if "://" in root or os.path.isabs(root) else os.path.join(self.folder, root)

    @property
    def folder(self) -> str:
        return os.path.dirname(os.path.abspath(self.module))

    def pathspec(self) -> str:
        """A task run's name (a task's ``task_run_name``): its pathspec, Flow/run/step/task."""
        p = runtime.task_run.parameters
        task_id = p["index"] + (f"@{p['iteration']}" if p.get("iteration") else "")
        return f"{self.flow}/{p['run_id']}/{runtime.task_run.task_name}/{task_id}"

    def argv(self, step: str, run_id: str, index: str, attempt: int, output: str, iteration: Optional[int] = None,
             params: Optional[dict] = None, in_own_image: bool = False, trigger: Optional[list] = None) -> list:
        """The runtime's one command for one task (flowc's runtime contract)."""
        argv = [*self.command, "--step", step, "--run-id", run_id, "--index", index, "--attempt", str(attempt),
                "--output", output]
        if iteration is not None:
            argv += ["--iteration", str(iteration)]
        if params is not None:
            argv += ["--params", json.dumps(params, sort_keys=True)]
        if trigger:
            argv += ["--trigger", json.dumps(trigger_events(trigger), sort_keys=True)]
        if step in self.environments and (self.bootstrap or not in_own_image):
            argv += ["--environment", json.dumps(self.environments[step], sort_keys=True)]
        return argv

    def run_step(self, step: str, run_id: str, index: str, *, iteration: Optional[int] = None,
                 params: Optional[dict] = None, secrets: Sequence[str] = (), deployment: Optional[str] = None,
                 trigger: Optional[list] = None) -> dict:
        """Run one task of a step (attempt: Prefect's retry count); returns its small values.
        trigger: the start task's triggering events (Prefect's or flowc's dicts)."""
        attempt = runtime.task_run.run_count - 1
        if deployment is not None and _dispatch_to_containers():
            return self.run_in_container(deployment, step, run_id, index, attempt, iteration, params, secrets,
                                         trigger)
        return self.execute(step, run_id, index, attempt, iteration, params, secrets, trigger=trigger)

    def container_step(self, step: str, run_id: str, index: str, attempt: int = 0, iteration: Optional[int] = None,
                       params: Optional[dict] = None, secrets: Optional[Sequence[str]] = None,
                       trigger: Optional[list] = None):
        """The body of the steps' own flow: one task run in its own container; a
        Completed state whose message carries the task's small values."""
        from prefect.states import Completed

        out = self.execute(step, run_id, index, attempt, iteration, params, secrets or (), in_own_image=True,
                           trigger=trigger)
        return Completed(message=json.dumps(out, sort_keys=True))

    def execute(self, step: str, run_id: str, index: str, attempt: int, iteration: Optional[int] = None,
                params: Optional[dict] = None, secrets: Sequence[str] = (), in_own_image: bool = False,
                trigger: Optional[list] = None) -> dict:
        """Run the runtime here, in a subprocess; its output goes to Prefect's run logger.
        Then the events the task published go to Prefect (:meth:`forward_events`)."""
        logger = get_run_logger()
        env = {**os.environ, **_secret_env(secrets), "PYTHONUNBUFFERED": "1"}
        if self.end_event:
            env["FLOWC_END_EVENT"] = self.end_event  # the runtime's end task publishes it
        with tempfile.TemporaryDirectory(prefix="flowc-") as tmp:
            output = os.path.join(tmp, "out.json")
            argv = self.argv(step, run_id, index, attempt, output, iteration, params, in_own_image, trigger)
            proc = subprocess.Popen(argv, cwd=self.folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
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
                raise StepFailed(f"{self.flow}/{run_id}/{step}/{index}: the runtime exited with status "
                                 f"{proc.returncode}")
            with open(output, encoding="utf-8") as f:
                out = json.load(f)
        self.forward_events(step, run_id, out["task_id"])
        return {"index": index, **{k: out[k] for k in ("chosen", "foreach_count") if k in out}}

    def forward_events(self, step: str, run_id: str, task_id: str) -> None:
        """Emit, as Prefect events, what the task published: its datastore folder
        keeps them (``events.json``, flowc's runtime contract). Only a task
        that succeeded gets here, so a failed attempt's events are never sent."""
        from flowc.runtime.datastore import FlowDatastore
        from flowc.runtime.events import read_task_events

        ds = FlowDatastore(self.datastore, self.flow)
        for event in read_task_events(ds, run_id, step, task_id):
            emit(event, f"{self.flow}/{run_id}/{step}/{task_id}")

    def run_in_container(self, deployment: str, step: str, run_id: str, index: str, attempt: int,
                         iteration: Optional[int], params: Optional[dict], secrets: Sequence[str],
                         trigger: Optional[list] = None) -> dict:
        """Start the step's own deployment (its container) and wait for its flow run.
        Its flow run forwards the task's events itself (it runs :meth:`execute`)."""
        from prefect.deployments import run_deployment

        task_id = index + (f"@{iteration}" if iteration else "")
        parameters = {"step": step, "run_id": run_id, "index": index, "attempt": attempt,
                      "iteration": iteration, "params": params, "secrets": list(secrets)}
        if trigger:  # a triggered flow's start step (its container_step takes them)
            parameters["trigger"] = trigger
        child = run_deployment(
            name=f"{self.step_flow}/{deployment}",
            parameters=parameters,
            idempotency_key=f"{self.flow}/{run_id}/{step}/{task_id}/{attempt}",
            timeout=None,
            poll_interval=2,
        )
        state = child.state
        if state is None or not state.is_completed():
            raise StepFailed(f"{self.flow}/{run_id}/{step}/{task_id}: its flow run {child.name} ended "
                             f"{state.name if state else 'without a state'}: {state.message if state else ''}")
        return json.loads(state.message)


# ---------------------------------------------------------------- events

# flowc's events in Prefect: the event's name is flowc's (Metaflow's) name;
# its resource is what it is about (the run that ended, or the task that
# published it), under ``flowc.``, which the deployments' triggers match.
RESOURCE_PREFIX = "flowc."
_EVENT_IDS = uuid.UUID("5d0c6f4e-6b3a-4f0e-9a57-9b8f3c0f1c2d")  # Prefect ids of flowc events: uuid5 in this


def emit(event: dict, publisher: str = "") -> None:
    """One flowc event (runtime/events.py's dict) as a Prefect event. Its Prefect
    id derives from flowc's, so forwarding it again is the same event; the
    flow run and task run that forwarded it are its related resources."""
    from prefect.events import emit_event

    if event.get("type") == "run":
        pathspec = event["payload"].get("pathspec") or event["id"]
        resource = {"prefect.resource.id": f"{RESOURCE_PREFIX}run.{pathspec.rsplit('/', 2)[0]}",
                    "prefect.resource.name": pathspec}
    else:
        resource = {"prefect.resource.id": f"{RESOURCE_PREFIX}task.{publisher or 'external'}"}
        if publisher:
            resource["prefect.resource.name"] = publisher
    resource.update({"flowc.event.type": event.get("type") or "event", "flowc.event.id": str(event["id"])})
    related = []
    if runtime.flow_run.id:
        related.append({"prefect.resource.id": f"prefect.flow-run.{runtime.flow_run.id}",
                        "prefect.resource.role": "flow-run"})
    if runtime.task_run.id:
        related.append({"prefect.resource.id": f"prefect.task-run.{runtime.task_run.id}",
                        "prefect.resource.role": "task-run"})
    emit_event(event=event["name"], resource=resource, related=related, payload=event.get("payload") or {},
               id=uuid.uuid5(_EVENT_IDS, str(event["id"])),
               occurred=datetime.fromtimestamp(event.get("timestamp") or 0, timezone.utc)
               if event.get("timestamp") else None)


def trigger_events(events: Sequence[dict]) -> list:
    """The events that started a flow run as flowc's runtime takes them
    (``--trigger``): Prefect's events (a deployment trigger passes ``events``,
    each once) or flowc's own dicts, in order."""
    out, seen = [], set()
    for e in events:
        if "event" not in e:  # already flowc's
            out.append(e)
            continue
        if e.get("id") in seen:  # a compound trigger's last event comes twice
            continue
        seen.add(e.get("id"))
        resource = e.get("resource") or {}
        occurred = e.get("occurred")
        try:
            timestamp = int(datetime.fromisoformat(occurred.replace("Z", "+00:00")).timestamp()) if occurred else None
        except ValueError:
            timestamp = None
        out.append({"name": e["event"], "type": resource.get("flowc.event.type", "event"),
                    "id": resource.get("flowc.event.id") or str(e.get("id") or ""),
                    "timestamp": timestamp, "payload": e.get("payload") or {}})
    return out


def _dispatch_to_containers() -> bool:
    mode = os.environ.get("FLOWC_PREFECT_CONTAINER_STEPS", "auto")
    if mode in ("deployments", "local"):
        return mode == "deployments"
    return runtime.deployment.id is not None


def _pump(stream, level: int, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((level, line.rstrip("\n")))
    stream.close()


def _secret_env(names: Sequence[str]) -> dict:
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


# ---------------------------------------------------------------- what the flow body waits for


def current_run_id() -> str:
    """The run id every task shares: this flow run's id."""
    return str(runtime.flow_run.id)


def _outcome(future) -> dict:
    """A task's small values; the flow run fails here if the task did not complete."""
    future.wait()
    if not future.state.is_completed():
        raise StepFailed(f"task run {future.task_run_id} ended {future.state.name}: {future.state.message}")
    return future.result()


def chosen(future) -> Optional[str]:
    """The step a switch's task chose (None when the switch did not run)."""
    return None if future is None else _outcome(future)["chosen"]


def foreach_indices(split, depth: int) -> list:
    """The index paths of a foreach's items: i for a top-level foreach, P.i below."""
    out = []
    for future in _futures(split):
        result = _outcome(future)
        prefix = "" if depth == 0 else result["index"] + "."
        out += [f"{prefix}{i}" for i in range(result["foreach_count"])]
    return out


def took(futures, step: str) -> list:
    """The index paths of the switch tasks that chose ``step``."""
    return [r["index"] for r in map(_outcome, _futures(futures)) if r["chosen"] == step]


def merged(*lists) -> list:
    """Index paths from several alternatives, in order."""
    return sorted(set().union(*lists), key=lambda p: [int(i) for i in p.split(".")])


def common(*lists) -> list:
    """Index paths every parent group delivered."""
    return [i for i in lists[0] if all(i in other for other in lists[1:])]


def zipped(*futures) -> list:
    """Each item's tasks of several steps, side by side (for .map)."""
    return list(zip(*futures))


def json_text(value: Any) -> str:
    """A JSON parameter's value, as the runtime reads it."""
    return json.dumps(value, sort_keys=True)


def repeat_switch(step_task, step: str, run_id: str, futures) -> list:
    """A recursive switch inside a foreach: run each item's step again while it
    chooses itself; returns each item's last task."""
    last = list(futures)
    iteration = 0
    while True:
        again = [i for i, f in enumerate(last) if _outcome(f)["chosen"] == step]
        if not again:
            return last
        iteration += 1
        for i in again:
            last[i] = step_task.submit(run_id, _outcome(last[i])["index"], iteration, wait_for=[last[i]])


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
