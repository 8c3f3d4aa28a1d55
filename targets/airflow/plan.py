"""The typed DAG plan the Airflow template renders: one task per step and
the helper tasks Airflow needs (index listers, branch tasks, case gates,
outcome readers), the mapped groups foreach levels run in, and the edges.
Built by lowering.py; the properties answer what the template asks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from flowc.compiler import ir

from ..kubernetes import Pod
from ..python_emit import py_literal
from .events import Events
from .render_helpers import grouped

LOCAL, KUBERNETES, BATCH = "local", "kubernetes", "batch"
PLACEMENTS = (KUBERNETES, BATCH, LOCAL)


@dataclass
class BatchJob:
    """What an AWS Batch task needs beyond the command."""

    job_name: str
    job_definition: str
    job_queue: str
    resources: list[dict[str, str]] = field(default_factory=list)  # aws_batch.resource_requirements


@dataclass
class Group:
    """A mapped task group: one foreach level (or one step of a level that
    holds a nested foreach), expanded over the level's index paths."""

    id: str
    level: tuple[str, ...]
    indices: str  # the python variable of the lister task whose list it expands over
    fn: str = ""  # the python name of the @task_group function
    var: str = ""  # the python name of the expanded group
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
    timeout: Optional[int] = None  # seconds: base.engine_timeout (@timeout plus the margin, else 5 days)
    env: dict[str, str] = field(default_factory=dict)
    pod: Optional[Pod] = None  # targets/kubernetes.py's pod, placed on KubernetesPodOperator
    batch: Optional[BatchJob] = None
    gate_switch: str = ""  # inside a mapped group: full task id of the switch that may skip this case
    gate_var: str = ""
    gate_id: str = ""
    extra: list[str] = field(default_factory=list)  # runtime arguments of this step's own
    notes: list[str] = field(default_factory=list)
    described: str = ""  # base.describe_step: NAME (flow.py:LINE): the docstring's first line
    summary: str = ""  # what the step does to the flow's shape

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
    events: Optional[Events] = None  # what the DAG waits for and what its steps publish (events.py)

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
            return any(t.pod and t.pod.resources for t in self.tasks)
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
        if what == "subscribed":  # the DAG waits for events
            return bool(self.events and self.events.subscribed)
        if what == "mapped":  # parameters filled from the payloads of the events that started the run
            return bool(self.events and self.events.maps_params)
        if what == "trigger_macro":  # the start step runs from a template that needs run_trigger()
            return self.uses("subscribed") and any(t.is_start and t.placement != LOCAL for t in self.tasks)
        if what == "events_or_time":  # a schedule, and events too: either starts a run
            return self.uses("subscribed") and self.schedule is not None
        raise KeyError(what)

    # ---- the names of Airflow 3's assets, or of Airflow 2's datasets

    @property
    def asset(self) -> str:
        return "Asset" if self.version == 3 else "Dataset"

    @property
    def triggering(self) -> str:
        """The context's (and templates') variable holding the events that started the run."""
        return "triggering_asset_events" if self.version == 3 else "triggering_dataset_events"

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
        names += ["Asset", "AssetAlias"]
        if self.uses("events_or_time"):
            names.append("AssetOrTimeSchedule")
        if self.uses("timezone") or self.uses("events_or_time"):
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
        if self.uses("subscribed"):
            assets = "[event_asset(name) for name, _, _ in SUBSCRIBED]"
            if s is None:
                return assets
            cron = f"CronTriggerTimetable({py_literal(s.cron)}, timezone={py_literal(s.timezone or 'UTC')})"
            return f"{self.asset}OrTimeSchedule(timetable={cron}, {self.asset.lower()}s={assets})"
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

    @functools.cached_property
    def outer_edges(self) -> list[tuple[str, str]]:
        return grouped(self.edges_by_group.get(None, []))

    def inner_edges(self, group: Group) -> list[tuple[str, str]]:
        return grouped(self.edges_by_group.get(group.id, []))

    @functools.cached_property
    def edges_by_group(self) -> dict[Optional[str], list[tuple[str, str]]]:
        """The edges, split once by the group they are written in (one pass,
        so writing every group's edges stays linear in the flow's size)."""
        out: dict[Optional[str], list[tuple[str, str]]] = {}
        for g, a, b in self.edges:
            out.setdefault(g, []).append((a, b))
        return out
