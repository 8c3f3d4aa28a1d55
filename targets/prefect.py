"""The Prefect 3 target: a flow module, a prefect.yaml and a work pool template.

The compile lowers the IR to a small typed plan, in the manner of sqlglot,
then renders it with jinja2 templates (``templates/prefect*.j2``):

- ``prefect_flow.py``: one Prefect task per step, each calling the runtime's
  one command (its output goes to Prefect's run logger), and one Prefect flow
  whose parameters mirror the flow's Parameters. The flow body is a straight
  sequence of statements, one per step: ``submit`` outside a foreach (so
  static branches run concurrently), ``.map`` over foreach index paths inside
  one (nested foreaches and multi-step bodies too), a Python ``if`` for a
  switch and a ``while`` loop for a recursive switch. Only small scalars pass
  between tasks: run id, index path, iteration, the case a switch chose and a
  foreach's count.
- ``prefect.yaml``: the flow's deployment (work pool, image, parameters with
  their defaults, the ``@schedule`` and ``@trigger``), and one deployment per
  step that needs a container of its own (a per-step image, GPUs, more
  resources than the flow's pod, ``@kubernetes``, ``@batch``). The flow's
  task for such a step starts that deployment with Prefect's
  ``run_deployment``; its job variables (image, resources, node selector,
  tolerations...) fill the work pool's Kubernetes job template.
- ``kubernetes-job-template.json``: that base job template (Prefect's
  default one plus GPU, disk, node selector, tolerations and volumes), for
  ``prefect work-pool create --base-job-template``.
- ``<Flow>.ir.json``: the IR the runtime reads beside the flow file.

Which steps run where: every step runs in the flow run's own process (its
pod, on a Kubernetes work pool) except the container steps above. Every
derived graph fact (parents, parent groups, foreach stacks, joins) is read
from the IR; the only analysis here decides which steps may not run at all
(those behind a switch), to guard them with an ``if``.
"""

from __future__ import annotations

import bisect
import builtins
import functools
import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from flowc import __version__
from flowc.compiler import ir
from flowc.compiler.spans import Span

from .base import Option, Target, ir_file, source_ref, yes
from .resources import asked_of as resources_of
from .python_emit import comment_text, py_literal

MODULE = "prefect_flow.py"
YAML = "prefect.yaml"
JOB_TEMPLATE = "kubernetes-job-template.json"

# What `prefect deploy` substitutes in prefect.yaml values (Prefect's own
# placeholder pattern): a value holding one cannot be written there literally.
PREFECT_PLACEHOLDER = re.compile(r"{{\s*([\w\.\-\[\]$]+)\s*}}")
# Prefect block names (Secret blocks carry @secrets)
BLOCK_NAME = re.compile(r"[a-z0-9-]+\Z")
# placeholders for the parts of the runtime command a task fills in
_RUN, _INDEX, _ATTEMPT, _OUTPUT = "\0run_id\0", "\0index\0", "\0attempt\0", "\0output\0"

# Names the generated module defines or imports at top level: a step's task
# function must not shadow them, and the flow body reads the ones in
# BODY_NAMES (so a flow parameter, a local of the flow function, must not be
# called like one of those).
BODY_NAMES = frozenset({
    "unmapped", "current_run_id", "chosen", "foreach_indices", "took", "merged", "common", "zipped",
    "repeat_switch", "finish", "json_text",
})
MODULE_NAMES = BODY_NAMES | frozenset({
    "annotations", "json", "os", "queue", "subprocess", "sys", "tempfile", "threading", "Any", "Optional",
    "flow", "task", "get_run_logger", "NO_CACHE", "Completed", "runtime", "ThreadPoolTaskRunner", "logging",
    "ENVIRONMENTS", "BOOTSTRAP", "STEP_FLOW", "_pump", "_futures", "FLOW", "HERE", "RUNTIME",
    "CONTAINER_STEPS", "StepFailed", "runtime_command", "pathspec", "run_step", "execute", "run_in_container",
    "dispatch_to_containers", "secret_env", "outcome", "container_step", "command_line",
}) | frozenset(dir(builtins))


# ------------------------------------------------------------------ the plan


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
    description: Optional[str]
    is_start: bool = False
    recursive: bool = False
    retries: int = 0
    retry_delay: Any = 0
    timeout: Optional[int] = None
    notes: list[str] = field(default_factory=list)
    secrets: tuple[str, ...] = ()
    container: Optional[Container] = None
    environment: Optional[dict] = None  # the step's environment, for the runtime to build

    @property
    def signature(self) -> str:
        args = ["run_id: str", "index: str"]
        if self.recursive:
            args.append("iteration: int")
        if self.is_start:
            args.append("params: dict")
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
        return f"run_step({', '.join(args)})"


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
    triggers: list[dict[str, Any]]
    run_var: str = "run_id"
    params_var: str = "params"
    bootstrap: bool = False  # per-step environments built by each task, even in a container of its own
    package: str = ""  # the code package tasks fetch, or "" when the code is in the image

    @property
    def has_containers(self) -> bool:
        return any(t.container for t in self.tasks)

    @property
    def environments(self) -> dict[str, dict]:
        return {t.step: t.environment for t in self.tasks if t.environment}


# ------------------------------------------------------------------ the target


class PrefectTarget(Target):
    name = "prefect"
    description = "Prefect 3: a flow module with one task per step, and a prefect.yaml that deploys it"
    OUTPUT_KIND = "directory"
    CAPABILITIES = {
        "branch": yes("tasks submitted concurrently"),
        "foreach": yes("Task.map over index paths"),
        "nested_foreach": yes(),
        "foreach_body": yes(),
        "switch": yes("a Python if"),
        "recursive_switch": yes("a while loop"),
        "parameters": yes("flow parameters"),
        "required_parameters": yes(),
        "retry": yes("task retries and retry_delay_seconds"),
        "timeout": yes("task timeout_seconds (the runtime enforces @timeout first)"),
        "catch": yes("the runtime catches on the last attempt"),
        "resources": yes("a step asking for more than the flow's pod runs in a container of its own"),
        "gpu": yes("Kubernetes job template variables"),
        "environment": yes("set by the runtime"),
        "secrets": yes("Prefect Secret blocks, as environment variables"),
        "schedule": yes("deployment schedule"),
        "trigger": yes("deployment event trigger"),
        "project": yes("deployment name prefix and tags"),
        "image": yes("a deployment of its own on the Kubernetes work pool"),
        "kubernetes": yes("job variables of the step's deployment"),
        "batch": yes("a container of its own on the work pool; queue= is its work queue"),
        "packages": yes("its environment's image (a container of its own), or built at start "
                        "(--environments bootstrap); run directly, the runtime builds it here"),
    }
    OPTIONS = (
        Option("work_pool", str, "flowc", "Prefect work pool (type kubernetes) of the flow and its container steps"),
        Option("work_queue", str, "", "work queue of the flow's deployment (default: the pool's default queue)"),
        Option("namespace", str, "default", "Kubernetes namespace of the flow's pods"),
        Option("cpu", float, 1.0, "CPUs of the flow's own pod; a step asking for more runs in a container of its own"),
        Option("memory", int, 4096, "memory (MB) of the flow's own pod; a step asking for more runs in its own"),
        Option("disk", int, 10240, "disk (MB) of the flow's own pod; a step asking for more runs in its own"),
        Option("workdir", str, "/opt/prefect/flow",
               "folder of the image holding prefect_flow.py (and, without a code package, the flow file and its IR)"),
        Option("deployment", str, "", "name of the flow's deployment (default: the flow's name, after @project)"),
        Option("max_workers", int, 8, "tasks a flow run runs at once (its thread pool); 0: Prefect's setting "
               "PREFECT_TASK_RUNNER_THREAD_POOL_MAX_WORKERS, unbounded when unset"),
    )

    # ---------------------------------------------------------------- emit

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        plan = self.plan(flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        env = _jinja()
        module = env.get_template("prefect_flow.py.j2").render(plan=plan, version=__version__, opt=self.options)
        yaml_text = env.get_template("prefect.yaml.j2").render(plan=plan, version=__version__, opt=self.options,
                                                               containers=[t for t in plan.tasks if t.container])
        self.check_yaml_is_literal(flow, yaml_text)
        template = env.get_template("prefect_job_template.json.j2").render()
        if any(d.is_error for d in self.diagnostics):
            return {}
        files = {MODULE: module.encode(), YAML: yaml_text.encode(), JOB_TEMPLATE: template.encode()}
        if not plan.package:  # the code is in the image, beside prefect_flow.py: the runtime reads this IR
            files[ir_file(flow)] = ir.dump(flow).encode()
        return files

    # ---------------------------------------------------------------- plan

    def plan(self, flow: ir.Flow) -> Plan:
        if self.flow is not flow:  # planned outside compile(): per-step environments are resolved for this flow
            self.flow, self.environments = flow, None
        names = _Names(MODULE_NAMES)
        # required parameters first: Python wants arguments without a default before the others
        ordered = sorted(flow.parameters, key=lambda p: not p.required)
        params = [self.param(flow, p) for p in ordered]
        py_params = {p.py for p in params}
        for p, pp in zip(ordered, params):
            if pp.py in BODY_NAMES:
                self.unsupported(f"parameter '{p.name}' would hide the generated flow's helper {pp.py}()", p.span,
                                 "rename the parameter")
        seen: dict[str, str] = {}
        for p, pp in zip(ordered, params):
            if pp.py in seen:
                self.unsupported(f"parameters '{seen[pp.py]}' and '{p.name}' are both '{pp.py}' as Python names",
                                 p.span, "rename one of them")
            seen[pp.py] = p.name
        names.reserve(py_params)
        flow_func = names.claim(_snake(flow.name))
        project = flow.decorators.project
        deployment = self.option("deployment") or _deployment_name(flow)
        step_prefix = f"{_project_part(project)}." if project else ""
        tasks = {s.name: self.task(flow, s, names, step_prefix) for s in flow.ordered_steps()}
        body_names = _Names(MODULE_NAMES | py_params | set(names.used))
        run_var, params_var = body_names.claim("run_id"), body_names.claim("params")
        body, futures = _Body(flow, tasks, body_names, run_var, params_var).build()
        self.refuse_placeholders(flow)
        tags = ["flowc"]
        if project:
            tags += [f"project:{project.name}", f"project_branch:{_project_part(project).split('.', 1)[1]}"]
        return Plan(
            flow=flow,
            module_doc=py_docstring(self.module_doc(flow) + "\n"),
            flow_func=flow_func,
            flow_doc=self.flow_docstring(flow, params),
            params=params,
            tasks=list(tasks.values()),
            body=body,
            futures=futures,
            command=self.command(flow),
            step_flow_name=f"{flow.name}-step",
            deployment=deployment,
            tags=tags,
            job_variables=self.pod_variables(),
            schedule=flow.decorators.schedule,
            triggers=self.triggers(flow),
            run_var=run_var,
            params_var=params_var,
            package=self.code_package_url(flow),
            bootstrap=self.option("environments") == "bootstrap",
        )

    def refuse_placeholders(self, flow: ir.Flow) -> None:
        """prefect deploy substitutes {{ $VAR }} and {{ prefect.variables.x }} in
        prefect.yaml (there is no escape): a flow value that would land there
        holding one would copy a secret of the deploying machine into it."""
        hint = "remove the {{ }} (Prefect has no escape for them in prefect.yaml)"
        project, schedule = flow.decorators.project, flow.decorators.schedule
        if project is not None and _has_placeholder([project.name, project.branch]):
            self.unsupported("@project holds {{ }}, which prefect deploy would substitute into the deployment's "
                             "name and tags", project.span, hint)
        if schedule is not None and _has_placeholder([schedule.cron, schedule.timezone]):
            self.unsupported("@schedule holds {{ }}, which prefect deploy would substitute", schedule.span, hint)
        if _has_placeholder(_deployment_name(flow)):
            self.unsupported("the deployment name holds {{ }}, which prefect deploy would substitute",
                             flow.span, hint)

    def check_yaml_is_literal(self, flow: ir.Flow, text: str) -> None:
        """The backstop: prefect.yaml loads, and no value in it is a placeholder
        that prefect deploy would substitute (each source is refused above)."""
        import yaml

        doc = yaml.safe_load(text)
        found = [v for v in _strings(doc) if PREFECT_PLACEHOLDER.search(v)]
        for opt in sorted(self.options):  # a config value: the option is named, as for every bad option
            value = self.options[opt]
            if isinstance(value, str) and _has_placeholder(value) and any(value in v for v in found):
                self.error("FC502", f"--{opt.replace('_', '-')} holds {{{{ }}}}, which prefect deploy would "
                           "substitute in prefect.yaml", flow.span, "remove the {{ }} from the option")
        if found and not any(d.is_error for d in self.diagnostics):
            self.unsupported(f"prefect.yaml would hold {found[0]!r}, which prefect deploy would substitute",
                             flow.span, "remove the {{ }} from the flow's decorators and options")

    def module_doc(self, flow: ir.Flow) -> str:
        return (f"Prefect flow of {flow.name}, compiled by flowc {__version__} from {flow.source.path}.\n\n"
                f"Each step is a Prefect task that runs flowc's runtime; artifacts stay in the\n"
                f"datastore ({self.option('datastore')}), never in Prefect. Recompile instead of editing.\n\n"
                f"    python {MODULE}     run it on this machine, every step here\n"
                f"    prefect deploy --all      deploy it and its container steps (see {YAML})")

    def param(self, flow: ir.Flow, p: ir.Parameter) -> ParamPlan:
        py = p.name.replace("-", "_")
        if keyword.iskeyword(py) or keyword.issoftkeyword(py):
            py += "_"
        base = {"str": "str", "int": "int", "float": "float", "bool": "bool", "json": "Any"}[p.type]
        if p.required:
            annotation, default = base, None
        elif p.default is None:
            annotation, default = ("Any" if base == "Any" else f"Optional[{base}]"), "None"
        else:
            annotation, default = base, py_literal(p.default)
        yaml_value, note = None, ""
        if p.required:
            note = "required: give it when you start a run"
        elif _has_placeholder(p.default):
            note = "default kept in the flow's signature: prefect deploy would substitute its {{ }}"
        else:
            yaml_value = yaml_literal(p.default)
        flag = ("False" if p.default is True else "True") if p.is_flag else None  # as click's flags
        return ParamPlan(name=p.name, py=py, annotation=annotation, default=default, help=p.help, type=p.type,
                         yaml=yaml_value, yaml_note=note, flag=flag)

    def flow_docstring(self, flow: ir.Flow, params: list[ParamPlan]) -> str:
        lines = [(flow.docstring or f"The {flow.name} flow.").strip()]
        described = [p for p in params if p.help]
        if described:
            lines += ["", "Args:"]
            for p in described:
                first, *rest = p.help.split("\n")
                lines.append(f"    {p.py}: {first}")
                lines += [f"        {line}" if line else "" for line in rest]
        text = "\n".join(lines)
        return py_docstring(text + "\n" if "\n" in text else text, indent="    ")  # closing quotes on a line of their own

    def command(self, flow: ir.Flow) -> list[list[str]]:
        """The runtime's one command as Python expressions, for runtime_command(),
        in lines: the program, then one option and its value per line."""
        argv = self.runtime_argv(flow, flow.steps[0], run_id=_RUN, index=_INDEX, attempt=_ATTEMPT, output=_OUTPUT)
        exprs = {_RUN: "run_id", _INDEX: "index", _ATTEMPT: "str(attempt)", _OUTPUT: "output"}
        out = []
        for i, arg in enumerate(argv):
            if i > 0 and argv[i - 1] == "--step":
                out.append("step")
            elif arg in exprs:
                out.append(exprs[arg])
            else:
                out.append(py_literal(arg))
        lines: list[list[str]] = [[]]
        for expr, arg in zip(out, argv):
            if arg.startswith("--") and lines[-1]:
                lines.append([])
            lines[-1].append(expr)
        return lines

    def task(self, flow: ir.Flow, s: ir.Step, names: "_Names", step_prefix: str) -> TaskPlan:
        d = s.decorators
        t = TaskPlan(step=s.name, func=names.claim(s.name, suffix="_step"), ref=source_ref(flow, s.span),
                     summary=_summary(s, flow.steps_by_name), description=s.docstring, is_start=s.name == flow.start,
                     recursive=s.is_recursive)
        if d.retry is not None:
            t.retries = d.retry.times
            t.retry_delay = _number(d.retry.minutes_between_retries * 60)
            t.notes.append(f"@retry(times={d.retry.times}): Prefect retries the task; each retry is the runtime's "
                           f"next attempt ({source_ref(flow, d.retry.span)})")
        if d.timeout is not None:
            t.timeout = d.timeout.seconds + max(10, d.timeout.seconds // 10)
            t.notes.append(f"@timeout: the runtime stops the step after {d.timeout.seconds} s; "
                           f"Prefect's timeout is the backstop ({source_ref(flow, d.timeout.span)})")
        if d.catch is not None:
            where = f"self.{d.catch.var}" if d.catch.var else "nothing"
            t.notes.append(f"@catch: on the last attempt the runtime stores the failure in {where} "
                           f"and the flow goes on ({source_ref(flow, d.catch.span)})")
        t.secrets = self.secrets(flow, s)
        t.container = self.container(flow, s, step_prefix)
        env = self.step_environment(s)
        if env is not None and env.manager != "none":
            t.environment = {k: v for k, v in sorted(env.to_json().items()) if k != "steps"}
            where = (f"in its image {self.image_for(s)}" if self.option("environments") == "image"
                     else "built by the runtime when the task starts")
            t.notes.append(f"@{env.manager}: environment {env.id}, {where}")
        return t

    def secrets(self, flow: ir.Flow, s: ir.Step) -> tuple[str, ...]:
        out: list[str] = []
        deco = s.decorators.secrets
        if deco is not None:
            for name in deco.sources:
                if not BLOCK_NAME.match(name):
                    self.unsupported(f"secret {name!r} cannot name a Prefect Secret block", deco.span,
                                     "Prefect block names hold lowercase letters, digits and dashes")
                elif name not in out:
                    out.append(name)
        return tuple(out)

    # ---------------------------------------------------------------- containers

    def pod_variables(self) -> dict[str, Any]:
        """Job variables of the flow's own pod (its deployment)."""
        out: dict[str, Any] = {"image": self.option("image"), "namespace": self.option("namespace"),
                               "cpu_request": _number_text(self.option("cpu")),
                               "memory_request": f"{self.option('memory')}M"}
        if self.option("disk"):
            out["ephemeral_storage_request"] = f"{self.option('disk')}M"
        return out

    def container(self, flow: ir.Flow, s: ir.Step, step_prefix: str) -> Optional[Container]:
        d = s.decorators
        res = resources_of(s)
        reasons: list[str] = []
        if d.kubernetes is not None:
            reasons.append("@kubernetes")
        if d.batch is not None:
            reasons.append("@batch")
        image = self.image_for(s)
        env = self.step_environment(s)
        if image != self.option("image"):
            from_env = env is not None and env.manager != "none" and self.option("environments") == "image"
            reasons.append(f"its @{env.manager} environment's image {image}" if from_env else f"its own image {image}")
        if res.get("gpu"):
            reasons.append(f"{res['gpu']} GPU" + ("s" if res["gpu"] > 1 else ""))
        for key, unit, label in (("cpu", "", "CPUs"), ("memory", " MB", "memory"), ("disk", " MB", "disk")):
            if res.get(key) is not None and res[key] > self.option(key):
                reasons.append(f"{label} {_number_text(res[key])}{unit} > the flow pod's "
                               f"{_number_text(self.option(key))}{unit}")
        if res.get("shared_memory"):
            reasons.append(f"{res['shared_memory']} MB shared memory")
        if not reasons:
            return None
        where = self.decorator_span(s)
        jv: dict[str, Any] = {"image": image, "namespace": self.option("namespace")}
        k8s, batch = d.kubernetes, d.batch
        if res.get("cpu") is not None:
            jv["cpu_request"] = _number_text(res["cpu"])
        if res.get("memory") is not None:
            jv["memory_request"] = f"{res['memory']}M"
        if res.get("disk") is not None:
            jv["ephemeral_storage_request"] = f"{res['disk']}M"
        if res.get("gpu"):
            vendor = (k8s.gpu_vendor if k8s is not None and k8s.gpu_vendor else "nvidia").lower()
            if vendor not in ("nvidia", "amd"):
                self.unsupported(f"GPU vendor {vendor!r} of step '{s.name}'", k8s.span,
                                 "the job template knows nvidia.com/gpu and amd.com/gpu")
            jv[f"{vendor}_gpu"] = res["gpu"]
        volumes, mounts = [], []
        if res.get("shared_memory"):
            volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{res['shared_memory']}M"}})
            mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
        work_queue = None
        if k8s is not None:
            if k8s.image_pull_policy:
                jv["image_pull_policy"] = k8s.image_pull_policy
            if k8s.namespace:
                jv["namespace"] = k8s.namespace
            if k8s.service_account:
                jv["service_account_name"] = k8s.service_account
            if k8s.node_selector:
                jv["node_selector"] = dict(sorted(k8s.node_selector.items()))
            if k8s.tolerations:
                jv["tolerations"] = [_toleration(t) for t in k8s.tolerations]
            if k8s.labels:
                jv["labels"] = dict(sorted(k8s.labels.items()))
            if k8s.annotations:
                jv["annotations"] = dict(sorted(k8s.annotations.items()))
            if k8s.secrets:
                jv["env_from"] = [{"secretRef": {"name": name}} for name in k8s.secrets]
            for i, (claim, path) in enumerate(sorted(k8s.persistent_volume_claims.items())):
                volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": claim}})
                mounts.append({"name": f"pvc-{i}", "mountPath": path})
        if batch is not None:
            for attr in ("iam_role", "execution_role"):
                if getattr(batch, attr):
                    self.unsupported(f"@batch({attr}=...) of step '{s.name}' has no Kubernetes counterpart",
                                     batch.span,
                                     "give the pod's service account the role instead (@kubernetes(service_account=...))")
            work_queue = batch.queue
        if volumes:
            jv["volumes"] = volumes
            jv["volume_mounts"] = mounts
        if _has_placeholder(jv) or _has_placeholder(work_queue):
            self.unsupported(f"a pod option of step '{s.name}' holds {{{{ }}}}, which prefect deploy would substitute",
                             where, "remove the braces from image names, labels, annotations and selectors")
        return Container(deployment=f"{step_prefix}{s.name}", reasons=reasons, job_variables=jv,
                         work_queue=work_queue)

    @staticmethod
    def decorator_span(s: ir.Step) -> Span:
        d = s.decorators
        for deco in (d.kubernetes, d.batch, d.resources):
            if deco is not None:
                return deco.span
        return s.span

    # ---------------------------------------------------------------- triggers

    def triggers(self, flow: ir.Flow) -> list[dict[str, Any]]:
        trig = flow.decorators.trigger
        if trig is None:
            return []
        if _has_placeholder(list(trig.events)):
            self.unsupported("an event name holds {{ }}, which prefect deploy would substitute", trig.span,
                             "name the event without braces")
        single = [{"type": "event", "expect": [e], "posture": "Reactive", "threshold": 1, "within": 0}
                  for e in trig.events]
        if len(single) == 1:
            return single
        return [{"type": "compound", "require": "all", "within": 86400, "triggers": single}]


# ------------------------------------------------------------------ the flow body


class _Body:
    """Orders the flow body and names its variables.

    Statements follow the flow's topological order, except that a step which
    must wait for another task's result (a switch's case, a foreach's count)
    comes after every step that can already be submitted, so independent
    branches start before the flow blocks."""

    def __init__(self, flow: ir.Flow, tasks: dict[str, TaskPlan], names: "_Names", run_var: str, params_var: str):
        self.flow = flow
        self.steps = flow.steps_by_name
        self.tasks = tasks
        self.names = names
        self.run = run_var
        self.params = params_var
        self.cond = _conditions(flow)
        self.future: dict[str, str] = {}
        self.index_var: dict[str, str] = {}
        self.case_var: dict[str, str] = {}
        self.out: list[Stmt] = []

    # -- naming
    def future_of(self, step: str) -> str:
        if step not in self.future:
            plural = "futures" if self.steps[step].depth else "future"
            self.future[step] = self.names.claim(f"{step}_{plural}")
        return self.future[step]

    def case_of(self, step: str) -> str:
        if step not in self.case_var:
            self.case_var[step] = self.names.claim(f"{step}_case")
        return self.case_var[step]

    # -- ordering
    def build(self) -> tuple[list[Stmt], list[str]]:
        # Emit, of the steps whose parents are all emitted, the first in flow
        # order that does not block, else the first. Readiness is counted down
        # as parents are emitted, so the order costs the edges, not steps squared.
        position = {n: i for i, n in enumerate(self.flow.order)}
        waiting: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        for n in self.flow.order:
            parents = set(self.steps[n].parents)
            waiting[n] = len(parents)
            for p in parents:
                children.setdefault(p, []).append(n)
        ready = [n for n in self.flow.order if not waiting[n]]
        for _ in range(len(self.flow.order)):
            pick = next((n for n in ready if not self.blocks(self.steps[n])), ready[0])
            if self.steps[pick].depth:
                self.emit_mapped(self.steps[pick])
            else:
                self.emit_top(self.steps[pick])
            ready.remove(pick)
            for c in children.get(pick, ()):
                waiting[c] -= 1
                if not waiting[c]:
                    bisect.insort(ready, c, key=position.__getitem__)
        guards = " ".join(s.guard or "" for s in self.out)
        for stmt in self.out:
            if stmt.kind == "loop" and not re.search(rf"\b{stmt.case_var}\b", guards):
                stmt.case_var = ""
        return self.out, [self.future[n] for n in self.flow.order]

    def blocks(self, s: ir.Step) -> bool:
        """Whether emitting the step waits for a result not yet waited for."""
        if s.is_recursive:
            return True
        for p in s.parents:
            ps = self.steps[p]
            if ps.kind == ir.SWITCH and p not in self.case_var and not (s.depth and s.name in self.index_var):
                return True
            if s.depth and ps.kind == ir.FOREACH and s.name in ps.next:
                return True
        return False

    def args(self, s: ir.Step, index: str, iteration: Optional[str] = None) -> list[str]:
        out = [self.run if not s.depth else f"unmapped({self.run})", index]
        if iteration is not None:
            out.append(iteration)
        if s.name == self.flow.start:
            out.append(self.params)
        return out

    # -- outside any foreach
    def emit_top(self, s: ir.Step) -> None:
        t = self.tasks[s.name]
        for p in s.parents:
            ps = self.steps[p]
            if ps.kind == ir.SWITCH and not ps.is_recursive and not ps.depth and p not in self.case_var:
                self.out.append(Stmt("call", var=self.case_of(p), call=f"chosen({self.future_of(p)})",
                                     comment=f"wait for {p}: the case it chose decides what runs next"))
        wait_for = [self.future_of(p) for p in s.parents]
        guard = None if self.cond[s.name] == _TRUE else self.guard(s)
        var = self.future_of(s.name)
        if s.is_recursive:
            iter_var = self.names.claim(f"{s.name}_iteration")
            first = _call(f"{t.func}.submit", self.args(s, '"0"', "0"), wait_for=wait_for)
            again = _call(f"{t.func}.submit", self.args(s, '"0"', iter_var), wait_for=[var])
            self.out.append(Stmt("loop", var=var, call=first, again=again, iter_var=iter_var, task=t, guard=guard,
                                 case_var=self.case_of(s.name), comment=_comment(t)))
        else:
            call = _call(f"{t.func}.submit", self.args(s, '"0"'), wait_for=wait_for)
            self.out.append(Stmt("call", var=var, call=call, guard=guard, task=t, comment=_comment(t)))

    def guard(self, s: ir.Step) -> Optional[str]:
        """When a step that may not run runs: each parent group delivered."""
        if s.closes and self.steps[s.closes].kind == ir.FOREACH:
            return f"{self.future_of(s.closes)} is not None"
        groups = []
        for group in s.parent_groups:
            members = []
            for m in group:
                ms = self.steps[m]
                if ms.kind == ir.SWITCH:
                    members.append(f"{self.case_of(m)} == {py_literal(s.name)}")
                elif self.cond[m] == _TRUE:
                    members = []
                    break
                else:
                    members.append(f"{self.future_of(m)} is not None")
            if members:
                groups.append(members)
        parts = [" or ".join(g) if len(groups) == 1 or len(g) == 1 else f"({' or '.join(g)})" for g in groups]
        return " and ".join(parts) or None

    # -- inside a foreach
    def emit_mapped(self, s: ir.Step) -> None:
        t = self.tasks[s.name]
        indices, aligned = self.indices_of(s)
        var = self.future_of(s.name)
        futures = [self.future_of(p) for p in s.parents]
        if aligned:
            after = futures[0] if len(futures) == 1 else f"zipped({', '.join(futures)})"
            call = _call(f"{t.func}.map", self.args(s, indices, "0" if s.is_recursive else None), after=after)
        else:
            call = _call(f"{t.func}.map", self.args(s, indices, "0" if s.is_recursive else None), wait_for=futures)
        self.out.append(Stmt("call", var=var, call=call, task=t, comment=_comment(t)))
        if s.is_recursive:
            self.out.append(Stmt("call", var=var, call=f"repeat_switch({t.func}, {py_literal(s.name)}, {self.run}, {var})",
                                 comment=f"each {s.name} task that chose {s.name} runs again, until none does"))

    def indices_of(self, s: ir.Step) -> tuple[str, bool]:
        """The variable holding the step's index paths, and whether each of its
        tasks can wait for its own parents' tasks alone (same index paths)."""
        parents = [self.steps[p] for p in s.parents]
        if len(parents) == 1 and parents[0].kind == ir.FOREACH and s.name in parents[0].next:
            split = parents[0]
            var = self.names.claim(f"{s.name}_indices")
            call = f"foreach_indices({self.future_of(split.name)}, depth={split.depth})"
            self.out.append(Stmt("call", var=var, call=call,
                                 comment=f"wait for {split.name}: one {s.name} task per item of self.{split.foreach}"))
            self.index_var[s.name] = var
            return var, False
        if s.closes and self.steps[s.closes].kind == ir.FOREACH:
            var = self.index_var[s.closes]
            self.index_var[s.name] = var
            return var, False
        groups: list[list[str]] = []
        took = False
        for group in s.parent_groups:
            exprs = []
            for m in group:
                if self.steps[m].kind == ir.SWITCH:
                    exprs.append(f"took({self.future_of(m)}, {py_literal(s.name)})")
                    took = True
                else:
                    exprs.append(self.index_var[m])
            groups.append(sorted(set(exprs), key=exprs.index))
        flat = {e for g in groups for e in g}
        if len(flat) == 1 and not took:
            var = flat.pop()
            self.index_var[s.name] = var
            return var, all(p.kind != ir.FOREACH for p in parents)
        merged = [g[0] if len(g) == 1 else f"merged({', '.join(g)})" for g in groups]
        expr = merged[0] if len(merged) == 1 else f"common({', '.join(merged)})"
        var = self.names.claim(f"{s.name}_indices")
        switches = [p.name for p in parents if p.kind == ir.SWITCH]
        comment = (f"wait for {', '.join(switches)}: the items whose case leads to {s.name}" if switches
                   else f"the items {s.name} runs for")
        self.out.append(Stmt("call", var=var, call=expr, comment=comment))
        self.index_var[s.name] = var
        return var, False


def _call(func: str, args: list[str], wait_for: Optional[list[str]] = None, after: Optional[str] = None) -> str:
    parts = list(args)
    if after is not None:
        parts.append(f"after={after}")
    if wait_for:
        parts.append(f"wait_for=[{', '.join(wait_for)}]")
    return f"{func}({', '.join(parts)})"


# ------------------------------------------------------------------ which steps may not run

_Term = frozenset  # of (switch, chosen step) literals that must all hold
_TRUE = frozenset({frozenset()})


def _conditions(flow: ir.Flow) -> dict[str, frozenset]:
    """For each step outside any foreach: when it runs, as a set of terms (any
    term holding suffices), each a set of (switch, chosen step) literals.
    ``_TRUE`` means it always runs. Inside a foreach, the index lists carry
    which items run, so those steps take their outermost split's condition."""
    steps = flow.steps_by_name
    targets = {s.name: frozenset(n for n in s.next if n != s.name) for s in flow.steps if s.kind == ir.SWITCH}
    cond: dict[str, frozenset] = {}
    for s in flow.ordered_steps():
        if s.name == flow.start:
            cond[s.name] = _TRUE
        elif s.depth:
            cond[s.name] = cond[s.foreach_stack[0]]
        elif s.closes and steps[s.closes].kind == ir.FOREACH:
            cond[s.name] = cond[s.closes]
        else:
            result = _TRUE
            for group in s.parent_groups:
                alternatives: set = set()
                for m in group:
                    edge = cond[m]
                    if steps[m].kind == ir.SWITCH and not steps[m].depth:
                        edge = frozenset(t | {(m, s.name)} for t in edge)
                    alternatives |= edge
                result = _and(result, frozenset(alternatives))
            cond[s.name] = _simplify(result, targets)
    return cond


def _and(a: frozenset, b: frozenset) -> frozenset:
    return frozenset(x | y for x in a for y in b)


def _simplify(terms: frozenset, targets: dict[str, frozenset]) -> frozenset:
    current = {t for t in terms if len({sw for sw, _ in t}) == len(t)}  # a switch takes one case
    while True:
        added = set()
        for t in current:
            for sw, _case in t:
                base = frozenset(x for x in t if x[0] != sw)
                if base not in current and all(base | {(sw, c)} in current for c in targets[sw]):
                    added.add(base)
        current |= added
        current = {t for t in current if not any(o < t for o in current)}
        if not added:
            return frozenset(current)


# ------------------------------------------------------------------ names and literals


class _Names:
    """Python names of the generated module: unique, never a reserved one."""

    def __init__(self, reserved: frozenset | set):
        self.reserved = set(reserved)
        self.used: list[str] = []

    def reserve(self, names) -> None:
        self.reserved |= set(names)

    def claim(self, want: str, suffix: str = "_") -> str:
        name = want
        n = 1
        while name in self.reserved or keyword.iskeyword(name):
            name = f"{want}{suffix}" if n == 1 else f"{want}{suffix}{n}"
            n += 1
        self.reserved.add(name)
        self.used.append(name)
        return name


def py_docstring(text: str, indent: str = "") -> str:
    """A triple-quoted literal whose value is ``text``, continuation lines indented."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\n")
        elif ch.isprintable() or ch == "\t":
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    lines = "".join(out).split("\n")
    body = "\n".join(indent + line if i and (line or i == len(lines) - 1) else line for i, line in enumerate(lines))
    return f'"""{body}"""'


_YAML_PLAIN_OK = re.compile(r"[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar with the exact value ``text``."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif _YAML_PLAIN_OK.match(ch) and ch not in "\u2028\u2029\ufeff":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _yaml_key(key: str) -> str:
    """A mapping key; YAML bounds implicit keys at 1024 characters, so a longer one is explicit (`? key`)."""
    text = yaml_str(key)
    return f"? {text}" if len(text) > 1000 else text


def yaml_literal(value: Any) -> str:
    """A JSON value as flow-style YAML that PyYAML reads back exactly."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp}"
        if text in ("inf", "-inf", "nan"):
            return {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}[text]
        return text
    if isinstance(value, str):
        return yaml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_key(str(k))}: {yaml_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _strings(value: Any):
    """Every string in a loaded YAML document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return bool(PREFECT_PLACEHOLDER.search(value))
    if isinstance(value, dict):
        return any(_has_placeholder(k) or _has_placeholder(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_placeholder(v) for v in value)
    return False


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _number(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def _number_text(value: float) -> str:
    return str(_number(value))


def _project_part(project: ir.Project) -> str:
    branch = "prod" if project.production else (f"test.{project.branch}" if project.branch else "user")
    return f"{project.name}.{branch}"


def _deployment_name(flow: ir.Flow) -> str:
    project = flow.decorators.project
    return f"{_project_part(project)}.{flow.name}" if project else flow.name


def _toleration(t: ir.Toleration) -> dict[str, Any]:
    out = {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect,
           "tolerationSeconds": t.toleration_seconds}
    return {k: v for k, v in out.items() if v is not None}


def _summary(s: ir.Step, steps: dict[str, ir.Step]) -> str:
    if s.kind == ir.BRANCH:
        return f"branches to {', '.join(s.next)}"
    if s.kind == ir.FOREACH:
        return f"foreach over self.{s.foreach}, into {s.next[0]}"
    if s.kind == ir.SWITCH:
        cases = ", ".join(f"{c!r}: {n}" for c, n in s.cases.items())
        return f"switch on self.{s.condition} ({cases})"
    if s.kind == ir.JOIN:
        split = steps.get(s.closes or "")
        return f"joins the {'items' if split is not None and split.kind == ir.FOREACH else 'branches'} of {s.closes}"
    if s.kind == ir.END:
        return "the end step"
    return f"goes to {', '.join(s.next)}"


def _comment(t: TaskPlan) -> str:
    return f"{t.step} ({t.ref}): {t.summary}"


@functools.lru_cache(maxsize=None)
def _jinja():
    """The templates' environment, built once (jinja2 compiles each template on first use)."""
    import jinja2

    from .python_emit import bytecode_cache

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False,
        bytecode_cache=bytecode_cache(__file__),
    )
    env.filters["py"] = py_literal
    env.filters["comment"] = comment_text
    env.filters["yaml"] = yaml_literal
    env.filters["yaml_str"] = yaml_str
    env.filters["json_text"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    return env
