"""`flowc run`: the local interpreter, the embedded default target.

Runs a whole flow on this machine: independent tasks in parallel (up to
``max_workers``), each in its own process, so a crash or ``sys.exit`` in
user code fails that task only. Each task is the same task every
orchestrator runs (runtime/task.py); what is ready next is decided by
runtime/inputs.py, the same function tasks use to find their inputs.

Tasks start as forks of this process (a warm interpreter: a task costs
milliseconds, not a Python start-up) when the datastore is a local folder
and the step runs in this interpreter; otherwise by starting
``python -m flowc.runtime step`` in a new process. A forked task is the
step's own process, watched by this loop as the task command watches its
step (runtime/supervise.py: the deadline, the output kept for its logs,
the record of a step that did not come back): one process per task. It is
forked by the fork server (runtime/forkserver.py), a copy of this process
made before the first task, so that this loop, which writes memory all
the time, shares none with the tasks.
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from .datastore import DatastoreError, FlowDatastore
from .identity import index_text, task_id
from .inputs import input_tasks, latest, slim
from .plan import FlowPlan
from .progress import Reporter

STOP_GRACE_SECONDS = 10.0  # how long an interrupted run waits for its tasks to record it and end


@dataclass(frozen=True)
class TaskRef:
    """A task to run: its step, foreach index path and loop iteration."""

    step: str
    index: tuple[int, ...] = ()
    iteration: int = 0

    @property
    def tid(self) -> str:
        return task_id(self.index, self.iteration)


@dataclass
class Running:
    """A task's process: ``python -m flowc.runtime step`` (phase "command": it
    watches its step itself, and its output arrives on one pipe), or, forked
    here, the step's own process (phase "step", watched here: supervise.Child)
    and, if that did not come back, the process that records why (phase "after")."""

    ref: TaskRef
    attempt: int
    poll: Callable[[], int | None]  # the exit status (waitpid's), None while running
    close: Callable[[], None]
    fds: list = field(default_factory=list)  # output pipes watched
    phase: str = "command"
    watch: Any = None  # supervise.Child (phases "step" and "after")
    spec: Any = None  # the TaskSpec of a forked task
    logs: tuple[bytes, bytes] = (b"", b"")  # stdout, stderr of the step's process (phase "after")
    buffers: dict = field(default_factory=dict)  # pipe -> its last, unfinished line
    tail: list = field(default_factory=list)  # the last lines it printed
    pidfd: int = -1  # readable once the process has exited (Linux), watched with the output
    exit_wakes: bool = False  # its exit wakes the loop (a pidfd, or the fork server's exit pipe)
    release: Callable[[], None] = lambda: None  # its exit handled: the fork server may reap it


@dataclass
class RunResult:
    """How a run ended: its id, whether it succeeded, what failed or was interrupted."""

    run_id: str
    ok: bool
    failed: list[tuple[str, str, int]] = field(default_factory=list)  # (step, task, attempt)
    interrupted: list[str] | None = None  # when interrupted: the tasks (step/task) that were running


class LocalRunner:
    def __init__(self, plan: FlowPlan, flow_path: str, ir_path: str, datastore: str, run_id: str | None = None,
                 params: dict[str, Any] | None = None, max_workers: int | None = None,
                 origin_run_id: str | None = None, rerun_steps: set[str] | None = None,
                 reporter: Reporter | None = None, python: Callable[[str], str | None] | None = None,
                 trigger: list[dict] | None = None, env: dict[str, str] | None = None):
        self.plan = plan
        self.flow_path = os.path.abspath(flow_path)
        self.ir_path = os.path.abspath(ir_path)
        self.datastore_url = datastore
        self.ds = FlowDatastore(datastore, plan.name)
        self.params = dict(params or {})
        self.trigger = trigger  # the events that started the run (the start step keeps them)
        self.env = dict(env or {})  # variables every task gets besides this process's (FLOWC_EVENTS)
        self.max_workers = max(1, max_workers or default_workers())
        self.origin_run_id = origin_run_id
        self.rerun_steps = rerun_steps or set()
        self.requested_run_id = run_id
        self.reporter = reporter
        # which interpreter runs a step: None means this one (fork); issue: per-step environments
        self.python_for = python or (lambda step: None)
        self.fork_ok = hasattr(os, "fork") and "://" not in datastore
        if self.fork_ok:
            self._warm_up()

        self.done: dict[tuple[str, str], dict] = {}
        self.scheduled: set[tuple[str, str]] = set()
        self.arrived: dict[tuple[str, str], int] = {}  # (join, task id) -> finished tasks that went to it
        self.cloned: set[tuple[str, str]] = set()
        self.queue: deque[tuple[TaskRef, int]] = deque()
        self.delayed: list[tuple[float, TaskRef, int]] = []
        self.running: dict[int, Running] = {}
        self.failures: list[tuple[str, str, int]] = []
        self.selector = selectors.DefaultSelector()
        self.fork_server: Any = None  # forkserver.ForkServer once a task is forked; False: fork here

    # ------------------------------------------------------------ lookups

    def lookup(self, step: str, tid: str) -> dict | None:
        return self.done.get((step, tid))

    def origin_lookup(self, step: str, tid: str) -> dict | None:
        return self.ds.read_done(self.origin_run_id, step, tid)

    # ------------------------------------------------------------ run

    def start_run(self) -> str:
        from .identity import hostname

        claim = json.dumps({"pid": os.getpid(), "host": hostname(), "at": time.time(),
                            "params": self.params}, sort_keys=True, default=str).encode()
        try:
            if self.requested_run_id:
                from .identity import safe_run_id

                self.run_id = safe_run_id(self.requested_run_id)
                # claimed atomically once: a second run with the same id is refused,
                # as is a run id some orchestrator's tasks already wrote into
                if not self.ds.claim_run_id(self.run_id, claim) or self.ds.steps(self.run_id):
                    raise RunError(self.taken_message())
            else:
                self.run_id = self.ds.new_run_id(claim)
        except DatastoreError as exc:
            raise RunError(str(exc)) from None
        meta = {"flow": self.plan.name, "run_id": self.run_id, "params": self.params, "started_at": time.time(),
                "status": "running", "origin_run_id": self.origin_run_id, "source_sha": self.plan.source_sha,
                "runner": "flowc run"}
        try:
            self.ds.write_run_file(self.run_id, "run.json", json.dumps(meta, indent=1, sort_keys=True).encode())
        except DatastoreError as exc:
            raise RunError(str(exc)) from None
        return self.run_id

    def taken_message(self) -> str:
        name = f"{self.plan.name}/{self.run_id}"
        who = ""
        try:
            held = json.loads(self.ds.read_run_file(self.run_id, "claim.json") or b"{}")
            if held.get("pid"):
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(held.get("at", 0)))
                who = f" (taken by process {held['pid']} on {held.get('host', '?')} at {when})"
        except ValueError:
            pass
        return (f"run {name} already exists in {self.ds.location()}{who}: a run id is used once; "
                f"choose another --run-id, or continue that run with `flowc resume {name}`")

    def run(self) -> RunResult:
        if not hasattr(self, "run_id"):
            self.start_run()
        if self.reporter is None:
            self.reporter = Reporter(self.plan.name, self.run_id)
        self.reporter.run_id = self.run_id
        self.push(TaskRef(self.plan.start))
        previous = _on_sigterm_interrupt()
        interrupted: list[str] | None = None
        try:
            while self.queue or self.running or self.delayed:
                self.release_delayed()
                while self.queue and len(self.running) < self.max_workers and not self.failures:
                    ref, attempt = self.queue.popleft()
                    self.launch(ref, attempt)
                if self.failures and not self.running:
                    break
                self.wait()
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see _on_sigterm_interrupt)
            interrupted = sorted(f"{t.ref.step}/{t.ref.tid}" for t in self.running.values())
            self.stop_all()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self._drop_fork_server()
        if interrupted is not None:
            self.finish_run(False, interrupted)
            return RunResult(self.run_id, False, list(self.failures), interrupted=interrupted)
        ok = not self.failures and (self.plan.end, task_id(())) in self.done
        self.finish_run(ok)
        return RunResult(self.run_id, ok, list(self.failures))

    def stop_all(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """End every running task: SIGTERM (each task records that it was
        interrupted and ends its step's processes), then SIGKILL after
        ``grace`` seconds; reap them all, so none is left behind."""
        for pid, task in list(self.running.items()):
            self._stop(pid, task, signal.SIGTERM)
        deadline = time.time() + grace
        try:
            while self.running and time.time() < deadline:
                self.reap()
                time.sleep(0.02)
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            pass
        for pid, task in list(self.running.items()):
            self._stop(pid, task, signal.SIGKILL)
        while self.running:
            self.reap()
            if self.running:
                time.sleep(0.02)

    @staticmethod
    def _stop(pid: int, task: Running, signum: int) -> None:
        if task.watch is not None:  # the step's process group, and remembered: the task records it
            task.watch.interrupt(signum)
        else:
            _signal(pid, signum)

    def reap(self) -> None:
        """Collect the tasks that ended while stopping: their output, and a
        failure record for any that left none; never a retry."""
        for pid, task in list(self.running.items()):
            status = task.poll()
            if status is None:
                continue
            del self.running[pid]
            code = self.ended(task, status)
            if code is None:
                continue  # its failure is being recorded by a process of its own
            try:
                self.record_crash(task, code)
            except (OSError, DatastoreError):
                pass

    def finish_run(self, ok: bool, interrupted: list[str] | None = None) -> None:
        raw = self.ds.read_run_file(self.run_id, "run.json")
        meta = json.loads(raw) if raw else {}
        status = "interrupted" if interrupted is not None else "succeeded" if ok else "failed"
        meta.update(status=status, finished_at=time.time())
        if interrupted is not None:
            meta["interrupted_tasks"] = interrupted
        try:
            self.ds.write_run_file(self.run_id, "run.json", json.dumps(meta, indent=1, sort_keys=True).encode())
        except DatastoreError as exc:  # the run's outcome is still reported
            if self.reporter is not None:
                self.reporter.info(f"could not record the run's status: {exc}")

    # ------------------------------------------------------------ scheduling

    def push(self, ref: TaskRef, attempt: int = 0) -> None:
        key = (ref.step, ref.tid)
        if attempt == 0:
            if key in self.scheduled:
                return
            self.scheduled.add(key)
        self.queue.append((ref, attempt))

    def release_delayed(self) -> None:
        now = time.time()
        keep = []
        for when, ref, attempt in self.delayed:
            if when <= now:
                self.queue.append((ref, attempt))
            else:
                keep.append((when, ref, attempt))
        self.delayed = keep

    def successors(self, ref: TaskRef, meta: dict) -> None:
        step = self.plan.steps[ref.step]
        for child in meta.get("taken", []):
            cs = self.plan.steps[child]
            if child == step.name:
                self.push(TaskRef(child, ref.index, ref.iteration + 1))
            elif cs.is_join:
                jidx = ref.index[:cs.depth]
                if (child, task_id(jidx)) not in self.scheduled and self.join_ready(cs, jidx):
                    self.push(TaskRef(child, jidx))
            elif step.kind == "foreach":
                count = meta["foreach_count"]
                self.reporter.expect(child, count)
                for i in range(count):
                    self.push(TaskRef(child, ref.index + (i,)))
            else:
                self.push(TaskRef(child, ref.index))

    def join_ready(self, join, jidx: tuple[int, ...]) -> bool:
        """Whether every input of a join task has finished. Each finished
        task that went to the join counts one arrival; the full check
        (inputs.input_tasks, which the join task itself runs) waits until as
        many have arrived as the join has inputs, so a foreach join over n
        items costs n arrivals and one scan, not n scans of n items."""
        key = (join.name, task_id(jidx))
        arrived = self.arrived[key] = self.arrived.get(key, 0) + 1
        split = self.plan.steps[join.closes]
        if split.kind == "foreach":
            hit = latest(split, jidx, self.lookup)
            needed = (hit[1].get("foreach_count") or 0) if hit is not None else 0
        else:
            needed = len(join.parent_groups)
        return arrived >= needed and input_tasks(self.plan, join, jidx, 0, self.lookup) is not None

    def completed(self, ref: TaskRef, meta: dict, cloned: bool = False) -> None:
        # what deciding readiness reads (inputs.READS), not the whole record: a run keeps one per task
        self.done[(ref.step, ref.tid)] = slim(meta)
        if cloned:
            self.cloned.add((ref.step, ref.tid))
        self.reporter.task_finished(ref.step, ref.tid, True, cloned)
        self.successors(ref, meta)

    # ------------------------------------------------------------ resume

    def try_clone(self, ref: TaskRef) -> bool:
        """Reuse a task of the original run when it finished there and all
        its inputs were reused too (and its step is not forced to rerun)."""
        if not self.origin_run_id or ref.step in self.rerun_steps:
            return False
        meta = self.origin_lookup(ref.step, ref.tid)
        if meta is None:
            return False
        step = self.plan.steps[ref.step]
        found = input_tasks(self.plan, step, ref.index, ref.iteration, self.lookup)
        if found is None or any((s, t) not in self.cloned for s, t in found):
            return False
        clone = dict(meta, run_id=self.run_id, origin_run_id=self.origin_run_id,
                     cloned_from=f"{self.plan.name}/{self.origin_run_id}/{ref.step}/{ref.tid}")
        self.ds.write_done(self.run_id, ref.step, ref.tid, clone)
        self.reporter.task_started(ref.step, ref.tid, 0)
        self.completed(ref, clone, cloned=True)
        return True

    # ------------------------------------------------------------ processes

    def spec_args(self, ref: TaskRef, attempt: int) -> list[str]:
        args = ["step", "--flow", self.flow_path, "--ir", self.ir_path, "--step", ref.step,
                "--run-id", self.run_id, "--index", index_text(ref.index), "--attempt", str(attempt),
                "--datastore", self.datastore_url]
        if ref.iteration:
            args += ["--iteration", str(ref.iteration)]
        if ref.step == self.plan.start:
            args += ["--params", json.dumps(self.params)]
            if self.trigger:
                args += ["--trigger", json.dumps(self.trigger)]
        if self.origin_run_id:
            args += ["--origin-run-id", self.origin_run_id]
        return args

    def launch(self, ref: TaskRef, attempt: int) -> None:
        if attempt == 0 and self.try_clone(ref):
            return
        self.reporter.task_started(ref.step, ref.tid, attempt)
        python = self.python_for(ref.step)
        if python is None and self.fork_ok:
            self._fork_step(ref, attempt)
            return
        # a step environment's python runs isolated (step_process_env);
        # the lifeline: the task ends when this runner does (runtime/supervise.py)
        # a process group of its own: Ctrl-C reaches the runner only, which stops
        # each task with SIGTERM (stop_all) rather than raising KeyboardInterrupt in it
        # imported here: a run that forks its tasks never imports subprocess, whose threading
        # would run its at-fork handler in every task (tests/runtime/test_forkserver.py)
        import subprocess

        life = self._lifeline()
        group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
        proc = subprocess.Popen([python or sys.executable, "-m", "flowc.runtime", *self.spec_args(ref, attempt)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                pass_fds=(life,),
                                env={**self._task_env(python), **self.env, "FLOWC_LIFELINE_FD": str(life)},
                                **group)
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        self._watch(proc.pid, Running(ref, attempt, _raw_poller(proc.pid, proc), proc.stdout.close, fds=[fd]))

    def _watch(self, pid: int, task: Running) -> None:
        self.running[pid] = task
        for fd in task.fds:
            self.selector.register(fd, selectors.EVENT_READ, pid)
        if task.exit_wakes:  # started by the fork server, whose exit pipe is watched
            return
        try:  # the exit itself wakes the loop up: no polling between a task's last output and its end
            task.pidfd = os.pidfd_open(pid)
            self.selector.register(task.pidfd, selectors.EVENT_READ, None)
            task.exit_wakes = True
        except (AttributeError, OSError):
            task.pidfd = -1

    def _lifeline(self) -> int:
        """The read end of a pipe whose write end only this runner holds."""
        if not hasattr(self, "_life"):
            self._life = os.pipe()  # both ends close on exec except where passed
        return self._life[0]

    def _warm_up(self) -> None:
        """Load once, here, what every forked task would otherwise load again:
        the task executor's modules and the IR."""
        from . import exceptions, metaflow_shim, params, supervise, task  # noqa: F401

        supervise._load_kernel_calls()  # each task asks the kernel to end it with the runner

        FlowPlan.load(self.ir_path)
        self._params = json.loads(json.dumps(self.params))  # as a task command reads --params

    def task_spec(self, ref: TaskRef, attempt: int):
        """The task a forked process runs: what spec_args says to a task command."""
        from .task import TaskSpec

        return TaskSpec(flow=self.flow_path, ir=self.ir_path, step=ref.step, run_id=self.run_id,
                        index=index_text(ref.index), attempt=attempt, datastore=self.datastore_url,
                        iteration=ref.iteration, params=dict(self._params) if ref.step == self.plan.start else {},
                        origin_run_id=self.origin_run_id,
                        trigger=self.trigger if ref.step == self.plan.start else None)

    def _fork_step(self, ref: TaskRef, attempt: int) -> None:
        """Fork the step's own process and watch it here, as the task command
        would (runtime/supervise.py): one process per task, its output kept
        by this loop, its deadline watched by it."""
        from .task import step_process

        spec = self.task_spec(ref, attempt)
        self._start_watched(Running(ref, attempt, _noop, _noop, phase="step", spec=spec),
                            partial(step_process, spec), self.plan.steps[ref.step].timeout_seconds)

    def _start_watched(self, task: Running, body: Callable[[], int], timeout: float | None) -> None:
        """Start ``body`` (picklable: the fork server runs it) in a forked
        process, and watch it."""
        from . import supervise
        from .forkserver import ServerGone

        for _ in range(2):  # a server that died as it was asked is replaced once
            server = self._fork_server()
            if server is None:
                break
            try:
                task.watch = supervise.start(body, timeout, capture=True, spawn=server.spawn)
            except ServerGone:
                self._drop_fork_server()
                continue
            task.poll = partial(server.poll, task.watch.pid)
            task.release = partial(server.release, task.watch.pid)
            task.exit_wakes = True
            break
        else:  # its replacement died too: tasks are forked here from now on
            self.fork_server = False
        if task.watch is None:
            gc.freeze()  # the child's collections then skip (and so never write to) the pages it shares with us
            task.watch = supervise.start(partial(_forked, self.env, body), timeout, capture=True)
            task.poll = _raw_poller(task.watch.pid)
        # the status pipe says when the step's deadline starts: watched only when it has one
        # (otherwise read once it has exited), so a task wakes this loop only to print
        task.fds = task.watch.fds() if timeout else list(task.watch.outputs)
        self._watch(task.watch.pid, task)

    def _fork_server(self):
        """The fork server that starts forked tasks (runtime/forkserver.py),
        started on first use; None where tasks are forked from here."""
        if self.fork_server is None or (self.fork_server and not self.fork_server.alive):
            self._drop_fork_server()
            from . import forkserver

            if not forkserver.available():
                self.fork_server = False
                return None
            self.fork_server = forkserver.ForkServer(prepare=partial(_prepare_forked, self.env))
            self.selector.register(self.fork_server.fileno(), selectors.EVENT_READ, None)  # an exit wakes the loop
        return self.fork_server or None

    def _drop_fork_server(self) -> None:
        """Close the fork server (after its tasks ended), or forget a dead one."""
        if self.fork_server:
            self.selector.unregister(self.fork_server.fileno())
            self.fork_server.close()
            self.fork_server = None

    def ended(self, task: Running, status: int) -> int | None:
        """A task's process has exited (``status``, waitpid's): read the rest of
        its output and stop watching it; its exit code, or None when a process
        was started to record why its step did not come back (it is watched in
        its place, phase "after")."""
        self.read_output(task, final=True)
        self.forget(task)
        if task.watch is None:
            return os.waitstatus_to_exitcode(status)
        out = task.watch.finish(status)
        task.release()  # signalled no more (finish ends what a step past its deadline started)
        logs = (task.logs[0] + out.stdout, task.logs[1] + out.stderr)
        if task.phase == "step" and not (out.reported and not out.timed_out):
            from .supervise import Outcome
            from .task import after_step_process

            spec = task.spec
            follow = Running(task.ref, task.attempt, _noop, _noop, phase="after", spec=spec, logs=logs,
                             tail=task.tail)
            how = Outcome(out.code, out.signal, out.timed_out, out.interrupted, out.reported)  # not its output
            self._start_watched(follow, partial(after_step_process, spec, how), None)
            return None
        from .task import store_logs

        store_logs(self.ds, self.run_id, task.ref.step, task.ref.tid, task.attempt, *logs)
        if task.phase == "step":  # it came back through the runtime
            return out.code if out.code is not None else 1
        return out.code if out.code is not None else -(out.signal or signal.SIGKILL)

    @staticmethod
    def _task_env(python: str | None) -> dict[str, str]:
        if python is None:  # this interpreter: the variables as they are
            return {**os.environ, "PYTHONSAFEPATH": "1"}
        from .environment import step_process_env

        return step_process_env(dict(os.environ))

    def wait(self) -> None:
        timeout = 0.05
        if self.delayed and not self.running:
            timeout = max(0.0, min(w for w, _, _ in self.delayed) - time.time())
        elif any(not t.fds and not t.exit_wakes for t in self.running.values()):
            timeout = 0.002  # exiting, and no pidfd to say when: look again soon
        now = time.monotonic()
        for task in self.running.values():
            if task.watch is not None:
                left = task.watch.check(now)  # a step past its deadline is ended here
                if left is not None:
                    timeout = min(timeout, left)
        for key, _ in self.selector.select(timeout=timeout):
            if key.data is not None:  # output (an exit only wakes the loop)
                task = self.running.get(key.data)
                if task is not None:
                    self.read_fd(task, key.fd)
        for pid, task in list(self.running.items()):
            status = task.poll()
            if status is not None:
                del self.running[pid]
                code = self.ended(task, status)
                if code is not None:
                    self.exited(task, code)
        if self.fork_server and not self.fork_server.alive:  # it died: its tasks were reported killed
            self._drop_fork_server()

    def forget(self, task: Running) -> None:
        """Stop watching a task that ended, and close what watched it."""
        for fd in task.fds:
            self.selector.unregister(fd)
        task.fds = []
        if task.pidfd >= 0:
            self.selector.unregister(task.pidfd)
            os.close(task.pidfd)
            task.pidfd = -1
        task.close()

    def read_fd(self, task: Running, fd: int, final: bool = False) -> None:
        """Pass on what the task printed on one pipe; stop watching it once closed."""
        if task.watch is not None:
            chunks = []
            while True:
                data = task.watch.read(fd)
                if not data:
                    break
                chunks.append(data)
            closed = data is None
            chunk = b"".join(chunks)
        else:
            chunk, closed = _read_available(fd)
        buffer = task.buffers.get(fd, b"") + chunk
        *lines, buffer = buffer.split(b"\n")
        if (final or closed) and buffer:
            lines.append(buffer)
            buffer = b""
        task.buffers[fd] = buffer
        for line in lines:
            text = line.decode("utf-8", "replace")
            task.tail = (task.tail + [text])[-40:]
            self.reporter.task_output(task.ref.step, task.ref.tid, text)
        if closed and fd in task.fds:  # a closed pipe stays readable: watching it would spin
            self.selector.unregister(fd)
            task.fds.remove(fd)

    def read_output(self, task: Running, final: bool = False) -> None:
        for fd in list(task.fds):
            self.read_fd(task, fd, final)

    def exited(self, task: Running, code: int) -> None:
        ref = task.ref
        if code == 0:
            meta = self.ds.read_done(self.run_id, ref.step, ref.tid)
            if meta is not None:
                self.completed(ref, meta)
                return
            code = 1
        try:
            self.record_crash(task, code)
        except (OSError, DatastoreError) as exc:  # e.g. a full disk: the failure is still reported below
            self.reporter.info(f"could not record the failure of {ref.step}/{ref.tid}: {exc}")
        step = self.plan.steps[ref.step]
        if code != 2 and task.attempt < step.retry_times:
            # Retried at once, as Metaflow's local runtime does: minutes_between_retries
            # is for orchestrators (the targets keep it), not for a run on one machine.
            delay = 0.0
            self.reporter.task_retry(ref.step, ref.tid, task.attempt + 1, delay)
            self.delayed.append((time.time() + delay, ref, task.attempt + 1))
            return
        self.reporter.task_finished(ref.step, ref.tid, False)
        self.failures.append((ref.step, ref.tid, task.attempt))

    def record_crash(self, task: Running, code: int) -> None:
        """A task that died without recording why (killed, os._exit): record it."""
        ref = task.ref
        if self.ds.read_attempt_file(self.run_id, ref.step, ref.tid, task.attempt, "failure.json") is not None:
            return
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        record = {"step": ref.step, "task_id": ref.tid, "attempt": task.attempt,
                  "error": f"the task process {how} before recording an error",
                  "traceback": "\n".join(task.tail) + f"\n(the task process {how})", "finished_at": time.time()}
        self.ds.write_attempt_file(self.run_id, ref.step, ref.tid, task.attempt, "failure.json",
                                   json.dumps(record, indent=1).encode())


def default_workers() -> int:
    """Tasks run at once unless told: two more than the cores. This runner
    and its fork server watch, start and reap every task on a core too, and
    tasks wait on their files and on each other's (a folder's entries are
    added one at a time); with as many tasks as cores, a core idles meanwhile
    (a foreach over 10,000 on 2 cores: 7% more wall time than with one more),
    and a second one more still helps (a foreach over 2,000: 4% less wall
    time, the same CPU, two runs of ten pairs). Metaflow's default is 16."""
    return (os.cpu_count() or 1) + 2


def _on_sigterm_interrupt():
    """SIGTERM interrupts a run as Ctrl-C does (the previous handler, to restore;
    None when signals cannot be set here, outside the main thread)."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass


def _noop() -> None:
    pass


def _forked(env: dict[str, str], body: Callable[[], int]) -> int:
    """A task forked here: as a task command starts (stdin empty, the default
    signal handlers, the run's variables), then ``body()``."""
    _stdin_empty()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the runner only (see launch)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ.update(env)
    return body()


def _prepare_forked(env: dict[str, str]) -> None:
    """In the fork server, once, what _forked does in each task forked here
    (the server's tasks get the default signal handlers as it forks them),
    and what every task would do first."""
    from . import metaflow_shim

    _stdin_empty()
    os.environ.update(env)
    metaflow_shim.install()  # `import metaflow` in a flow gives flowc's names


def _stdin_empty() -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def _raw_poller(pid: int, proc: subprocess.Popen | None = None) -> Callable[[], int | None]:
    """The process's exit status as waitpid gives it; None while it runs.

    A task command's Popen (``proc``) is held here until its process is
    reaped, and then told so: a Popen dropped while its process runs goes to
    subprocess's list of children to reap, and every later Popen reaps those
    that have exited (subprocess._cleanup), so this waitpid would find no
    child and a task that succeeded would fail with exit code 1."""
    def poll() -> int | None:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 256  # reaped elsewhere: exit code 1
        if done and proc is not None:
            proc.returncode = os.waitstatus_to_exitcode(status)  # subprocess never waits for it again
        return status if done else None

    return poll


def _read_available(fd: int) -> tuple[bytes, bool]:
    """What can be read from a non-blocking pipe now, and whether it is closed."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return b"".join(chunks), False
        except OSError:
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


class RunError(Exception):
    pass


def descendants(plan: FlowPlan, step: str) -> set[str]:
    out = {step}
    stack = [step]
    while stack:
        for n in plan.steps[stack.pop()].next:
            if n not in out:
                out.add(n)
                stack.append(n)
    return out
