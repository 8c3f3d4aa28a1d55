"""Read runs back: ``Run("RecSysFlow/12")["end"].task.data.score``.

Works on what any runner leaves in the datastore (``flowc run`` or any
orchestrator), with Metaflow's names: Flow, Run, Step, Task, and ``.data``.
The datastore is ``FLOWC_DATASTORE`` or ``.flowc`` in the working directory
unless given.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

from .datastore import FlowDatastore
from .identity import split_task_id


def default_datastore() -> str:
    return os.environ.get("FLOWC_DATASTORE") or ".flowc"


def _sort_key(name: str) -> tuple:
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


class Flow:
    def __init__(self, name: str, datastore: str | None = None):
        self.name = name
        self.datastore = datastore or default_datastore()
        self._ds = FlowDatastore(self.datastore, name)

    def __iter__(self) -> Iterator["Run"]:
        for run in sorted(self._ds.runs(), key=_sort_key, reverse=True):
            yield Run(f"{self.name}/{run}", self.datastore)

    @property
    def latest_run(self) -> "Run | None":
        return next(iter(self), None)

    def __repr__(self) -> str:
        return f"Flow('{self.name}')"


class Run:
    def __init__(self, pathspec: str, datastore: str | None = None):
        flow, _, run = pathspec.partition("/")
        if not run:
            raise ValueError(f"a run is named FLOW/RUN_ID, not {pathspec!r}")
        self.datastore = datastore or default_datastore()
        self._ds = FlowDatastore(self.datastore, flow)
        if not self._exists(run):
            from .identity import safe_run_id

            if self._exists(safe_run_id(run)):  # an orchestrator's own run id, as it spells it
                run = safe_run_id(run)
            else:
                raise KeyError(f"no run {pathspec} in {self._ds.location()}")
        self.flow_name, self.id = flow, run
        self.pathspec = f"{flow}/{run}"

    def _exists(self, run: str) -> bool:
        return bool(self._ds.steps(run)) or self._ds.read_run_file(run, "run.json") is not None

    @property
    def info(self) -> dict:
        raw = self._ds.read_run_file(self.id, "run.json")
        return json.loads(raw) if raw else {}

    def steps(self) -> list["Step"]:
        found = [Step(self, name) for name in self._ds.steps(self.id)]
        return sorted(found, key=lambda s: s.started_at)

    def __iter__(self) -> Iterator["Step"]:
        return iter(self.steps())

    def __getitem__(self, step: str) -> "Step":
        steps = self._ds.steps(self.id)
        if step not in steps:
            raise KeyError(f"run {self.pathspec} has no step {step!r}{_did_you_mean(step, steps)}")
        return Step(self, step)

    def __contains__(self, step: str) -> bool:
        return step in self._ds.steps(self.id)

    @property
    def status(self) -> str:
        """succeeded, failed, interrupted or running. ``flowc run`` records it in
        run.json; a run it recorded as running whose runner is gone (on this
        host) was interrupted. An orchestrator's run is judged by its tasks."""
        info = self.info
        status = info.get("status")
        if status == "running" and not self._runner_alive():
            return "interrupted"
        if status:
            return status
        if self.end_task is not None:
            return "succeeded"
        for step in self.steps():
            if any(t.failed for t in step):
                return "failed"
        return "running"

    def _runner_alive(self) -> bool:
        from .identity import hostname

        raw = self._ds.read_run_file(self.id, "claim.json")
        try:
            claim = json.loads(raw) if raw else {}
        except ValueError:
            return True
        pid = claim.get("pid")
        if not isinstance(pid, int) or claim.get("host") != hostname():
            return True  # another machine's runner: it cannot be checked from here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True

    @property
    def successful(self) -> bool:
        return self.status == "succeeded"

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "interrupted")

    @property
    def interrupted_tasks(self) -> list[str]:
        """The tasks that were running when the run was interrupted (as recorded)."""
        return list(self.info.get("interrupted_tasks") or [])

    @property
    def end_task(self) -> "Task | None":
        for step in self.steps()[::-1]:
            for task in step:
                if task.done and task.metadata.get("taken") == [] and task.metadata.get("step") == step.id:
                    return task
        return None

    @property
    def data(self) -> "Data | None":
        task = self.end_task
        return task.data if task else None

    @property
    def created_at(self) -> float:
        return self.info.get("started_at") or min((s.started_at for s in self.steps()), default=0.0)

    def __repr__(self) -> str:
        return f"Run('{self.pathspec}')"


class Step:
    def __init__(self, run: Run, name: str):
        self.run = run
        self.id = name
        self.pathspec = f"{run.pathspec}/{name}"

    def tasks(self) -> list["Task"]:
        names = self.run._ds.tasks(self.run.id, self.id)
        out = [Task(self, n) for n in names]
        return sorted(out, key=lambda t: split_task_id(t.id))

    def __iter__(self) -> Iterator["Task"]:
        return iter(self.tasks())

    def __getitem__(self, task_id: str) -> "Task":
        tasks = self.run._ds.tasks(self.run.id, self.id)
        if task_id not in tasks:
            raise KeyError(f"step {self.pathspec} has no task {task_id!r}{_did_you_mean(task_id, tasks)}")
        return Task(self, task_id)

    @property
    def task(self) -> "Task":
        """The step's task (the first one, for a foreach body)."""
        tasks = self.tasks()
        if not tasks:
            raise KeyError(f"step {self.pathspec} has no tasks")
        return tasks[0]

    @property
    def started_at(self) -> float:
        times = [t.metadata.get("started_at", 0.0) for t in self.tasks() if t.metadata]
        return min(times) if times else float("inf")

    def __repr__(self) -> str:
        return f"Step('{self.pathspec}')"


class Data:
    """A task's artifacts as attributes, each loaded when first read."""

    def __init__(self, task: "Task"):
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        shas = self._task.metadata.get("artifacts", {})
        if name not in shas:
            raise AttributeError(f"task {self._task.pathspec} has no artifact {name!r}")
        return self._task.step.run._ds.get_value(shas[name])

    def __dir__(self) -> list[str]:
        return sorted(self._task.metadata.get("artifacts", {}))

    def __contains__(self, name: str) -> bool:
        return name in self._task.metadata.get("artifacts", {})


class Task:
    def __init__(self, step: Step, task_id: str):
        self.step = step
        self.id = task_id
        self.pathspec = f"{step.pathspec}/{task_id}"
        self._meta: dict | None = None

    @property
    def metadata(self) -> dict:
        if self._meta is None:
            run = self.step.run
            self._meta = run._ds.read_done(run.id, self.step.id, self.id) or {}
        return self._meta

    @property
    def done(self) -> bool:
        """It finished and its results are stored (a failure @catch caught counts)."""
        return bool(self.metadata)

    @property
    def successful(self) -> bool:
        """Done without a failure (as in Metaflow, a caught failure is not a success)."""
        return self.done and not self.metadata.get("caught")

    @property
    def finished(self) -> bool:
        return self.done or bool(self.attempts())

    @property
    def data(self) -> Data:
        return Data(self)

    @property
    def artifacts(self) -> list[str]:
        return sorted(self.metadata.get("artifacts", {}))

    @property
    def index(self) -> int | None:
        """The index of this task in its innermost foreach (None outside any), as in Metaflow."""
        path = self.metadata.get("index") or []
        return path[-1] if path else None

    @property
    def index_path(self) -> tuple[int, ...]:
        """One index per enclosing foreach, outermost first."""
        return tuple(self.metadata.get("index") or ())

    def attempts(self) -> list[int]:
        """Every attempt started; the one that finished the task counts even when it stored no log."""
        run = self.step.run
        found = set(run._ds.attempts(run.id, self.step.id, self.id))
        if isinstance(self.metadata.get("attempt"), int):
            found.add(self.metadata["attempt"])
        return sorted(found)

    @property
    def last_attempt(self) -> int | None:
        """The attempt that decided the task: the one that finished it, else the latest one."""
        if self.metadata.get("attempt") is not None:
            return self.metadata["attempt"]
        attempts = self.attempts()
        return attempts[-1] if attempts else None

    @property
    def failed(self) -> bool:
        """Not done, and its last attempt recorded a failure."""
        last = self.last_attempt
        return not self.done and last is not None and self.failure(last) is not None

    def failure_location(self, attempt: int) -> str:
        run = self.step.run
        return run._ds.location(f"runs/{run.id}/{self.step.id}/{self.id}/attempt-{attempt}/failure.json")

    def log_tail(self, lines: int = 20, attempt: int | None = None) -> list[str]:
        """The last lines the task printed (stdout, then stderr) in one attempt (default: the last)."""
        if attempt is None:
            attempt = self.last_attempt
        if attempt is None:
            return []
        text = self._log("stdout", attempt) + self._log("stderr", attempt)
        return text.splitlines()[-lines:]

    def _log(self, name: str, attempt: int | None = None) -> str:
        run = self.step.run
        attempts = self.attempts()
        if attempt is None:
            attempt = self.metadata.get("attempt", attempts[-1] if attempts else 0)
        data = run._ds.read_attempt_file(run.id, self.step.id, self.id, attempt, name)
        return data.decode("utf-8", "replace") if data else ""

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    def failure(self, attempt: int) -> dict | None:
        run = self.step.run
        raw = run._ds.read_attempt_file(run.id, self.step.id, self.id, attempt, "failure.json")
        return json.loads(raw) if raw else None

    def __getitem__(self, name: str) -> Any:
        return getattr(self.data, name)

    def __repr__(self) -> str:
        return f"Task('{self.pathspec}')"


def find_run(spec: str, datastore: str | None = None) -> Run:
    """``Flow/12`` or just ``12`` (when one flow in the datastore has that run)."""
    datastore = datastore or default_datastore()
    if "/" in spec:
        return Run(spec.split("/")[0] + "/" + spec.split("/")[1], datastore)
    from .storage import open_storage

    storage = open_storage(datastore)
    matches = [flow for flow in storage.list("") if spec in storage.list(f"{flow}/runs")]
    if not matches:
        raise KeyError(f"no run {spec!r} in {datastore}")
    if len(matches) > 1:
        raise KeyError(f"run {spec!r} exists for several flows ({', '.join(matches)}); write FLOW/{spec}")
    return Run(f"{matches[0]}/{spec}", datastore)


def resolve(pathspec: str, datastore: str | None = None) -> tuple[Run, Step | None, list[Task]]:
    """``FLOW/RUN[/STEP[/TASK]]`` (or ``RUN[/STEP[/TASK]]`` when one flow has
    that run): the run, the step if named, and its tasks (one if named)."""
    parts = pathspec.strip("/").split("/")
    flow_given = len(parts) > 1 and not parts[0].isdigit()
    run = find_run("/".join(parts[:2]) if flow_given else parts[0], datastore)
    rest = parts[2:] if flow_given else parts[1:]
    if not rest:
        return run, None, []
    step = run[rest[0]]
    return run, step, [step[rest[1]]] if len(rest) > 1 else step.tasks()


def _did_you_mean(word: str, candidates) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), sorted(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
