"""The Apache Airflow target: one DAG file, rendered from a jinja2 template.

The compile runs in two passes, in the manner of sqlglot's lowering:

1. ``plan(flow)`` lowers the IR to a small, typed DAG plan: one Airflow
   task per step (placed in a pod, on AWS Batch, or on the Airflow worker),
   the helper tasks Airflow needs (a foreach's index lister, a switch's
   branch task or case gates), the mapped task groups foreach levels run
   in, and the edges between them. Every derived graph fact comes from the
   IR (parents, parent groups, foreach stacks, matching joins); nothing here
   walks the flow's graph on its own.
2. The template ``templates/airflow.py.j2`` renders the plan as readable,
   commented Python that imports only Airflow and the standard library.

Foreach levels. Airflow maps a task (or a task group) over a list, but
cannot expand a task inside an expanded group (apache/airflow#27681). So
every foreach level, however deep, is mapped once, over the flattened index
paths of its tasks ("2", or "2.1" one level down), which a small lister task
computes from the splits' OUT.json counts. A level without a nested foreach
is one mapped task group (its steps keep their per-item order); a level that
contains a nested foreach has one mapped group per step, all mapped over the
same list, so each join is mapped over the level it closes.

Switches. Outside a foreach a branch task follows the case the switch step
took (OUT.json's ``chosen``); inside a mapped group each case starts with a
small gate task that skips the case unless it was taken, because branch
operators do not skip inside mapped task groups (apache/airflow#67265).
The step after the cases waits with ``none_failed_min_one_success``.

Outcomes from AWS Batch. A pod or a worker task hands its OUT.json to XCom;
a Batch job cannot. So a foreach split or a switch placed on AWS Batch is
followed by a small task on the worker that reads the finished task's
OUT.json back from the datastore (the runtime's ``--output-only``, through
the same command as every task) and returns it: the lister, branch task or
gates after it read that task's XCom, and nothing downstream changes.
"""

from __future__ import annotations

import functools
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from flowc import __version__
from flowc.compiler import ir
from flowc.compiler.diagnostics import WARNING, Diagnostic
from flowc.compiler.spans import Span

from .base import Option, Target, no, source_ref, yes
from .kubernetes import camel as k8s_camel, tmpfs_of
from .resources import asked_of as resources_of
from .python_emit import py_literal, py_str

LOCAL, KUBERNETES, BATCH = "local", "kubernetes", "batch"
PLACEMENTS = (KUBERNETES, BATCH, LOCAL)

# Airflow's placeholders in templated fields (KubernetesPodOperator, BatchOperator)
RUN_ID = "{{ run_id }}"
ATTEMPT = "{{ ti.try_number - 1 }}"
# the attempt a series of tries began with: Airflow's "Clear" raises max_tries
# by the task's retries + 1 (a retry does not), so a cleared task runs again
FIRST_ATTEMPT = "{{ ti.max_tries - task.retries }}"
PARAMS = "{{ flow_params(params) }}"
# where KubernetesPodOperator's sidecar reads a pod's return value from
POD_XCOM_FILE = "/airflow/xcom/return.json"
# seconds added to @timeout for Airflow's own execution_timeout: the runtime
# enforces the timeout itself, Airflow's is the backstop
TIMEOUT_MARGIN = 60
ONE_OF = "none_failed_min_one_success"

# module-level names of the generated file, which step variables must not shadow
RESERVED_NAMES = frozenset({
    "annotations", "json", "os", "subprocess", "sys", "tempfile", "datetime", "timedelta", "timezone",
    "DAG", "BaseOperator", "Param", "literal", "task", "task_group", "AirflowSkipException",
    "CronTriggerTimetable", "KubernetesPodOperator", "Secret", "k8s", "BatchOperator",
    "FLOW_FILE", "IR_FILE", "START_STEP", "PARAMETERS", "RUN_ID", "ATTEMPT", "FIRST_ATTEMPT", "WORKDIR", "LOCAL_PYTHON",
    "step_command", "flow_params", "FlowcStep", "foreach_indices", "choose_case", "case_gate", "read_outcome",
    "dag", "str", "list", "dict", "int", "print", "range", "isinstance",
})


# ------------------------------------------------------------------ the plan


@dataclass
class Pod:
    """What a KubernetesPodOperator task needs beyond the command."""

    image: str
    namespace: str = ""
    service_account: str = ""
    image_pull_policy: str = ""
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    volumes: list[dict[str, str]] = field(default_factory=list)  # name, claim | shm size, mount path
    image_pull_secrets: list[str] = field(default_factory=list)
    security_context: dict[str, Any] = field(default_factory=dict)  # Kubernetes' camelCase field names


@dataclass
class BatchJob:
    """What an AWS Batch task needs beyond the command."""

    job_name: str
    job_definition: str
    job_queue: str
    resources: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Group:
    """A mapped task group: one foreach level (or one step of a level that
    holds a nested foreach), expanded over the level's index paths."""

    id: str
    level: tuple[str, ...]
    indices: str  # the python variable of the lister task whose list it expands over
    members: list["StepTask"] = field(default_factory=list)


@dataclass
class Reader:
    """A task on the Airflow worker after a foreach split or switch placed on
    AWS Batch: it reads the step's OUT.json back from the datastore (the
    runtime's --output-only) and returns it, since a Batch job returns no
    values to Airflow."""

    var: str
    task_id: str


@dataclass
class StepTask:
    step: ir.Step
    var: str  # python variable
    task_id: str  # id inside its group
    placement: str
    ref: str  # flow.py:LINE
    group: Optional[Group] = None
    returns: bool = False  # pushes OUT.json to XCom (foreach splits, switches not on AWS Batch)
    reader: Optional[Reader] = None  # reads OUT.json back after a foreach split or switch on AWS Batch
    is_start: bool = False
    trigger_rule: str = ""
    retries: Optional[int] = None
    retry_delay: Optional[float] = None  # minutes, as @retry says
    timeout: Optional[int] = None  # seconds, runtime's @timeout plus the margin
    env: dict[str, str] = field(default_factory=dict)
    pod: Optional[Pod] = None
    batch: Optional[BatchJob] = None
    gate_switch: str = ""  # inside a mapped group: full task id of the switch that may skip this case
    gate_var: str = ""
    gate_id: str = ""
    extra: list[str] = field(default_factory=list)  # runtime arguments of this step's own
    notes: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def full_id(self) -> str:
        return f"{self.group.id}.{self.task_id}" if self.group else self.task_id

    @property
    def out_var(self) -> str:
        """The variable of the task whose XCom holds this step's OUT.json."""
        return self.reader.var if self.reader else self.var

    @property
    def out_xcom(self) -> str:
        """The expression of this step's OUT.json in XCom (a reader's call is already one)."""
        return self.reader.var if self.reader else f"{self.var}.output"

    @property
    def out_full_id(self) -> str:
        """The full id of the task whose XCom holds this step's OUT.json."""
        if self.reader is None:
            return self.full_id
        return f"{self.group.id}.{self.reader.task_id}" if self.group else self.reader.task_id


@dataclass
class Lister:
    """Lists the index paths of a foreach's children from the split's OUT.json."""

    var: str
    task_id: str
    split: StepTask
    nested: bool  # the split itself runs mapped: one OUT.json per parent index
    source: str  # python expression of the split's XCom output


@dataclass
class Brancher:
    """A branch task after a switch step outside any foreach."""

    var: str
    task_id: str
    switch: StepTask
    cases: dict[str, str]  # case step name -> task id


@dataclass
class Param:
    name: str
    default: Any
    has_default: bool
    schema_type: Any  # a JSON-schema type, a list of them, or None
    description: Optional[str]
    ref: str


@dataclass
class Plan:
    flow: ir.Flow
    dag_id: str
    version: int
    tasks: list[StepTask]
    groups: list[Group]
    listers: list[Lister]
    branchers: list[Brancher]
    params: list[Param]
    edges: list[tuple[Optional[str], str, str]]  # (group id the edge is written in, source, target)
    schedule: Optional[ir.Schedule]
    tags: list[str]
    options: dict[str, Any]
    runtime: list[tuple[str, str]]  # the runtime command: (kind, value) pairs, see command_parts
    # what the template writes, in order: ("task", StepTask), ("group", Group), ("lister", Lister),
    # ("branch", Brancher)
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the whole DAG

    def uses(self, what: str) -> bool:
        if what in PLACEMENTS:
            return any(t.placement == what for t in self.tasks)
        if what == "gates":
            return any(t.gate_switch for t in self.tasks)
        if what == "readers":
            return any(t.reader for t in self.tasks)
        if what == "worker":  # something runs the runtime on the Airflow worker
            return self.uses(LOCAL) or self.uses("readers")
        if what == "resources":
            return any(t.pod and (t.pod.requests or t.pod.limits) for t in self.tasks)
        if what == "volumes":
            return any(t.pod and t.pod.volumes for t in self.tasks)
        if what == "secrets":
            return any(t.pod and t.pod.secrets for t in self.tasks)
        if what == "templated":
            return any(t.placement != LOCAL for t in self.tasks)
        if what == "extra":  # some step adds runtime arguments of its own
            return any(t.extra for t in self.tasks)
        if what == "param_macro":  # the start step runs from a template that needs flow_params()
            return bool(self.flow.parameters) and any(t.is_start and t.placement != LOCAL for t in self.tasks)
        if what == "timezone":
            return bool(self.schedule and self.schedule.timezone)
        raise KeyError(what)

    # ---- what the template asks for

    @property
    def needs_timedelta(self) -> bool:
        return any(t.retries is not None or t.timeout is not None for t in self.tasks)

    @property
    def decorator_imports(self) -> list[str]:
        out = []
        if self.listers or self.branchers or self.uses("gates") or self.uses("readers"):
            out.append("task")
        if self.groups:
            out.append("task_group")
        return out

    @property
    def sdk_imports(self) -> list[str]:
        names = ["DAG"]
        if self.uses(LOCAL):
            names.append("BaseOperator")
        if self.uses("timezone"):
            names.append("CronTriggerTimetable")
        if self.flow.parameters:
            names.append("Param")
        if self.uses("templated"):
            names.append("literal")
        return names + self.decorator_imports

    @property
    def command_lines(self) -> list[str]:
        """The runtime command as Python expressions, two arguments a line."""
        exprs = []
        for kind, value in self.runtime:
            if kind == "var":
                exprs.append(value)
            elif re.fullmatch(r"-m|step|flowc\.runtime|--[a-z][a-z-]*", value) or not self.uses("templated"):
                exprs.append(py_literal(value))
            else:
                exprs.append(f"fixed({py_literal(value)})")
        lines, i = [], 0
        while i < len(exprs):  # a flag and its value on one line
            take = 2 if exprs[i].startswith('"--') and i + 1 < len(exprs) else (4 if i == 0 else 1)
            lines.append(", ".join(exprs[i:i + take]))
            i += take
        return lines

    @property
    def schedule_expr(self) -> str:
        s = self.schedule
        if s is None:
            return "None"
        if s.timezone:
            return f"CronTriggerTimetable({py_literal(s.cron)}, timezone={py_literal(s.timezone)})"
        if s.kind in ("hourly", "daily", "weekly"):
            return py_literal(f"@{s.kind}")
        return py_literal(s.cron)

    @property
    def description(self) -> Optional[str]:
        """The docstring's first line that says something."""
        lines = [line.strip() for line in (self.flow.docstring or "").splitlines() if line.strip()]
        return lines[0] if lines else None

    @property
    def start_date_args(self) -> str:
        y, m, d = (int(x) for x in self.options["start_date"].split("-"))
        return f"{y}, {m}, {d}"

    @property
    def outer_edges(self) -> list[tuple[str, str]]:
        return _grouped([(a, b) for g, a, b in self.edges if g is None])

    def inner_edges(self, group: Group) -> list[tuple[str, str]]:
        return _grouped([(a, b) for g, a, b in self.edges if g == group.id])


# ------------------------------------------------------------------ the target


class AirflowTarget(Target):
    name = "airflow"
    description = "Apache Airflow DAG file (Airflow 3 by default, or Airflow 2.10)"
    CAPABILITIES = {
        "branch": yes("task dependencies"),
        "foreach": yes("dynamic task mapping over index paths; Airflow's max_map_length (1024) caps a fan-out"),
        "nested_foreach": yes("one level of mapping over flattened index paths"),
        "foreach_body": yes("a mapped task group"),
        "switch": yes("a branch task; the step after it waits for whichever case ran"),
        "recursive_switch": no("an Airflow DAG is acyclic, so a step cannot run again after itself"),
        "parameters": yes("DAG params"),
        "required_parameters": yes("DAG params without a default"),
        "retry": yes("retries and retry_delay"),
        "timeout": yes("execution_timeout"),
        "catch": yes("the runtime catches; the task succeeds"),
        "resources": yes("pod resources or Batch resourceRequirements"),
        "gpu": yes("pod GPU limits or Batch GPU"),
        "environment": yes(),
        "secrets": yes("Kubernetes secret references"),
        "schedule": yes("schedule="),
        "trigger": no("event triggers are not compiled for Airflow"),
        "project": yes("dag_id prefix and tags"),
        "image": yes(),
        "kubernetes": yes("KubernetesPodOperator"),
        "batch": yes("the amazon provider's BatchOperator; after a foreach split or switch on Batch, a task on "
                     "the worker reads its OUT.json back from the datastore"),
        "packages": yes("an image per environment, or --environments bootstrap (the task builds it, "
                        "on the worker too)"),
    }
    OPTIONS = (
        Option("airflow_version", int, 3, "Airflow major version the DAG is written for", (3, 2)),
        Option("placement", str, KUBERNETES, "where steps without @kubernetes or @batch run", PLACEMENTS),
        Option("force_placement", str, "", "run every step here, ignoring @kubernetes and @batch (for development)",
               ("",) + PLACEMENTS),
        Option("dag_id", str, "", "the DAG id (default: the flow's name, after its @project name)"),
        Option("start_date", str, "2024-01-01", "the DAG's start_date (YYYY-MM-DD); runs never catch up"),
        Option("namespace", str, "", "Kubernetes namespace of the pods (default: the connection's)"),
        Option("kubernetes_conn_id", str, "", "Airflow connection to the Kubernetes cluster (default: the provider's)"),
        Option("batch_queue", str, "", "AWS Batch job queue of @batch steps without queue="),
        Option("batch_job_definition", str, "flowc", "AWS Batch job definition (its image holds Python and flowc)"),
        Option("aws_conn_id", str, "", "Airflow connection to AWS (default: the provider's)"),
        Option("workdir", str, "", "worker folder holding the flow and its IR (default: the DAG file's folder)"),
        Option("local_python", str, "", "Python that runs worker-placed steps (default: the worker's own)"),
    )

    # ---- the pipeline

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        plan = self.plan(flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        return {f"{plan.dag_id}.py": render(plan).encode("utf-8")}

    # ---- lowering: the IR to a plan

    def plan(self, flow: ir.Flow) -> Plan:
        """Lower the IR to the DAG plan, one pass per concern."""
        self.check_dag_options(flow)
        steps = flow.ordered_steps()
        names = _Names(flow, self)
        tasks = {s.name: self.step_task(flow, s, names) for s in steps}  # placement, decorators
        groups, listers = self.map_foreach_levels(steps, tasks, names)
        branchers = self.route_switches(steps, tasks, names)
        edges = self.wire(flow, steps, tasks, branchers)
        params = [self.param(flow, p) for p in flow.parameters]
        schedule = flow.decorators.schedule
        if schedule is not None and any(not p.has_default for p in params):
            req = next(p for p in flow.parameters if p.required)
            self.unsupported(f"required parameter '{req.name}' on a scheduled flow: a scheduled run has no one "
                             "to give it a value", req.span, "give the parameter a default, or drop @schedule")
        notes = []  # what --unsupported warn let through, said where a reader looks
        if flow.decorators.trigger is not None:
            notes.append("not compiled: @trigger (Airflow runs this DAG on its schedule or by hand)")
        for s in steps:
            if s.is_recursive:
                tasks[s.name].notes.append(f"not compiled: the case that runs {s.name} again (an Airflow DAG is "
                                           "acyclic); taking it fails the run")
        tags = ["flowc"]
        project = flow.decorators.project
        if project is not None:
            tags.append(f"project:{project.name}")
            if project.branch:
                tags.append(f"branch:{project.branch}")
        return Plan(flow=flow, dag_id=self.option("dag_id") or dag_id_of(flow),
                    version=self.option("airflow_version"), tasks=[tasks[s.name] for s in steps], groups=groups,
                    listers=list(listers.values()), branchers=list(branchers.values()), params=params, edges=edges,
                    schedule=schedule, tags=tags, options=dict(self.options),
                    runtime=self.command_parts(flow, tasks), blocks=self.order_blocks(steps, tasks, listers, branchers),
                    notes=notes)

    def check_dag_options(self, flow: ir.Flow) -> None:
        dag_id = self.option("dag_id") or dag_id_of(flow)
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,250}", dag_id):
            self.error("FC502", f"DAG id {dag_id!r} may hold only letters, digits, '.', '-' and '_'", flow.span,
                       "pass --dag-id NAME")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.option("start_date")):
            self.error("FC502", f"start_date {self.option('start_date')!r} is not YYYY-MM-DD", flow.span)

    def map_foreach_levels(self, steps: list[ir.Step], tasks: dict[str, StepTask],
                           names: "_Names") -> tuple[list[Group], dict[str, Lister]]:
        """Each foreach split gets a lister of its children's index paths; each
        step inside a foreach joins the mapped group of its level (foreach_stack):
        one group for the whole level, or one per step where the level holds a
        nested foreach, since Airflow cannot expand a group inside a group."""
        levels: dict[tuple[str, ...], Group] = {}
        per_step: dict[str, Group] = {}
        listers: dict[str, Lister] = {}
        for s in steps:
            if s.kind == ir.FOREACH:
                t = tasks[s.name]
                t.returns = t.reader is None
                owner = f"the index lister of {s.name}"
                listers[s.name] = Lister(names.var(f"{s.name}_indices", s.span, owner),
                                         names.task_id(f"{s.name}_indices", s.span, owner), t,
                                         nested=bool(s.foreach_stack), source="")
            if not s.foreach_stack:
                continue
            level = s.foreach_stack
            if any(o.kind == ir.FOREACH and o.foreach_stack == level for o in steps):
                g = per_step[s.name] = Group(names.task_id(f"{s.name}_each", s.span, f"the mapped group of {s.name}"),
                                             level, indices="")
            else:
                g = levels.get(level)
                if g is None:
                    owner = f"the foreach group of {level[-1]}"
                    g = levels[level] = Group(names.task_id(f"foreach_{level[-1]}", s.span, owner), level, indices="")
            g.members.append(tasks[s.name])
            tasks[s.name].group = g
        groups = list(levels.values()) + list(per_step.values())
        for g in groups:
            first = g.members[0].step
            names.var(g.id, first.span, f"the mapped group {g.id}")
            names.var(_group_var(g.id), first.span, f"the mapped group {g.id}")
            g.indices = listers[g.level[-1]].var
        for lister in listers.values():  # a split inside a group is found by its id
            split = lister.split
            lister.source = (split.out_xcom if split.group is None else
                             f"dag.get_task({py_literal(split.out_full_id)}).output")
        return groups, listers

    def route_switches(self, steps: list[ir.Step], tasks: dict[str, StepTask],
                       names: "_Names") -> dict[str, Brancher]:
        """A branch task after each switch outside foreach levels; inside them,
        a gate before each case (branching does not skip inside mapped groups)."""
        branchers: dict[str, Brancher] = {}
        for s in steps:
            if s.kind != ir.SWITCH:
                continue
            t = tasks[s.name]
            t.returns = t.reader is None
            cases = sorted(set(s.cases.values()) - {s.name})  # a recursive case is refused
            if t.group is None:
                owner = f"the branch task of {s.name}"
                branchers[s.name] = Brancher(names.var(f"{s.name}_branch", s.span, owner),
                                             names.task_id(f"{s.name}_branch", s.span, owner), t,
                                             {c: tasks[c].full_id for c in cases})
                continue
            for case in cases:
                ct = tasks[case]
                owner = f"the gate of case {case}"
                ct.gate_switch = t.out_full_id
                ct.gate_var = names.var(f"{s.name}_to_{case}", s.span, owner)
                ct.gate_id = names.task_id(f"{s.name}_to_{case}", s.span, owner)
        return branchers

    def wire(self, flow: ir.Flow, steps: list[ir.Step], tasks: dict[str, StepTask],
             branchers: dict[str, Brancher]) -> list[tuple[Optional[str], str, str]]:
        """What each task waits for, from the IR's parents and parent groups."""
        edges: list[tuple[Optional[str], str, str]] = []
        for s in steps:
            t = tasks[s.name]
            if t.reader is not None:  # the step's job, then the task reading its outcome back
                edges.append((t.group.id if t.group else None, t.var, t.reader.var))
            if any(len(group) > 1 for group in s.parent_groups):
                t.trigger_rule = ONE_OF  # one of several alternatives runs (after a switch)
            for p in s.parents:
                parent = flow.step(p)
                if parent.kind == ir.FOREACH and s.name in parent.next:
                    continue  # the lister feeds the mapped group: Airflow knows that edge from the XCom
                if parent.kind == ir.SWITCH and s.name in parent.cases.values():
                    if p in branchers:
                        edges.append((None, branchers[p].var, t.var))
                        continue
                    if len(s.parents) > 1:
                        self.unsupported(f"step '{s.name}' is a case of the switch in '{p}' and is also reached "
                                         "from another step, inside a foreach", s.span,
                                         "put a step between the switch case and the other path")
                edges.append(self._endpoint(tasks[p], t))
        return _dedupe([e for e in edges if e[1] != e[2]])

    @staticmethod
    def order_blocks(steps: list[ir.Step], tasks: dict[str, StepTask], listers: dict[str, Lister],
                     branchers: dict[str, Brancher]) -> list[tuple[str, Any]]:
        """The order the template writes tasks and groups in: each after what it uses."""
        blocks: list[tuple[str, Any]] = []
        placed: set[int] = set()
        for s in steps:
            g = tasks[s.name].group
            if g is None:
                blocks.append(("task", tasks[s.name]))
            elif id(g) not in placed:
                placed.add(id(g))
                blocks.append(("group", g))
            if s.name in listers:
                blocks.append(("lister", listers[s.name]))
            if s.name in branchers:
                blocks.append(("branch", branchers[s.name]))
        return blocks

    @staticmethod
    def _endpoint(parent: StepTask, child: StepTask) -> tuple[Optional[str], str, str]:
        """The edge parent -> child, and the group it is written in: tasks of one
        group are linked inside it; across groups the groups are linked (a group
        holds one step, or its leaves are exactly the steps its level ends with)."""
        if parent.group is not None and parent.group is child.group:
            return parent.group.id, parent.out_var, child.gate_var or child.var
        a = _group_var(parent.group.id) if parent.group is not None else parent.out_var
        b = _group_var(child.group.id) if child.group is not None else child.var
        return None, a, b

    def step_task(self, flow: ir.Flow, s: ir.Step, names: "_Names") -> StepTask:
        d = s.decorators
        forced = self.option("force_placement")
        if forced:
            placement = forced
        elif d.batch is not None:
            placement = BATCH
        elif d.kubernetes is not None:
            placement = KUBERNETES
        else:
            placement = self.option("placement")
        t = StepTask(step=s, var=names.var(s.name, s.span, f"step {s.name}"),
                     task_id=names.task_id(s.name, s.span, f"step {s.name}"),
                     placement=placement, ref=source_ref(flow, s.span), is_start=s.name == flow.start)
        t.summary = _summary(flow, s)
        if d.retry is not None:
            t.retries = d.retry.times
            t.retry_delay = d.retry.minutes_between_retries
        if d.timeout is not None:
            t.timeout = d.timeout.seconds + TIMEOUT_MARGIN
            t.notes.append(f"@timeout({d.timeout.seconds} s) is enforced by the runtime; Airflow's "
                           f"execution_timeout is a backstop {TIMEOUT_MARGIN} s later")
        if d.environment is not None:
            t.env = {str(k): str(v) for k, v in sorted(d.environment.vars.items())}
        if d.catch is not None:
            t.notes.append(f"@catch(var={d.catch.var!r}): the runtime stores a failure of the last attempt "
                           "and the task succeeds, so the flow goes on")
        secrets = list(d.secrets.sources) if d.secrets else []
        if d.kubernetes is not None:
            secrets += [x for x in d.kubernetes.secrets if x not in secrets]
        res = resources_of(s)
        where_local = "on the Airflow worker"

        env = self.step_environment(s)
        if env is not None and env.manager != "none" and placement != LOCAL:
            t.notes.append(f"@{env.manager} environment {env.id}: " + (
                "built by the task at start (--environments bootstrap)" if self.bootstrap_environment(s) else
                "its image is built with `flowc environments --build-context`"))
        if placement == KUBERNETES:
            t.pod = self.pod(s, res, secrets)
            tmpfs = tmpfs_of(s)
            if tmpfs is not None:  # @kubernetes(use_tmpfs=...): a memory-backed folder, as in Metaflow
                t.pod.volumes.append({"name": "tmpfs", "claim": "", "shm": f"{tmpfs.size_mb}Mi", "path": tmpfs.path})
                if tmpfs.tempdir:
                    t.env = {**(t.env or {}), "METAFLOW_TEMPDIR": tmpfs.path}
        elif placement == BATCH:
            t.batch = self.batch_job(flow, s, res, secrets, forced)
            if s.kind in (ir.FOREACH, ir.SWITCH):  # its OUT.json comes back through the datastore
                owner = f"the outcome reader of {s.name}"
                t.reader = Reader(names.var(f"{s.name}_outcome", s.span, owner),
                                  names.task_id(f"{s.name}_outcome", s.span, owner))
        else:
            self.check_local(s, res, secrets, forced, t)
        pkg = next((p for p in (d.pypi, d.conda, flow.decorators.pypi_base, flow.decorators.conda_base)
                    if p is not None and not p.disabled), None)
        if pkg is not None and placement == LOCAL and self.bootstrap_environment(s) is None:
            # the step's environment is an image, and the worker runs in its own
            self.placement_gap(f"the @{pkg.manager} environment of step '{s.name}' is an image, which the "
                               "Airflow worker cannot switch to", pkg.span,
                               "compile with --environments bootstrap (the task builds the environment on the "
                               "worker), or place the step with @kubernetes or @batch", forced)
            t.notes.append(f"not installed {where_local}: the @{pkg.manager} environment (an image)")
        if forced and placement != KUBERNETES and d.kubernetes is not None:
            self.ignored(f"@kubernetes on step '{s.name}'", d.kubernetes.span, forced, t)
        if forced and placement != BATCH and d.batch is not None:
            self.ignored(f"@batch on step '{s.name}'", d.batch.span, forced, t)
        return t

    # ---- placements

    def pod(self, s: ir.Step, res: dict[str, Any], secrets: list[str]) -> Pod:
        k = s.decorators.kubernetes
        pod = Pod(image=self.image_for(s), namespace=(k.namespace if k and k.namespace else self.option("namespace")))
        if "cpu" in res:
            pod.requests["cpu"] = _number(res["cpu"])
        if "memory" in res:
            pod.requests["memory"] = f"{res['memory']}Mi"
            pod.limits["memory"] = f"{res['memory']}Mi"
        if "disk" in res:
            pod.requests["ephemeral-storage"] = f"{res['disk']}Mi"
        if res.get("gpu"):
            vendor = (k.gpu_vendor if k and k.gpu_vendor else "nvidia").lower()
            pod.limits[f"{vendor}.com/gpu"] = str(res["gpu"])
        pod.secrets = secrets
        if k is not None:
            pod.service_account = k.service_account or ""
            pod.image_pull_policy = k.image_pull_policy or ""
            pod.node_selector = dict(sorted(k.node_selector.items()))
            pod.labels = dict(sorted(k.labels.items()))
            pod.annotations = dict(sorted(k.annotations.items()))
            for tol in k.tolerations:
                pod.tolerations.append({key: value for key, value in (
                    ("key", tol.key), ("operator", tol.operator), ("value", tol.value), ("effect", tol.effect),
                    ("toleration_seconds", tol.toleration_seconds)) if value is not None})
            for i, (claim, path) in enumerate(sorted(k.persistent_volume_claims.items())):
                pod.volumes.append({"name": f"pvc-{i}", "claim": claim, "shm": "", "path": path})
            for name, amount in (k.options.get("extended_resources") or {}).items():
                pod.requests[name] = pod.limits[name] = amount
            pod.image_pull_secrets = list(k.options.get("image_pull_secrets") or [])
            pod.security_context = k8s_camel(k.options.get("security_context") or {})
        if res.get("shared_memory"):
            pod.volumes.append({"name": "dshm", "claim": "", "shm": f"{res['shared_memory']}Mi", "path": "/dev/shm"})
        return pod

    def batch_job(self, flow: ir.Flow, s: ir.Step, res: dict[str, Any], secrets: list[str], forced: str) -> BatchJob:
        b = s.decorators.batch
        queue = (b.queue if b is not None and b.queue else "") or self.option("batch_queue")
        if not queue:
            span = b.span if b is not None else s.span
            self.error("FC502", f"step '{s.name}' runs on AWS Batch but no job queue is set", span,
                       "pass @batch(queue=...) or --batch-queue NAME")
        job = BatchJob(job_name=f"{flow.name}-{s.name}", job_definition=self.option("batch_job_definition"),
                       job_queue=queue)
        if "cpu" in res:
            job.resources.append({"type": "VCPU", "value": _number(res["cpu"])})
        if "memory" in res:
            job.resources.append({"type": "MEMORY", "value": str(res["memory"])})
        if res.get("gpu"):
            job.resources.append({"type": "GPU", "value": str(res["gpu"])})
        span = b.span if b is not None else s.span
        cannot = []
        if b is not None and b.image:
            cannot.append(("a per-step image", "the job definition decides the image; register one per image "
                                               "and pass --batch-job-definition"))
        if b is not None and (b.iam_role or b.execution_role):
            cannot.append(("IAM roles", "set the roles on the job definition"))
        if res.get("disk"):
            cannot.append(("disk", "AWS Batch jobs cannot override their disk"))
        if res.get("shared_memory"):
            cannot.append(("shared memory", "set linuxParameters.sharedMemorySize on the job definition"))
        if secrets:
            cannot.append(("secrets", "declare them on the job definition"))
        for what, hint in cannot:
            self.placement_gap(f"{what} on step '{s.name}' cannot be expressed on AWS Batch", span, hint, forced)
        return job

    def check_local(self, s: ir.Step, res: dict[str, Any], secrets: list[str], forced: str, t: StepTask) -> None:
        d = s.decorators
        where = "on the Airflow worker"
        hint = "place the step with @kubernetes or @batch, or compile with --placement kubernetes"
        asked = [k for k in ("cpu", "memory", "disk", "gpu", "shared_memory") if res.get(k)]
        if asked:
            deco = next(x for x in (d.resources, d.kubernetes, d.batch) if x is not None)
            self.placement_gap(f"the resources of step '{s.name}' ({', '.join(asked)}) cannot be honoured {where}",
                               deco.span, hint, forced)
            t.notes.append(f"not honoured {where}: resources {', '.join(asked)}")
        if secrets:
            span = d.secrets.span if d.secrets else s.span
            self.placement_gap(f"@secrets on step '{s.name}' cannot be injected {where}", span, hint, forced)
            t.notes.append(f"not injected {where}: secrets {', '.join(secrets)}")
        deco = next((x for x in (d.kubernetes, d.batch) if x is not None and x.image), None)
        if deco is not None:
            t.notes.append(f"not used {where}: image {deco.image}")
            if not forced:
                self.placement_gap(f"the image of step '{s.name}' cannot be used {where}", deco.span, hint, forced)

    def placement_gap(self, message: str, span: Span, hint: str, forced: str) -> None:
        """A step option its placement cannot express: an error (FC501), or only a
        warning when the user forced every step onto one placement."""
        if forced:
            self.diagnostics.append(Diagnostic("FC501", WARNING, f"{self.name}: {message} (--force-placement "
                                               f"{forced})", span, None))
        else:
            self.unsupported(message, span, hint)

    def ignored(self, what: str, span: Span, forced: str, t: StepTask) -> None:
        self.diagnostics.append(Diagnostic("FC501", WARNING, f"{self.name}: {what} is ignored "
                                           f"(--force-placement {forced})", span, None))
        t.notes.append(f"{what.split(' on ')[0]} ignored: --force-placement {forced}")

    # ---- parameters and the command

    def param(self, flow: ir.Flow, p: ir.Parameter) -> Param:
        has_default = p.default is not None
        types = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
        schema = types.get(p.type)
        if p.type == "json":
            schema = {dict: "object", list: "array"}.get(type(p.default))
        if schema is not None and not has_default and not p.required:
            schema = ["null", schema]
        return Param(name=p.name, default=p.default, has_default=has_default or not p.required,
                     schema_type=schema, description=p.help, ref=source_ref(flow, p.span))

    def command_parts(self, flow: ir.Flow, tasks: dict[str, StepTask]) -> list[tuple[str, str]]:
        """The runtime's one command (base.runtime_argv) as the generated file
        writes it: the part every task shares, as (kind, value) pairs ("fixed"
        for a literal from options or the flow, "var" for what each task fills
        in: step, run id, index, attempt); what one step adds of its own (its
        environment, say) goes to that task's ``extra``."""
        marker = "\x00{}\x00"
        argvs = {}
        for name, t in tasks.items():
            argv = self.runtime_argv(flow, t.step, run_id=marker.format("run_id"), index=marker.format("index"),
                                     attempt=marker.format("attempt"), first_attempt=marker.format("first_attempt"))
            at = argv.index("--step") + 1
            argvs[name] = argv[:at] + [marker.format("step")] + argv[at + 1:]
        common = next(iter(argvs.values()))
        for argv in argvs.values():
            n = 0
            while n < min(len(common), len(argv)) and common[n] == argv[n]:
                n += 1
            common = common[:n]
        for name, argv in argvs.items():
            tasks[name].extra = argv[len(common):]
        parts = []
        for a in common:
            m = re.fullmatch("\x00(\\w+)\x00", a)
            parts.append(("var", m.group(1)) if m else ("fixed", a))
        return parts


# ------------------------------------------------------------------ helpers


class _Names:
    """Python variables and task ids of the generated file, checked for clashes (FC503)."""

    def __init__(self, flow: ir.Flow, target: AirflowTarget):
        self.flow = flow
        self.target = target
        self.vars: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def var(self, name: str, span: Span, owner: str) -> str:
        var = name if name not in RESERVED_NAMES and not keyword.iskeyword(name) else f"{name}_"
        var = var.lower() if var.isupper() else var  # keep constants distinct from tasks
        return self._claim(self.vars, var, owner, span, "Python name")

    def task_id(self, name: str, span: Span, owner: str) -> str:
        return self._claim(self.ids, name, owner, span, "task id")

    def _claim(self, table: dict[str, str], key: str, owner: str, span: Span, what: str) -> str:
        if table.get(key, owner) != owner:
            self.target.error("FC503", f"the generated {what} '{key}' is needed twice: by {table[key]} and "
                              f"by {owner}", span, "rename the step")
        table[key] = owner
        return key


def _group_var(group_id: str) -> str:
    return f"{group_id}_group"


def dag_id_of(flow: ir.Flow) -> str:
    project = flow.decorators.project
    return f"{project.name}.{flow.name}" if project is not None else flow.name


def doc_text(text: str) -> str:
    """A docstring for Airflow's doc_md, which reads text ending in ".md" as a
    file name: such text gets a trailing newline, so it stays text."""
    return text + "\n" if text.rstrip().endswith(".md") else text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _dedupe(items: list) -> list:
    seen = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _summary(flow: ir.Flow, s: ir.Step) -> str:
    """One line saying what the step does to the flow's shape."""
    if s.kind == ir.FOREACH:
        return f"foreach over self.{s.foreach}: one {s.next[0]} per item"
    if s.kind == ir.BRANCH:
        return "branch: " + ", ".join(s.next) + " in parallel"
    if s.kind == ir.SWITCH:
        return f"switch on self.{s.condition}: " + ", ".join(f"{c!r} -> {n}" for c, n in s.cases.items())
    if s.kind == ir.JOIN:
        return f"join of {s.closes}"
    if s.kind == ir.END or not s.next:
        return "the end step"
    return ""


def _grouped(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edges written as few lines as reads well: "a >> [b, c]", "[a, b] >> c"."""
    by_source: dict[str, list[str]] = {}
    for a, b in edges:
        by_source.setdefault(a, []).append(b)
    by_targets: dict[str, list[str]] = {}
    for a, bs in by_source.items():
        by_targets.setdefault(_listed(bs), []).append(a)
    chains = []
    for targets, sources in by_targets.items():
        if len(sources) > 1 and targets.startswith("["):  # Airflow has no list >> list
            chains += [[source, targets] for source in sources]
        else:
            chains.append([_listed(sources), targets])
    # a >> b, b >> c: a >> b >> c. A chain absorbs the one chain that starts
    # where it ends, when nothing else leads there; in list order, each chain
    # as far as it goes. Starts and counts are indexed, so this is linear.
    alive = [True] * len(chains)
    tails = [set(c[1:]) for c in chains]
    inside: dict[str, int] = {}  # name -> how many chains hold it after their first element
    starts: dict[str, list[int]] = {}
    for i, c in enumerate(chains):
        starts.setdefault(c[0], []).append(i)
        for x in tails[i]:
            inside[x] = inside.get(x, 0) + 1
    for i, first in enumerate(chains):
        while alive[i]:
            link = first[-1]
            heads = [j for j in starts.get(link, ()) if alive[j] and j != i]
            if len(heads) != 1 or inside.get(link) != 1:
                break
            (j,) = heads
            for x in chains[j][1:]:
                if x in tails[i]:
                    inside[x] -= 1
                else:
                    tails[i].add(x)
            first.extend(chains[j][1:])
            alive[j] = False
    return [(" >> ".join(chain[:-1]), chain[-1]) for chain, keep in zip(chains, alive) if keep]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


# ------------------------------------------------------------------ rendering

# Jinja's markers in Airflow's templated fields: text holding one is wrapped in
# literal() so that Airflow passes it on as it is
JINJA_MARKERS = ("{{", "{%", "{#")


def jinja_would_change(text: str) -> bool:
    """Whether rendering the text as a template could change it: Jinja reads
    its markers, turns "\r" and "\r\n" into "\n", and drops one trailing newline."""
    return any(m in text for m in JINJA_MARKERS) or "\r" in text or text.endswith("\n")


def templated_literal(value: Any) -> str:
    """A literal for an operator's templated field: text Jinja would change is
    wrapped in literal(), so it reaches the pod or the job unchanged."""
    if isinstance(value, str) and jinja_would_change(value):
        return f"literal({py_str(value)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {templated_literal(v)}" for k, v in value.items()) + "}"
    return py_literal(value)


def comment_lines(text: str) -> list[str]:
    """Text made safe for '# ' comments: one entry per line, nothing that could
    end the comment early or unsettle the file's encoding."""
    lines = []
    for line in str(text).splitlines() or [""]:
        lines.append("".join(ch if ch.isprintable() else py_str(ch)[1:-1] for ch in line).rstrip())
    return lines


@functools.lru_cache(maxsize=1)
def _environment():
    """One Jinja environment per process: its templates are compiled once."""
    import jinja2

    from .python_emit import bytecode_cache

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=bytecode_cache(__file__),
    )
    env.filters["py"] = py_literal
    env.filters["tf"] = templated_literal
    env.filters["comment"] = comment_lines
    env.filters["doc"] = doc_text
    env.filters["num"] = _number
    return env


def render(plan: Plan) -> str:
    text = _environment().get_template("airflow.py.j2").render(
        plan=plan, version=__version__, RUN_ID=RUN_ID, ATTEMPT=ATTEMPT, FIRST_ATTEMPT=FIRST_ATTEMPT,
        PARAMS=PARAMS, POD_XCOM_FILE=POD_XCOM_FILE)
    return re.sub(r"\n{3,}(?=    \S)", "\n\n", text)  # at most one blank line inside the DAG


__all__ = ["AirflowTarget", "Plan", "plan_dag", "dag_id_of", "render", "py_literal", "templated_literal",
           "comment_lines"]


def plan_dag(flow: ir.Flow, options: dict[str, Any] | None = None) -> Plan:
    """The plan of a flow's DAG (for tests and tools)."""
    return AirflowTarget(options).plan(flow)
