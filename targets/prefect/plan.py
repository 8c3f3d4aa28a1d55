"""The plan a compile renders: the flow's tasks, its body's statements, its
parameters and deployments, as plain data for the templates."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from flowc.compiler import ir

from ..python_emit import py_literal

# What the flow body may call from flowc.engines.prefect (its __all__ but
# FlowRuntime and StepFailed), and from Prefect
HELPERS = ("current_run_id", "chosen", "foreach_indices", "took", "merged", "common", "zipped", "repeat_switch",
           "json_text", "finish")
# Names the generated module defines or imports at top level: a step's task
# function must not shadow them, and the flow body reads the ones in
# BODY_NAMES (so a flow parameter, a local of the flow function, must not be
# called like one of those).
BODY_NAMES = frozenset({"unmapped", *HELPERS})
MODULE_NAMES = BODY_NAMES | frozenset({
    "annotations", "json", "Any", "Optional", "flow", "task", "NO_CACHE", "ThreadPoolTaskRunner",
    "FlowRuntime", "RUNTIME", "container_step", "command_line",
}) | frozenset(dir(builtins))


@dataclass
class Container:
    """A step that runs in a container of its own: its deployment and job variables."""

    deployment: str
    reasons: list[str]
    job_variables: dict[str, Any]
    work_queue: Optional[str] = None


@dataclass
class TaskPlan:
    step: str  # the step's name: the Prefect task's name
    func: str  # the Python name of the task function
    ref: str  # flow.py:LINE
    summary: str  # what the step does, for the comment
    described: str  # targets/base.py describe_step: the step's name, flow.py:LINE, its docstring's first line
    description: Optional[str]
    is_start: bool = False
    triggered: bool = False  # the start task of a triggered flow: it takes the triggering events
    recursive: bool = False
    retries: int = 0
    retry_delay: Any = 0
    timeout: Optional[int] = None  # seconds: targets/base.py engine_timeout
    timeout_note: str = ""
    notes: list[str] = field(default_factory=list)
    secrets: tuple[str, ...] = ()
    container: Optional[Container] = None
    environment: Optional[dict] = None  # the step's environment, for the runtime to build

    @property
    def comment(self) -> str:
        return f"{self.step} ({self.ref}): {self.summary}"

    @property
    def signature(self) -> str:
        args = ["run_id: str", "index: str"]
        if self.recursive:
            args.append("iteration: int")
        if self.is_start:
            args.append("params: dict")
        if self.triggered:
            args.append("trigger: Optional[list] = None")
        return ", ".join(args + ["after: Any = None"])

    @property
    def call(self) -> str:
        args = [py_literal(self.step), "run_id", "index"]
        if self.recursive:
            args.append("iteration=iteration")
        if self.is_start:
            args.append("params=params")
        if self.secrets:
            args.append(f"secrets={py_literal(self.secrets)}")
        if self.container:
            args.append(f"deployment={py_literal(self.container.deployment)}")
        if self.triggered:
            args.append("trigger=trigger")
        return f"RUNTIME.run_step({', '.join(args)})"


@dataclass
class Stmt:
    """One statement of the flow body.

    kinds: ``call`` (``var = call``: a task submitted or mapped, or a wait for
    tasks' results: a switch's case, a foreach's index paths) and ``loop`` (a
    recursive switch outside any foreach: ``call``, then ``again`` while the
    step chooses itself). A ``guard`` makes the statement conditional: the
    step runs only if a switch led to it."""

    kind: str
    var: str
    call: str
    comment: str = ""
    guard: Optional[str] = None
    task: Optional[TaskPlan] = None
    again: str = ""
    iter_var: str = ""
    case_var: str = ""


@dataclass
class ParamPlan:
    name: str  # the flow's parameter name (the runtime's)
    py: str  # the Prefect flow function's argument
    annotation: str
    default: Optional[str]  # Python source, or None when required
    help: Optional[str]
    type: str
    yaml: Optional[str]  # the default in prefect.yaml, or None
    yaml_note: str = ""
    flag: Optional[str] = None  # Parameter(is_flag=True): what `--name` alone sets (Python source)
    required: bool = False
    raw_default: Any = None  # the default as a JSON value


@dataclass
class Plan:
    flow: ir.Flow
    module_doc: str
    flow_func: str
    flow_doc: str
    params: list[ParamPlan]
    tasks: list[TaskPlan]
    body: list[Stmt]
    futures: list[str]
    command: list[list[str]]
    step_flow_name: str
    deployment: str
    tags: list[str]
    job_variables: dict[str, Any]
    schedule: Optional[ir.Schedule]
    triggers: list  # targets/prefect/events.py TriggerPlan
    end_event: str = ""  # what a successful run publishes (targets/events.py)
    trigger_param: Optional[str] = None  # the flow function's parameter for the triggering events
    run_var: str = "run_id"
    params_var: str = "params"
    bootstrap: bool = False  # per-step environments built by each task, even in a container of its own
    package: str = ""  # the code package tasks fetch, or "" when the code is in the image

    @property
    def has_containers(self) -> bool:
        return any(t.container for t in self.tasks)

    @property
    def imports(self) -> list[str]:
        """The module's imports: only what it uses."""
        code = " ".join(f"{s.call} {s.guard or ''} {s.again}" for s in self.body)
        used = {name for name in HELPERS if re.search(rf"\b{name}\(", code)}
        used |= {"current_run_id", "finish"}
        if any(s.kind == "loop" for s in self.body):
            used.add("chosen")
        if any(p.type == "json" for p in self.params):
            used.add("json_text")
        typing = ["Any"] + (["Optional"] if self.has_containers or self.trigger_param or any(
            "Optional" in p.annotation for p in self.params) else [])
        prefect = ["flow", "task"] + (["unmapped"] if "unmapped(" in code else [])
        lines = [f"from typing import {', '.join(typing)}", "",
                  f"from prefect import {', '.join(prefect)}",
                  "from prefect.cache_policies import NO_CACHE",
                  "from prefect.task_runners import ThreadPoolTaskRunner", "",
                  f"from flowc.engines.prefect import {', '.join(['FlowRuntime', *sorted(used)])}"]
        return lines

    @property
    def environments(self) -> dict[str, dict]:
        return {t.step: t.environment for t in self.tasks if t.environment}


