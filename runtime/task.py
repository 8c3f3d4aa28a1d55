"""Run exactly one task: the semantics every target shares.

1. find the task's inputs (runtime/inputs.py) and their metadata;
2. import the flow module (with `metaflow` resolving to flowc) and make the
   flow object, wired to the inherited artifacts (loaded lazily);
3. set @environment variables and `current`, run the step under @timeout;
4. on failure: on the last attempt with @catch, store the exception and go
   on as Metaflow does; otherwise record the failure and exit 1;
5. store what the step set (content-addressed), then publish done.json, last
   and atomically, and write OUT.json for the orchestrator.

Steps 2-5 run in a child process that the task command watches
(runtime/supervise.py): a step past its @timeout is ended from outside even
if it swallows the timeout, and a step killed by the system is recorded and,
on the last attempt, caught by @catch as Metaflow does.

A task whose done.json already exists is not run again: its OUT.json is
written from the record (an orchestrator may retry a task that finished),
unless the orchestrator asks for a new run of it (--first-attempt beyond
the attempt that finished: docs/runtime-contract.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import time
import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any

from . import configs as user_configs, metaflow_shim, params as params_mod
from .current import current
from .datastore import ITEMS_MIN, DatastoreError, FlowDatastore, dumps
from .exceptions import FailureHandledByCatch, MetaflowExceptionWrapper, TimeoutException
from .flowspec import NOT_KEPT, FlowSpec, FlowSpecError, Inputs
from .identity import index_text, parse_index, safe_run_id, task_id
from .inputs import InputError, input_tasks
from .plan import FlowPlan, PlanError, StepPlan
from .user_decorators import run_step

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class TaskError(Exception):
    """A task cannot run (bad arguments, missing inputs): exit 2 or 1 with one line."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


class StepKilled(Exception):
    """The step's process ended without raising: killed, or os._exit()."""


class TaskInterrupted(Exception):
    """The task command was asked to stop (SIGINT, SIGTERM) and passed it on to the step."""


class TaskSpec:
    """One task, as the task command's arguments name it. A plain class: the
    task command imports no dataclasses (they cost a tenth of its start-up)."""

    def __init__(self, flow: str, ir: str, step: str, run_id: str, index: str, attempt: int, datastore: str,
                 iteration: int = 0, package: str | None = None, params: dict[str, Any] | None = None,
                 output: str | None = None, origin_run_id: str | None = None, first_attempt: int = 0,
                 output_value: str | None = None, trigger: list | None = None):
        self.flow, self.ir, self.step, self.run_id, self.index = flow, ir, step, run_id, index
        self.attempt, self.datastore, self.iteration, self.package = attempt, datastore, iteration, package
        self.params = {} if params is None else params
        self.output, self.origin_run_id = output, origin_run_id
        self.first_attempt = first_attempt  # the attempt this series of retries began with (an orchestrator's rerun)
        self.output_value = output_value  # where the value an engine branches on goes, alone (--output-value)
        self.trigger = trigger  # the events that started the run (start step; runtime/events.normalize)

    def __repr__(self) -> str:
        return f"TaskSpec({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Frame:
    """One enclosing foreach of a task: the split, its items' artifact, this item."""

    __slots__ = ("split", "var", "sha", "index", "count")

    def __init__(self, split: str, var: str, sha: str, index: int, count: int):
        self.split, self.var, self.sha, self.index, self.count = split, var, sha, index, count

    def to_json(self) -> dict:
        return {"split": self.split, "var": self.var, "sha": self.sha, "index": self.index, "count": self.count}


class Context:
    """What a flow object reaches through ``self._flowc_ctx``."""

    def __init__(self, executor: "Executor | None", ds: FlowDatastore, step_name: str, artifacts: dict[str, str],
                 frames: list[Frame], readonly: bool, is_join: bool, param_attrs: set[str]):
        self.executor = executor
        self.ds = ds
        self.step_name = step_name
        self.artifacts = dict(artifacts)
        self.frames = frames
        self.readonly = readonly
        self.is_join = is_join
        self.param_attrs = param_attrs
        self._values: dict[int, Any] = {}

    def has(self, name: str) -> bool:
        return name in self.artifacts

    def load(self, name: str) -> Any:
        return self.ds.get_value(self.artifacts[name])

    def artifact_hashes(self) -> dict[str, str]:
        return dict(self.artifacts)

    def adopt(self, name: str, sha: str) -> None:
        """Take an input's artifact by reference (merge_artifacts): nothing is loaded."""
        self.artifacts[name] = sha

    def is_parameter(self, name: str) -> bool:
        return name in self.param_attrs

    def foreach_value(self, i: int, own: dict) -> Any:
        """Item ``frame.index`` of enclosing foreach i's variable, read once, as
        Metaflow reads it: from this task's own copy of the variable (``own``,
        the flow object's attributes, when the step set or loaded it; else its
        artifact, which for an input of a join is that input's), and from the
        split's when it has none. Unchanged since the split, the item is read
        alone (datastore.get_item)."""
        if i not in self._values:
            frame = self.frames[i]
            sha = self.artifacts.get(frame.var, frame.sha)
            try:
                if frame.var in own:
                    self._values[i] = own[frame.var][frame.index]
                elif sha == frame.sha:
                    self._values[i] = self.ds.get_item(sha, frame.index, frame.count)
                else:
                    self._values[i] = self.ds.get_value(sha)[frame.index]
            except (TypeError, KeyError):  # an iterable without indexing, as Metaflow allows
                import itertools

                items = own[frame.var] if frame.var in own else self.ds.get_value(sha)
                self._values[i] = next(itertools.islice(iter(items), frame.index, None))
        return self._values[i]

    def transition(self, flow: FlowSpec, dsts: tuple, foreach: str | None, condition: str | None) -> None:
        if self.executor is None or self.readonly:
            raise FlowSpecError("self.next() cannot be called here")
        self.executor.record_transition(flow, dsts, foreach, condition)


def _user_frames(tb: types.TracebackType | None, runtime_dir: str) -> types.TracebackType | None:
    """Drop the runtime's own frames from a traceback, keep the user's."""
    frames = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(runtime_dir):
            frames.append(tb)
        tb = tb.tb_next
    return frames[0] if frames else None


def format_user_error(exc: BaseException) -> str:
    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    tb = _user_frames(exc.__traceback__, runtime_dir)
    import traceback  # only when a step failed: its import costs every task command milliseconds

    return "".join(traceback.format_exception(type(exc), exc, tb))


class Executor:
    def __init__(self, spec: TaskSpec):
        self.spec = spec
        self.transition: dict | None = None
        self.foreach_var: str | None = None  # what a foreach step split over (self.next's foreach=)
        self.sizes: dict[str, int] = {}  # the pickled size of each artifact the step set

    # ------------------------------------------------------------ setup

    def load(self) -> None:
        spec = self.spec
        flow_path, ir_path = spec.flow, spec.ir
        if spec.package:
            from .package import PackageError, fetch

            try:
                root = fetch(spec.package)
            except (PackageError, OSError) as exc:
                raise TaskError(f"cannot fetch the code package: {exc}")
            flow_path, ir_path = os.path.join(root, spec.flow), os.path.join(root, spec.ir)
        try:
            self.plan = FlowPlan.load(ir_path)
        except FileNotFoundError:
            raise TaskError(f"no IR at {ir_path}: write it with `flowc ir FLOW.py -o {os.path.basename(ir_path)}`", EXIT_USAGE)
        except (PlanError, ValueError, KeyError) as exc:
            raise TaskError(f"cannot read the IR {ir_path}: {exc}", EXIT_USAGE)
        self.flow_path = flow_path
        try:
            self.step = self.plan.step(spec.step)
            self.index = parse_index(spec.index, self.step.depth)
        except (PlanError, ValueError) as exc:
            raise TaskError(str(exc), EXIT_USAGE)
        if spec.iteration and not self.step.is_recursive:
            raise TaskError(f"--iteration is only for a recursive switch step; {self.step.name} is not one", EXIT_USAGE)
        self.run_id = safe_run_id(spec.run_id)
        self.task_id = task_id(self.index, spec.iteration)
        self.ds = FlowDatastore(spec.datastore, self.plan.name)
        if spec.attempt < 0:  # --attempt auto: one past the last attempt recorded
            spec.attempt = max(self.ds.attempts(self.run_id, self.step.name, self.task_id), default=-1) + 1
        # configs and included files travel like parameters (runtime/configs.py)
        self.param_attrs = {p["attribute"] for p in self.plan.parameters} | user_configs.attributes(self.plan.raw)

    def import_flow_class(self) -> type:
        metaflow_shim.install()
        sys._flowc_in_task = True  # neutralizes `if __name__ == "__main__": Flow()`
        folder = os.path.dirname(os.path.abspath(self.flow_path))
        if folder not in sys.path:
            sys.path.insert(0, folder)
        # a base class's module the compiler found at the project root (not in a code package)
        if any(not os.path.exists(os.path.join(folder, *m.split("/"))) for m in self.plan.modules):
            from .package import project_root

            root = project_root(self.flow_path)
            if root is not None and root not in sys.path:
                sys.path.append(root)
        name = os.path.splitext(os.path.basename(self.flow_path))[0]
        module = sys.modules.get(name)
        if module is None or os.path.abspath(getattr(module, "__file__", "") or "") != os.path.abspath(self.flow_path):
            spec = importlib.util.spec_from_file_location(name, self.flow_path)
            if spec is None or spec.loader is None:
                raise TaskError(f"cannot import {self.flow_path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        cls = getattr(module, self.plan.name, None)
        if not isinstance(cls, type) or not issubclass(cls, FlowSpec):
            raise TaskError(f"{self.flow_path} defines no flow class {self.plan.name}; was the IR compiled from it?")
        return cls

    # ------------------------------------------------------------ inputs

    def lookup(self, step: str, tid: str) -> dict | None:
        return self.ds.read_done(self.run_id, step, tid)

    def resolve_inputs(self) -> list[dict]:
        try:
            found = input_tasks(self.plan, self.step, self.index, self.spec.iteration, self.lookup)
        except InputError as exc:
            raise TaskError(str(exc))
        if found is None:
            raise TaskError(f"the inputs of {self.step.name}/{self.task_id} have not finished in run {self.run_id}")
        return [self.lookup(s, t) for s, t in found]

    def make_context(self, cls: type, inputs: list[dict]) -> tuple[FlowSpec, Inputs | None]:
        step = self.step
        if step.name == self.plan.start:
            try:
                extra, given = user_configs.start_values(self.plan.raw, dict(self.spec.params), self.flow_path)
            except user_configs.ConfigError as exc:
                raise TaskError(str(exc))
            try:
                values = params_mod.resolve(self.plan.parameters, given)
            except params_mod.ParameterError as exc:
                raise TaskError(str(exc), EXIT_USAGE)
            values.update(extra)
            artifacts = {attr: self.ds.put_value(v) for attr, v in values.items()}
            frames: list[Frame] = []
        elif step.is_join:
            first = inputs[0]
            artifacts = {k: v for k, v in first["artifacts"].items() if k in self.param_attrs}
            frames = [Frame(**f) for f in first["frames"]]
            if self.plan.steps[step.closes].kind == "foreach":
                frames = frames[:-1]
        else:
            parent = inputs[0]
            artifacts = dict(parent["artifacts"])
            frames = [Frame(**f) for f in parent["frames"]]
            pstep = self.plan.steps[parent["step"]]
            if pstep.kind == "foreach" and parent["step"] != step.name and step.depth == pstep.depth + 1:
                var = pstep.foreach
                frames.append(Frame(parent["step"], var, parent["artifacts"][var], self.index[-1], parent["foreach_count"]))
        ctx = Context(self, self.ds, step.name, artifacts, frames, False, step.is_join, self.param_attrs)
        flow = cls.__new__(cls)
        flow._flowc_ctx = ctx
        self.ctx = ctx
        input_obj = None
        if step.is_join:
            views = []
            for meta in inputs:
                view = cls.__new__(cls)
                view._flowc_ctx = Context(None, self.ds, meta["step"], meta["artifacts"],
                                          [Frame(**f) for f in meta["frames"]], True, False, self.param_attrs)
                views.append(view)
            input_obj = Inputs(views)
        return flow, input_obj

    # ------------------------------------------------------------ transitions

    def record_transition(self, flow: FlowSpec, dsts: tuple, foreach: str | None, condition: str | None) -> None:
        step = self.step
        if self.transition is not None:
            raise FlowSpecError(f"step {step.name} called self.next() twice")
        if step.kind == "end":
            raise FlowSpecError(f"the end step {step.name} cannot call self.next()")
        if condition is not None:
            if len(dsts) != 1 or not isinstance(dsts[0], dict):
                raise FlowSpecError("a switch is self.next({'case': self.step, ...}, condition='attr')")
            value = getattr(flow, condition)
            cases = dsts[0]
            if value not in cases:
                raise FlowSpecError(f"switch in step {step.name}: self.{condition} is {value!r}, which matches no case "
                                    f"({', '.join(map(repr, cases))})")
            target = _step_name(cases[value])
            self.transition = {"taken": [target], "case": _case_text(value), "chosen": target}
        elif foreach is not None:
            try:
                items = getattr(flow, foreach)
            except AttributeError:
                raise FlowSpecError(f"foreach variable self.{foreach} in step {step.name} does not exist") from None
            try:
                count = len(items) if hasattr(items, "__len__") else sum(1 for _ in items)
            except TypeError as exc:
                raise FlowSpecError(f"foreach variable self.{foreach} in step {step.name} is not iterable: {exc}") from None
            if count == 0:
                raise FlowSpecError(f"foreach over self.{foreach} in step {step.name} produced zero splits; "
                                    "a foreach needs at least one item")
            names = [_step_name(d) for d in dsts]
            self.transition = {"taken": names, "foreach_count": count}
            self.foreach_var = foreach
        else:
            self.transition = {"taken": [_step_name(d) for d in dsts]}
        expected = list(step.next) if step.kind != "switch" else None
        taken = self.transition["taken"]
        if expected is not None and (taken != expected or (step.kind == "foreach") != (foreach is not None)):
            raise FlowSpecError(f"step {step.name} went to {', '.join(taken) or 'nothing'}, but the compiled flow "
                                f"goes to {', '.join(expected)}: the flow changed since it was compiled; recompile it")
        if step.kind == "switch" and (condition is None or taken[0] not in step.next):
            raise FlowSpecError(f"step {step.name} does not match its compiled switch; recompile the flow")

    def default_transition(self) -> dict:
        """The transition of a step whose failure @catch caught: its compiled one."""
        step = self.step
        if step.kind in ("foreach", "switch"):
            raise TaskError(f"@catch cannot continue the flow after a failed {step.kind} step {step.name}: "
                            "its next steps depend on what the step computes")
        return {"taken": list(step.next)}

    # ------------------------------------------------------------ running

    def run_user_code(self, flow: FlowSpec, inputs: Inputs | None) -> None:
        """The step itself. Past @timeout, TimeoutException is raised in it (as in
        Metaflow); the supervisor ends it from outside if it goes on anyway."""
        from . import supervise

        func = getattr(type(flow), self.step.name)
        seconds = self.step.timeout_seconds
        if seconds and hasattr(signal, "SIGALRM"):
            message = TimeoutException.message(self.step.name, seconds)

            def on_alarm(signum, frame):
                import traceback

                stack = [f">  {part}" for line in traceback.format_stack(frame)
                         for part in line.splitlines()]
                raise TimeoutException(f"{message}\nStack when the timeout was raised:\n" + "\n".join(stack))

            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(seconds)
        supervise.mark(supervise.USER_CODE_STARTED)
        try:
            run_step(func, flow, inputs, self.step, lambda args: self.retransition(flow, args))
        finally:
            if seconds and hasattr(signal, "SIGALRM"):
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
            supervise.mark(supervise.USER_CODE_ENDED)

    def retransition(self, flow: FlowSpec, args: Any) -> None:
        """A user decorator skipped or replaced the step, or swallowed its failure:
        make the step's self.next() call for it (its arguments, or the compiled one)."""
        self.transition = None
        targets = [getattr(flow, name) for name in self.step.next]
        if not targets:
            return
        if isinstance(args, dict):
            flow.next(*targets, **args)
        elif self.step.kind == "foreach":
            flow.next(*targets, foreach=self.step.foreach)
        else:
            flow.next(*targets)

    def persist(self, flow: FlowSpec, cls: type) -> dict[str, str]:
        artifacts = dict(self.ctx.artifacts)
        for name, value in _class_data(cls).items():
            if name not in flow.__dict__:
                artifacts[name] = self.ds.put_value(value)
        for name, value in flow.__dict__.items():
            if name.startswith("_flowc_") or name in NOT_KEPT or isinstance(value, (types.FunctionType, types.MethodType)):
                continue
            try:
                data = dumps(value)
            except Exception as exc:
                raise TaskError(f"artifact self.{name} of step {self.step.name} cannot be stored: "
                                f"{type(exc).__name__}: {exc}")
            artifacts[name] = self.ds.put_blob(data)
            self.sizes[name] = len(data)
        return artifacts

    def put_items(self, flow: FlowSpec, artifacts: dict[str, str]) -> None:
        """A foreach over a list or tuple the step set: its items one by one
        beside the value (datastore.put_items), which each task of the foreach
        reads its own item from."""
        var = self.foreach_var
        items = flow.__dict__.get(var) if var else None
        if type(items) in (list, tuple) and len(items) >= ITEMS_MIN and var in self.sizes:
            self.ds.put_items(artifacts[var], items, self.sizes[var])

    @property
    def retry_count(self) -> int:
        """Which try of the current series this is (0 first): @retry and @catch count these."""
        return max(0, self.spec.attempt - self.spec.first_attempt)

    @property
    def last_attempt(self) -> bool:
        return self.retry_count >= self.step.retry_times

    def finished(self) -> dict | None:
        """done.json of this task, if it finished in the current series of attempts
        (a retry of a finished task does not redo it; a rerun asked for does)."""
        existing = self.ds.read_done(self.run_id, self.step.name, self.task_id)
        if existing is not None and int(existing.get("attempt", 0)) < self.spec.first_attempt:
            return None
        return existing

    def execute(self, fallback: BaseException | None = None) -> int:
        """Run the task; with ``fallback``, run no user code: the step failed
        that way (killed, timed out) and @catch takes it as the step's failure."""
        spec = self.spec
        existing = self.finished()
        if existing is not None:
            self.write_output(existing)
            return EXIT_OK
        inputs_meta = self.resolve_inputs()
        try:
            cls = self.import_flow_class()
        except TaskError:
            raise
        except (Exception, SystemExit) as exc:  # the module raised at import: the user's error
            self.record_failure(exc, time.time())
            return EXIT_FAILED
        flow, inputs = self.make_context(cls, inputs_meta)
        os.environ.update(self.step.env_vars)
        current._update(
            flow_name=self.plan.name, run_id=self.run_id, step_name=self.step.name, task_id=self.task_id,
            retry_count=self.retry_count, origin_run_id=spec.origin_run_id,
            parameter_names=[p["name"] for p in self.plan.parameters], is_running_flow=True,
            username=os.environ.get("USER") or os.environ.get("USERNAME"), datastore=spec.datastore,
        )
        if spec.trigger is not None and self.step.name == self.plan.start:
            from .trigger import RUN_FILE

            self.ds.write_run_file(self.run_id, RUN_FILE, json.dumps(spec.trigger, sort_keys=True).encode())
        started = time.time()
        self.cards = self.start_cards(flow, started)
        caught = None
        try:
            if fallback is not None:
                raise fallback
            self.run_user_code(flow, inputs)
        except (Exception, SystemExit) as exc:
            catch = self.step.deco("catch")
            if catch is None or not self.last_attempt:
                self.finish_cards("failed")
                self.record_failure(exc, started)
                return EXIT_FAILED
            caught = exc
            if catch.get("print_exception", True):
                sys.stderr.write(format_user_error(exc))
                sys.stderr.write(f"@catch: step {self.step.name} failed on its last attempt; the flow goes on\n")
            if catch.get("var"):
                flow.__dict__[catch["var"]] = MetaflowExceptionWrapper(exc)
            self.transition = self.default_transition()
        catch = self.step.deco("catch")
        if caught is None and catch and catch.get("var") and catch["var"] not in flow.__dict__:
            flow.__dict__[catch["var"]] = None  # as in Metaflow: the step did not fail
        if self.transition is None and self.step.kind != "end":
            self.finish_cards("failed")
            self.record_failure(FlowSpecError(f"step {self.step.name} finished without calling self.next()"), started)
            return EXIT_FAILED
        self.finish_cards("caught" if caught is not None else "succeeded")
        artifacts = self.persist(flow, cls)
        meta = self.build_meta(artifacts, inputs_meta, started, caught)
        if self.step.kind == "foreach" and self.transition:
            self.put_items(flow, artifacts)
            manifest = json.dumps(list(range(meta["foreach_count"]))).encode()
            self.ds.write_task_file(self.run_id, self.step.name, self.task_id, "foreach.json", manifest)
            meta["foreach_manifest"] = self.ds.location(
                f"runs/{self.run_id}/{self.step.name}/{self.task_id}/foreach.json")
        # out.json: the small outcome, readable from the datastore by an engine whose
        # task cannot return values (AWS Batch); done.json, written last, publishes the task
        self.ds.write_task_file(self.run_id, self.step.name, self.task_id, "out.json",
                                json.dumps(outcome(meta), sort_keys=True).encode())
        self.ds.write_done(self.run_id, self.step.name, self.task_id, meta)
        if self.step.kind == "end":
            self.publish_end_event()
        self.write_output(meta)
        return EXIT_OK

    def publish_end_event(self) -> None:
        """The run succeeded: its end event (``@trigger_on_finish`` flows wait for it).
        The run's outcome stands whatever happens to the event: a failure to
        deliver it is reported, not turned into a failed run."""
        from .events import EventError, deliver, flow_end_event, run_end_event, task_recorder

        event = run_end_event(flow_end_event(self.plan.raw), self.plan.name, self.run_id, self.task_id)
        try:
            recorder = task_recorder()
            if recorder is not None:
                recorder(event)
            deliver(event)
        except (EventError, OSError) as exc:
            sys.stderr.write(f"flowc: the run finished, but its end event {event['name']!r} was not published: {exc}\n")

    # ------------------------------------------------------------ cards

    def start_cards(self, flow: FlowSpec, started: float):
        """The step's @card decorators, ready for ``current.card``; None without any
        (the cards modules are then never imported)."""
        specs = self.step.deco("card")
        if not specs:
            return None
        from .cards.task_cards import TaskCards

        specs = [specs] if isinstance(specs, dict) else list(specs)  # an IR of one card per step
        return TaskCards(specs, self.ds, self.run_id, self.step.name, self.task_id, self.spec.attempt,
                         lambda: self.card_facts(flow, started))

    def finish_cards(self, status: str) -> None:
        if getattr(self, "cards", None) is not None:
            self.cards.finish(status)

    def card_facts(self, flow: FlowSpec, started: float) -> dict:
        """What the default card shows of this task: its artifacts (those it set,
        and those it inherited), parameters, timings and the flow's IR."""
        params = {p["attribute"]: p["name"] for p in self.plan.parameters}
        values: dict[str, Any] = {}
        for name in sorted(set(self.ctx.artifacts) | set(flow.__dict__)):
            if name.startswith("_") or name in NOT_KEPT:
                continue
            try:
                value = flow.__dict__[name] if name in flow.__dict__ else self.ctx.load(name)
            except Exception as exc:  # an artifact that cannot be read is shown as such
                value = f"<cannot load: {type(exc).__name__}>"
            if isinstance(value, (types.FunctionType, types.MethodType)):
                continue
            values[name] = value
        return {"pathspec": f"{self.plan.name}/{self.run_id}/{self.step.name}/{self.task_id}",
                "started": started, "finished": time.time(), "ir": self.plan.raw,
                "parameters": {params[k]: v for k, v in values.items() if k in params},
                "artifacts": {k: v for k, v in values.items() if k not in params}}

    def build_meta(self, artifacts: dict[str, str], inputs_meta: list[dict], started: float,
                   caught: BaseException | None) -> dict:
        meta = {
            "flow": self.plan.name, "run_id": self.run_id, "step": self.step.name, "task_id": self.task_id,
            "index": list(self.index), "iteration": self.spec.iteration, "attempt": self.spec.attempt,
            "artifacts": artifacts, "frames": [f.to_json() for f in self.ctx.frames],
            "inputs": [f"{m['step']}/{m['task_id']}" for m in inputs_meta],
            "started_at": started, "finished_at": time.time(), "origin_run_id": self.spec.origin_run_id,
            "caught": None if caught is None else f"{type(caught).__name__}: {caught}",
            "taken": [],
        }
        if self.transition:
            meta.update(self.transition)
        return meta

    def record_failure(self, exc: BaseException, started: float, show: bool = True) -> None:
        text = format_user_error(exc)
        if show:
            sys.stderr.write(text)
            sys.stderr.flush()
        record = {"step": self.step.name, "task_id": self.task_id, "attempt": self.spec.attempt,
                  "error": f"{type(exc).__name__}: {exc}", "traceback": text,
                  "started_at": started, "finished_at": time.time()}
        try:
            self.ds.write_attempt_file(self.run_id, self.step.name, self.task_id, self.spec.attempt, "failure.json",
                                       json.dumps(record, indent=1).encode())
        except Exception:  # the failure itself must still be reported
            pass

    def write_output(self, meta: dict) -> None:
        if self.spec.output_value:
            write_value(self.spec.output_value, self.step.kind, meta)
        if not self.spec.output:
            return
        out = outcome(meta)
        from .events import read_task_events

        published = read_task_events(self.ds, self.run_id, self.step.name, self.task_id)
        if published:  # for an orchestrator that forwards them (Airflow's asset events)
            out["events"] = published
        folder = os.path.dirname(os.path.abspath(self.spec.output))
        os.makedirs(folder, exist_ok=True)
        tmp = self.spec.output + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, sort_keys=True)
        os.replace(tmp, self.spec.output)


def write_value(path: str, kind: str, meta: dict) -> None:
    """--output-value: a foreach split's children's index paths (["0", "1", ...] at the
    top level, ["2.0", "2.1", ...] for the split of item 2), a switch's chosen step
    (text); nothing for other steps."""
    if kind == "foreach":
        prefix = "".join(f"{i}." for i in meta.get("index") or [])
        text = json.dumps([f"{prefix}{i}" for i in range(meta.get("foreach_count") or 0)])
    elif kind == "switch":
        text = str(meta.get("chosen") or "")
    else:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def outcome(meta: dict) -> dict:
    """OUT.json: the few small values an orchestrator needs from a finished task."""
    out = {"task_id": meta["task_id"], "step": meta["step"], "next": meta.get("taken", [])}
    for key in ("foreach_count", "foreach_manifest", "case", "chosen"):
        if meta.get(key) is not None:
            out[key] = meta[key]
    return out


def _step_name(target: Any) -> str:
    name = getattr(target, "__name__", None)
    if not isinstance(name, str):
        raise FlowSpecError(f"self.next() takes steps (self.<step>), not {target!r}")
    return name


def _case_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _class_data(cls: type) -> dict[str, Any]:
    """Class-level data attributes of the user's flow classes (Metaflow stores them as artifacts)."""
    from .parameters import Parameter

    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass in (FlowSpec, object) or klass.__module__.startswith("flowc."):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or isinstance(value, (Parameter, property, staticmethod, classmethod,
                                                          types.FunctionType, type)) or callable(value):
                continue
            out[name] = value
    return out


def output_only(spec: TaskSpec) -> int:
    """Write OUT.json of a task that finished (wherever it ran); never run it."""
    executor = _loaded(spec)
    if isinstance(executor, int):
        return executor
    meta = executor.ds.read_done(executor.run_id, executor.step.name, executor.task_id)
    if meta is None:
        sys.stderr.write(f"flowc: {executor.step.name}/{executor.task_id} has not finished in run {executor.run_id}\n")
        return EXIT_FAILED
    executor.write_output(meta)
    return EXIT_OK


def run(spec: TaskSpec, capture: bool = True) -> int:
    """Run one task; returns the exit status. Never raises for a user's mistake.
    Its output is shown live and kept in the datastore (attempt-N/stdout, stderr)."""
    executor = _loaded(spec)
    if isinstance(executor, int):
        return executor
    from . import supervise

    supervise.watch_lifeline()
    if supervise.available() and os.environ.get("FLOWC_SUPERVISE") != "0" and executor.finished() is None:
        code, out, err = _run_supervised(executor, tee=capture)
    elif capture:  # not watched from outside: the output is copied by threads here
        from .capture import Capture

        with Capture() as cap:
            code = _run_loaded(executor)
        out, err = cap.stdout, cap.stderr
    else:
        return _run_loaded(executor)
    if capture:
        store_logs(executor.ds, executor.run_id, executor.step.name, executor.task_id, spec.attempt, out, err)
    return code


def store_logs(ds: FlowDatastore, run_id: str, step: str, tid: str, attempt: int, out: bytes, err: bytes) -> None:
    """Keep a task's output beside its artifacts (attempt-N/stdout, stderr), for `flowc logs`."""
    try:
        for name, data in (("stdout", out), ("stderr", err)):
            if data:
                ds.write_attempt_file(run_id, step, tid, attempt, name, data)
    except Exception as exc:  # logs are a convenience; the task's result stands
        sys.stderr.write(f"flowc: could not store the task's logs: {exc}\n")


def step_process(spec: TaskSpec) -> int:
    """The step's own process, started by a runner that watches it (the
    child side of runtime/supervise.py; the runner then calls after_step)."""
    executor = _loaded(spec)
    if isinstance(executor, int):
        return executor
    return _run_loaded(executor)


def after_step_process(spec: TaskSpec, out: Any) -> int:
    """The process that records why a step's own process did not come back,
    started by a runner that watched it (``out``: its supervise.Outcome)."""
    executor = _loaded(spec)
    if isinstance(executor, int):
        return executor
    return after_step(executor, out)


def _loaded(spec: TaskSpec) -> Executor | int:
    """The task's Executor, loaded; or, when it cannot be (said on stderr),
    the exit status."""
    executor = Executor(spec)
    try:
        executor.load()
    except TaskError as exc:
        sys.stderr.write(f"flowc: {exc}\n")
        return exc.code
    return executor


def _run_supervised(executor: Executor, tee: bool) -> tuple[int, bytes, bytes]:
    """Run the task in a watched child process (runtime/supervise.py); with
    ``tee``, its output is shown and kept (the exit status, stdout, stderr)."""
    from . import supervise

    def child() -> int:
        # a datastore client made before the fork may not work after it (fsspec's async ones)
        executor.ds = FlowDatastore(executor.spec.datastore, executor.plan.name)
        return _run_loaded(executor)

    out = supervise.supervise(child, executor.step.timeout_seconds, tee=tee)
    if out.reported and not out.timed_out:
        return (out.code if out.code is not None else EXIT_FAILED), out.stdout, out.stderr
    if not tee:
        return after_step(executor, out), b"", b""
    from .capture import Capture

    with Capture() as cap:  # what is said and run after the step's process ended belongs to its logs too
        code = after_step(executor, out)
    return code, out.stdout + cap.stdout, out.stderr + cap.stderr


def after_step(executor: Executor, out: Any) -> int:
    """The step's process did not come back (ended at its deadline, killed,
    interrupted, or exited from the user's code): record why and, on the last
    attempt with @catch, go on. ``out`` is the supervise.Outcome."""
    from . import supervise

    step = executor.step
    if out.reported and not out.timed_out:
        return out.code if out.code is not None else EXIT_FAILED
    if executor.finished() is not None:  # ended after it published its result
        return _run_loaded(executor)
    if out.interrupted is not None:
        executor.record_failure(TaskInterrupted(f"the task was interrupted ({_signal_name(out.interrupted)})"),
                                time.time())
        return EXIT_FAILED
    failure: BaseException
    if out.timed_out:
        failure = TimeoutException(TimeoutException.message(step.name, step.timeout_seconds or 0))
        sys.stderr.write(f"flowc: {failure} and was still running {supervise.GRACE_SECONDS:g} s later: ended\n")
        caught: BaseException = failure  # Metaflow's @catch stores the timeout itself
    else:
        how = (f"was killed by {_signal_name(out.signal)}" if out.signal is not None
               else f"exited with code {out.code} without reporting")
        hint = " (out of memory?)" if out.signal == signal.SIGKILL else ""
        sys.stderr.write(f"flowc: the process of step {step.name} {how}{hint}\n")
        failure = StepKilled(f"the step's process {how}{hint}")
        caught = FailureHandledByCatch(executor.retry_count + 1)  # what Metaflow's fallback attempt stores
    if step.deco("catch") is not None and executor.last_attempt:
        return _run_loaded(executor, fallback=caught)
    executor.record_failure(failure, time.time())
    return EXIT_FAILED


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _run_loaded(executor: Executor, fallback: BaseException | None = None) -> int:
    try:
        return executor.execute(fallback)
    except TaskError as exc:
        sys.stderr.write(f"flowc: {exc}\n")
        return exc.code
    except DatastoreError as exc:
        sys.stderr.write(f"flowc: {exc}\n")
        if hasattr(executor, "step"):
            executor.record_failure(exc, time.time(), show=False)  # best effort: the disk may be full
        return EXIT_FAILED
    except (FlowSpecError, ImportError, SyntaxError) as exc:
        sys.stderr.write(format_user_error(exc))
        if hasattr(executor, "step"):
            executor.record_failure(exc, time.time())
        return EXIT_FAILED
