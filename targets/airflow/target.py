"""The Apache Airflow target: one DAG file, rendered from a Jinja template.

The compile runs in two passes, in the manner of sqlglot's lowering:

1. ``lower_to_plan(flow)`` lowers the IR to a small, typed DAG plan
   (plan.py): one Airflow task per step, placed in a pod, on AWS Batch, or
   on the Airflow worker (placement.py); the helper tasks Airflow needs and
   the mapped groups foreach levels run in (lowering.py). Every graph fact
   comes from the IR (parents, parent groups, foreach stacks and bodies,
   matching joins); nothing here walks the flow's graph on its own.
2. The template ``templates/airflow.py.j2`` (in this package) renders the plan (render.py).

The DAG file is self-contained: it imports only Airflow, its providers and
the standard library, never flowc. A scheduler parses every DAG file again
and again in its own processes, which need not have flowc (or the flow's
packages) installed, and a file that imports nothing of ours cannot break
when flowc is upgraded beside a running Airflow. Only the tasks run flowc's
runtime, in their pods, jobs or worker environment.
"""

from __future__ import annotations

import re
from typing import Any

from flowc.compiler import ir
from flowc.compiler.events import mapped

from ..base import Option, Target, no, source_ref, yes
from ..kubernetes import check_pods
from ..naming import project_branch
from .events import lower_events
from .lowering import map_foreach_levels, order_blocks, route_switches, wire
from .names import Names, dag_id_of
from .placement import step_task
from .plan import KUBERNETES, PLACEMENTS, Param, Plan, StepTask
from .render import render


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
        "trigger": yes("the DAG is scheduled on the events' assets (Datasets on Airflow 2)"),
        "trigger_on_finish": yes("the DAG is scheduled on the upstream's end-event asset, which its end task "
                                 "emits"),
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
        plan = self.lower_to_plan(flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        return {f"{plan.dag_id}.py": render(plan).encode("utf-8")}

    # ---- lowering: the IR to a plan

    def lower_to_plan(self, flow: ir.Flow) -> Plan:
        """Lower the IR to the DAG plan, one pass per concern."""
        self.check_dag_options(flow)
        steps = flow.ordered_steps()
        names = Names(flow, self)
        tasks = {s.name: step_task(self, flow, s, names) for s in steps}  # placement, decorators
        check_pods(self, flow, [s for s in steps if tasks[s.name].placement == KUBERNETES])
        groups, listers = map_foreach_levels(steps, tasks, names)
        branchers = route_switches(steps, tasks, names)
        edges = wire(self, flow, steps, tasks, branchers)
        events = lower_events(self, flow, self.dag_id(flow))
        filled = mapped(flow)
        params = [self.param(flow, p, filled) for p in flow.parameters]
        schedule = flow.decorators.schedule
        if schedule is not None and any(not p.has_default for p in params):
            req = next(p for p in flow.parameters if p.required)
            self.unsupported(f"required parameter '{req.name}' on a scheduled flow: a scheduled run has no one "
                             "to give it a value", req.span, "give the parameter a default, or drop @schedule")
        notes = []  # what --unsupported warn let through, said where a reader looks
        for s in steps:
            if s.is_recursive:
                tasks[s.name].notes.append(f"not compiled: the case that runs {s.name} again (an Airflow DAG is "
                                           "acyclic); taking it fails the run")
        tags = ["flowc"]
        project = flow.decorators.project
        if project is not None:
            tags.append(f"project:{project.name}")
            tags.append(f"branch:{project_branch(project, self.option('user'))}")
        return Plan(flow=flow, dag_id=self.dag_id(flow),
                    version=self.option("airflow_version"), tasks=[tasks[s.name] for s in steps], groups=groups,
                    listers=list(listers.values()), branchers=list(branchers.values()), params=params, edges=edges,
                    schedule=schedule, tags=tags, options=dict(self.options),
                    runtime=self.command_parts(flow, tasks), blocks=order_blocks(steps, tasks, listers, branchers),
                    notes=notes, events=events)

    def dag_id(self, flow: ir.Flow) -> str:
        return self.option("dag_id") or dag_id_of(flow, self.option("user"))

    def check_dag_options(self, flow: ir.Flow) -> None:
        dag_id = self.dag_id(flow)
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,250}", dag_id):
            self.error("FC502", f"DAG id {dag_id!r} may hold only letters, digits, '.', '-' and '_'", flow.span,
                       "pass --dag-id NAME")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.option("start_date")):
            self.error("FC502", f"start_date {self.option('start_date')!r} is not YYYY-MM-DD", flow.span)

    # ---- parameters and the command

    def param(self, flow: ir.Flow, p: ir.Parameter, mapped: frozenset[str] = frozenset()) -> Param:
        """A DAG param. A required parameter an event's payload fills may be null:
        Airflow checks params when it creates an asset-triggered run, before
        the payload is read (the runtime still refuses a run left without it)."""
        has_default = p.default is not None
        types = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
        schema = types.get(p.type)
        if p.type == "json":
            schema = {dict: "object", list: "array"}.get(type(p.default))
        optional = not p.required or p.name in mapped
        if schema is not None and not has_default and optional:
            schema = ["null", schema]
        return Param(name=p.name, default=p.default, has_default=has_default or optional,
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




def plan_dag(flow: ir.Flow, options: dict[str, Any] | None = None) -> Plan:
    """The plan of a flow's DAG (for tests and tools)."""
    return AirflowTarget(options).lower_to_plan(flow)
