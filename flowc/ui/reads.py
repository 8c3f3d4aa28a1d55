"""What the pages show, read from the datastore with the runtime's client.

Nothing is kept between requests: a run that is going changes under us, and
the datastore may be a folder another process writes or an object store.
Every problem becomes a ``UIError`` with an HTTP status and a sentence.
"""

from __future__ import annotations

import json
import os
import reprlib
import time
from dataclasses import dataclass, field
from typing import Any

from flowc.runtime import card_store
from flowc.runtime.client import Run, Task
from flowc.runtime.datastore import DatastoreError, FlowDatastore
from flowc.runtime.storage import LocalStorage, open_storage

RUNS_ON_INDEX = 20
MAX_TASKS_SHOWN = 500  # per step; a foreach of 10,000 is summed up, not listed
ARTIFACT_LOAD_LIMIT = 1 << 20  # bytes: larger values are loaded on their own page only
REPR_SHORT, REPR_LONG = 300, 100_000
LOG_LIMIT = 256 * 1024  # per stream and attempt: the tail is shown


class UIError(Exception):
    """A page that cannot be shown: its HTTP status and why, for a person."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- the store

class Datastore:
    def __init__(self, url: str):
        self.url = url
        self.storage = open_storage(url)

    @property
    def where(self) -> str:
        return self.storage.url

    def present(self) -> bool:
        if isinstance(self.storage, LocalStorage):
            return os.path.isdir(self.storage.root)
        return bool(self.storage.fs.exists(self.storage.root))

    def check_present(self) -> None:
        if not self.present():
            raise UIError(503, f"the datastore {self.where} is not there any more "
                               "(was it removed, moved or unmounted?)")

    def not_found(self, message: str) -> UIError:
        """A 404, unless the reason is that the whole datastore is gone."""
        self.check_present()
        return UIError(404, message)

    def flows(self) -> list[str]:
        self.check_present()
        return sorted(n for n in self.storage.list("") if not n.startswith(".") and self.storage.list(f"{n}/runs"))

    def flow_ds(self, flow: str) -> FlowDatastore:
        return FlowDatastore(self.url, flow)

    def run(self, flow: str, run: str) -> Run:
        try:
            return Run(f"{flow}/{run}", self.url)
        except (KeyError, ValueError):
            known = self.flows()
            if flow not in known:
                raise self.not_found(f"no flow {flow!r} in {self.where}"
                                     + (f" (flows: {', '.join(known)})" if known else " (it holds no runs)")) from None
            raise self.not_found(f"flow {flow} has no run {run!r} in {self.where}") from None


# ---------------------------------------------------------------- run lists

@dataclass
class RunRow:
    flow: str
    id: str
    status: str
    started: float | None
    finished: float | None

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        end = self.finished if self.finished is not None else (time.time() if self.status == "running" else None)
        return None if end is None else max(0.0, end - self.started)


def _sort_key(name: str) -> tuple:
    return (0, -int(name), "") if name.isdigit() else (1, 0, name)


def run_rows(store: Datastore, flow: str, limit: int | None = None) -> tuple[list[RunRow], int]:
    """A flow's runs, newest first (at most ``limit``), and how many it has."""
    names = sorted(store.flow_ds(flow).runs(), key=_sort_key)
    rows = []
    for name in names[:limit]:
        try:
            run = Run(f"{flow}/{name}", store.url)
        except KeyError:  # a run id claimed a moment ago, nothing written yet
            continue
        info = run.info
        started, finished = info.get("started_at"), info.get("finished_at")
        status = run.status
        if started is None:  # an orchestrator's run: its tasks tell
            times = [(t.metadata.get("started_at"), t.metadata.get("finished_at")) for s in run for t in s if t.done]
            started = min((a for a, _ in times if a), default=None)
            finished = max((b for _, b in times if b), default=None) if status != "running" else None
        rows.append(RunRow(flow, run.id, status, started, finished))
    return rows, len(names)


# ---------------------------------------------------------------- one run

@dataclass
class Attempt:
    number: int
    state: str  # done, caught, failed, interrupted, running
    started: float | None
    finished: float | None
    error: str | None = None


@dataclass
class TaskRow:
    step: str
    id: str
    state: str  # done, caught, failed, interrupted, running, unknown
    attempts: list[Attempt]
    meta: dict
    task: Task

    @property
    def started(self) -> float | None:
        return min((a.started for a in self.attempts if a.started), default=None)

    @property
    def finished(self) -> float | None:
        return self.meta.get("finished_at") or max((a.finished for a in self.attempts if a.finished), default=None)

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.finished is None else self.finished - self.started


@dataclass
class StepRow:
    name: str
    kind: str
    state: str  # done, failed, running, pending (as the DAG picture takes them)
    tasks: list[TaskRow] = field(default_factory=list)
    total: int = 0  # tasks found, when more than are listed
    reached_at: float | None = None  # when the step could start (its parents' tasks ended)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tasks:
            out[t.state] = out.get(t.state, 0) + 1
        return out


@dataclass
class RunPage:
    flow: str
    id: str
    status: str
    info: dict
    started: float | None
    finished: float | None
    steps: list[StepRow]
    ir: dict
    ir_inferred: bool

    @property
    def states(self) -> dict[str, str]:
        return {s.name: s.state for s in self.steps}

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        end = self.finished if self.finished is not None else (time.time() if self.status == "running" else None)
        return None if end is None else max(0.0, end - self.started)

    @property
    def stamp(self) -> str:
        """Changes whenever something the page shows changes (the live refresh compares it)."""
        parts = [self.status] + [f"{s.name}:{s.state}:{s.total}:{sorted(s.counts.items())}" for s in self.steps]
        import hashlib

        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def run_page(store: Datastore, flow: str, run_id: str) -> RunPage:
    run = store.run(flow, run_id)
    status = run.status
    info = run.info
    ir, inferred = load_ir(run)
    order = [s["name"] for s in ir.get("steps", [])]
    kinds = {s["name"]: s.get("kind", "linear") for s in ir.get("steps", [])}
    found = store.flow_ds(flow).steps(run.id)
    names = order + sorted(set(found) - set(order))
    rows: dict[str, StepRow] = {}
    for name in names:
        row = StepRow(name, kinds.get(name, "linear"), "pending")
        if name in found:
            tasks = run[name].tasks()
            row.total = len(tasks)
            row.tasks = [task_row(t, status) for t in tasks[:MAX_TASKS_SHOWN]]
        rows[name] = row
    _judge_steps(rows, ir, status, run)
    started = info.get("started_at") or min((t.started for r in rows.values() for t in r.tasks if t.started),
                                            default=None)
    finished = info.get("finished_at")
    if finished is None and status != "running":
        finished = max((t.finished for r in rows.values() for t in r.tasks if t.finished), default=None)
    return RunPage(flow, run.id, status, info, started, finished, list(rows.values()), ir, inferred)


def task_row(task: Task, run_status: str) -> TaskRow:
    meta = task.metadata
    attempts = []
    for n in task.attempts():
        if meta and n == meta.get("attempt"):
            attempts.append(Attempt(n, "caught" if meta.get("caught") else "done", meta.get("started_at"),
                                    meta.get("finished_at"), meta.get("caught")))
            continue
        record = _failure(task, n)
        if record is not None:
            error = str(record.get("error", "?"))
            state = "interrupted" if error.startswith("TaskInterrupted") else "failed"
            attempts.append(Attempt(n, state, record.get("started_at"), record.get("finished_at"), error))
        else:
            attempts.append(Attempt(n, "running" if run_status == "running" else "unknown", None, None))
    if meta:
        state = "caught" if meta.get("caught") else "done"
    elif attempts:
        state = attempts[-1].state
    else:
        state = "running" if run_status == "running" else "unknown"
    return TaskRow(task.step.id, task.id, state, attempts, meta, task)


def _failure(task: Task, attempt: int) -> dict | None:
    try:
        return task.failure(attempt)
    except ValueError:  # a half-written record from a crash
        return {"error": "an unreadable failure record"}


def _judge_steps(rows: dict[str, StepRow], ir: dict, status: str, run: Run) -> None:
    """Each step's state for the picture. `flowc run` stores a task when it
    ends, so a step is running when the run goes on and the step was reached
    (its parents' tasks went there) but has not finished all its tasks."""
    parents: dict[str, list[str]] = {}
    for s in ir.get("steps", []):
        for child in s.get("next", []):
            parents.setdefault(child, []).append(s["name"])
    start = ir.get("start")
    kinds = {s["name"]: s.get("kind") for s in ir.get("steps", [])}
    order = [n for n in ir.get("order", []) if n in rows]
    for name in order + [n for n in rows if n not in order]:  # parents first: a join waits for them
        row = rows[name]
        states = {t.state for t in row.tasks}
        came = [t for p in parents.get(name, []) if p in rows for t in rows[p].tasks
                if name in (t.meta.get("taken") or [])]
        if kinds.get(name) == "join" and any(rows[p].state != "done" for p in parents.get(name, []) if p in rows):
            came = []  # not all its inputs are there: not reached yet
        row.reached_at = (max((t.finished for t in came if t.finished), default=None) if came
                          else (run.info.get("started_at") if name == start else None))
        if states & {"failed", "interrupted"}:
            row.state = "failed"
        elif row.tasks and states <= {"done", "caught"}:
            expected = sum(t.meta.get("foreach_count", 0) for t in came) if _after_foreach(name, parents, ir) else 0
            row.state = "running" if status == "running" and expected > row.total else "done"
        elif status == "running" and (row.tasks or came or name == start):
            row.state = "running"
        elif row.tasks:
            row.state = "failed"  # unfinished tasks in a run that ended
        else:
            row.state = "pending"


def _after_foreach(name: str, parents: dict[str, list[str]], ir: dict) -> bool:
    kinds = {s["name"]: s.get("kind") for s in ir.get("steps", [])}
    return any(kinds.get(p) == "foreach" for p in parents.get(name, []))


def load_ir(run: Run) -> tuple[dict, bool]:
    """The IR `flowc run` stored with the run; for a run without one (an
    orchestrator's), a graph inferred from where its tasks went."""
    raw = run._ds.read_run_file(run.id, "ir.json")
    if raw:
        try:
            data = json.loads(raw)
            if isinstance(data, dict) and isinstance(data.get("steps"), list):
                return data, False
        except ValueError:
            pass
    steps: dict[str, dict] = {}
    for step in run:
        entry = steps.setdefault(step.id, {"name": step.id, "kind": "linear", "next": []})
        for task in step:
            meta = task.metadata
            for child in meta.get("taken") or []:
                if child not in entry["next"]:
                    entry["next"].append(child)
            if meta.get("foreach_count") is not None:
                entry["kind"] = "foreach"
            if len(meta.get("inputs") or []) > 1:
                entry["kind"] = "join"
    for entry in steps.values():
        if not entry["next"] and entry["kind"] == "linear":
            entry["kind"] = "end"
    first = next(iter(steps), None)
    return {"name": run.flow_name, "start": "start" if "start" in steps else first, "steps": list(steps.values())}, True


# ---------------------------------------------------------------- one task

@dataclass
class ArtifactRow:
    name: str
    sha: str
    size: int | None
    text: str | None  # the truncated repr, when loaded
    error: str | None  # why it could not be loaded here


@dataclass
class LogRow:
    attempt: Attempt
    stdout: str
    stderr: str
    cut: bool
    traceback: str | None


@dataclass
class TaskPage:
    run: RunPage
    row: TaskRow
    artifacts: list[ArtifactRow]
    logs: list[LogRow]
    cards: list[card_store.CardRef]


def find_task(store: Datastore, page: RunPage, step: str, task: str) -> TaskRow:
    row = next((s for s in page.steps if s.name == step), None)
    if row is None or not row.total:
        raise store.not_found(f"run {page.flow}/{page.id} has no step {step!r}" if row is None
                              else f"step {step!r} of {page.flow}/{page.id} has no tasks yet")
    found = next((t for t in row.tasks if t.id == task), None)
    if found is None:
        run = store.run(page.flow, page.id)
        if task not in store.flow_ds(page.flow).tasks(run.id, step):
            raise store.not_found(f"step {page.flow}/{page.id}/{step} has no task {task!r}")
        found = task_row(run[step][task], page.status)  # past the listed ones
    return found


def task_page(store: Datastore, flow: str, run_id: str, step: str, task: str) -> TaskPage:
    page = run_page(store, flow, run_id)
    row = find_task(store, page, step, task)
    ds = row.task.step.run._ds
    artifacts = []
    for name, sha in sorted((row.meta.get("artifacts") or {}).items()):
        size = blob_size(ds, sha)
        if size is not None and size > ARTIFACT_LOAD_LIMIT:
            artifacts.append(ArtifactRow(name, sha, size, None, None))
            continue
        try:
            artifacts.append(ArtifactRow(name, sha, size, safe_repr(ds.get_value(sha), REPR_SHORT), None))
        except Exception as exc:  # not importable here, missing, corrupt: said, not raised
            artifacts.append(ArtifactRow(name, sha, size, None, load_problem(exc)))
    logs = [log_row(row.task, a) for a in row.attempts]
    try:
        cards = card_store.list_cards(ds, page.id, step, task)
    except (OSError, ValueError):
        cards = []
    return TaskPage(page, row, artifacts, logs, cards)


def log_row(task: Task, attempt: Attempt) -> LogRow:
    out, cut_out = _tail(task._log("stdout", attempt.number))
    err, cut_err = _tail(task._log("stderr", attempt.number))
    record = _failure(task, attempt.number) if attempt.state in ("failed", "interrupted") else None
    return LogRow(attempt, out, err, cut_out or cut_err, (record or {}).get("traceback"))


def _tail(text: str) -> tuple[str, bool]:
    return (text, False) if len(text) <= LOG_LIMIT else (text[-LOG_LIMIT:], True)


def artifact_value(store: Datastore, flow: str, run_id: str, step: str, task: str, name: str) -> tuple[TaskPage, str]:
    """One artifact's repr (long form) and its task; a 500 when it cannot be loaded here."""
    page = run_page(store, flow, run_id)
    row = find_task(store, page, step, task)
    shas = row.meta.get("artifacts") or {}
    if name not in shas:
        raise store.not_found(f"task {flow}/{run_id}/{step}/{task} has no artifact {name!r}"
                              + (f" (its artifacts: {', '.join(sorted(shas))})" if shas else ""))
    ds = row.task.step.run._ds
    try:
        value = ds.get_value(shas[name])
    except Exception as exc:
        raise UIError(500, f"artifact {name!r} of {flow}/{run_id}/{step}/{task} cannot be loaded here: "
                           f"{load_problem(exc)}") from None
    return TaskPage(page, row, [], [], []), safe_repr(value, REPR_LONG)


def load_problem(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (ModuleNotFoundError, AttributeError, ImportError)):
        text += " (it was pickled by the flow's Python; the class it needs is not importable by flowc ui)"
    elif isinstance(exc, DatastoreError):
        text = str(exc)
    return text


def blob_size(ds: FlowDatastore, sha: str) -> int | None:
    storage, key = ds.storage, ds._data_key(sha)
    try:
        if isinstance(storage, LocalStorage):
            return os.path.getsize(storage._p(key))
        return int(storage.fs.size(storage._p(key)))
    except (OSError, TypeError, ValueError):
        return None


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxset, _REPR.maxtuple = 2000, 2000, 50, 50, 50, 50
_REPR.maxlevel = 4


def safe_repr(value: Any, limit: int) -> str:
    """A repr that never raises and never grows past ``limit`` characters."""
    try:
        text = _REPR.repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def card_html(store: Datastore, flow: str, run_id: str, step: str, task: str, attempt: int, stem: str) -> str:
    run = store.run(flow, run_id)
    ds = run._ds
    for ref in card_store.list_cards(ds, run.id, step, task, attempt):
        if ref.stem == stem:
            html = card_store.read_card_html(ds, ref)
            if html is not None:
                return html
    raise store.not_found(f"task {flow}/{run_id}/{step}/{task} has no card {stem!r} in attempt {attempt}")
