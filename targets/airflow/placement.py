"""Where each step runs, and what its task carries there: a pod
(KubernetesPodOperator, over targets/kubernetes.py's pod), an AWS Batch job
(BatchOperator, resources by targets/aws_batch.py), or the Airflow worker.
What a placement cannot express is FC501 (a warning under --force-placement).

Outcomes from AWS Batch. A pod or a worker task hands its OUT.json to XCom;
a Batch job cannot. So a step placed on AWS Batch is followed by a small
task on the worker that reads the finished task's OUT.json back from the
datastore (the runtime's ``--output-only``, through the same command as
every task), forwards the events the step published (events.py) and returns
it: the lister, branch task or gates after a foreach split or a switch read
that task's XCom, and nothing downstream changes.
"""

from __future__ import annotations

from typing import Any

from flowc.compiler import ir
from flowc.compiler.diagnostics import WARNING, Diagnostic
from flowc.compiler.spans import Span

from ..aws_batch import resource_requirements
from ..base import describe_step, engine_timeout, source_ref, Target
from ..kubernetes import pod_of, secret_names
from ..resources import asked_of, needs_of
from .names import Names
from .plan import BATCH, KUBERNETES, LOCAL, BatchJob, Reader, StepTask



def step_task(target: Target, flow: ir.Flow, s: ir.Step, names: Names) -> StepTask:
    d = s.decorators
    forced = target.option("force_placement")
    if forced:
        placement = forced
    elif d.batch is not None:
        placement = BATCH
    elif d.kubernetes is not None:
        placement = KUBERNETES
    else:
        placement = target.option("placement")
    t = StepTask(step=s, var=names.var(s.name),
                 task_id=names.task_id(s.name, s.span, f"step {s.name}"),
                 placement=placement, ref=source_ref(flow, s.span), is_start=s.name == flow.start)
    t.described = describe_step(flow, s)
    t.summary = shape_of(s)
    if d.retry is not None:
        t.retries = d.retry.times
        t.retry_delay = d.retry.minutes_between_retries
    t.timeout = engine_timeout(s)  # every task: @timeout plus the margin, else Metaflow's 5 days
    if d.timeout is not None:
        t.notes.append(f"@timeout({d.timeout.seconds} s) is enforced by the runtime; Airflow's "
                       f"execution_timeout is a backstop {t.timeout - d.timeout.seconds} s later")
    if d.environment is not None:
        t.env = {str(k): str(v) for k, v in sorted(d.environment.vars.items())}
    if d.catch is not None:
        t.notes.append(f"@catch(var={d.catch.var!r}): the runtime stores a failure of the last attempt "
                       "and the task succeeds, so the flow goes on")
    secrets = secret_names(s)
    res = asked_of(s)
    where_local = "on the Airflow worker"

    env = target.step_environment(s)
    if env is not None and env.manager != "none" and placement != LOCAL:
        t.notes.append(f"@{env.manager} environment {env.id}: " + (
            "built by the task at start (--environments bootstrap)" if target.bootstrap_environment(s) else
            "its image is built with `flowc environments --build-context`"))
    if placement == KUBERNETES:
        t.pod = pod_of(target, s)
        t.pod.namespace = t.pod.namespace or target.option("namespace") or None
        t.env = t.pod.env  # @environment, and METAFLOW_TEMPDIR for a tmpfs
    elif placement == BATCH:
        t.batch = batch_job(target, flow, s, res, secrets, forced)
        # its OUT.json (a foreach count, a case, the events it published) comes back through the datastore
        owner = f"the outcome reader of {s.name}"
        t.reader = Reader(names.var(f"{s.name}_outcome"), names.task_id(f"{s.name}_outcome", s.span, owner))
    else:
        check_local(target, s, res, secrets, forced, t)
    pkg = next((p for p in (d.pypi, d.conda, flow.decorators.pypi_base, flow.decorators.conda_base)
                if p is not None and not p.disabled), None)
    if pkg is not None and placement == LOCAL and target.bootstrap_environment(s) is None:
        # the step's environment is an image, and the worker runs in its own
        placement_gap(target, f"the @{pkg.manager} environment of step '{s.name}' is an image, which the "
                           "Airflow worker cannot switch to", pkg.span,
                           "compile with --environments bootstrap (the task builds the environment on the "
                           "worker), or place the step with @kubernetes or @batch", forced)
        t.notes.append(f"not installed {where_local}: the @{pkg.manager} environment (an image)")
    if forced and placement != KUBERNETES and d.kubernetes is not None:
        ignored(target, f"@kubernetes on step '{s.name}'", d.kubernetes.span, forced, t)
    if forced and placement != BATCH and d.batch is not None:
        ignored(target, f"@batch on step '{s.name}'", d.batch.span, forced, t)
    return t

# ---- placements

def batch_job(target: Target, flow: ir.Flow, s: ir.Step, res: dict[str, Any], secrets: list[str], forced: str) -> BatchJob:
    b = s.decorators.batch
    queue = (b.queue if b is not None and b.queue else "") or target.option("batch_queue")
    if not queue:
        span = b.span if b is not None else s.span
        target.error("FC502", f"step '{s.name}' runs on AWS Batch but no job queue is set", span,
                   "pass @batch(queue=...) or --batch-queue NAME")
    job = BatchJob(job_name=f"{flow.name}-{s.name}", job_definition=target.option("batch_job_definition"),
                   job_queue=queue)
    job.resources = resource_requirements(needs_of(s))  # VCPU and MEMORY (MiB) always, as every Batch job
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
        placement_gap(target, f"{what} on step '{s.name}' cannot be expressed on AWS Batch", span, hint, forced)
    return job

def check_local(target: Target, s: ir.Step, res: dict[str, Any], secrets: list[str], forced: str, t: StepTask) -> None:
    d = s.decorators
    where = "on the Airflow worker"
    hint = "place the step with @kubernetes or @batch, or compile with --placement kubernetes"
    asked = [k for k in ("cpu", "memory", "disk", "gpu", "shared_memory") if res.get(k)]
    if asked:
        deco = next(x for x in (d.resources, d.kubernetes, d.batch) if x is not None)
        placement_gap(target, f"the resources of step '{s.name}' ({', '.join(asked)}) cannot be honoured {where}",
                           deco.span, hint, forced)
        t.notes.append(f"not honoured {where}: resources {', '.join(asked)}")
    if secrets:
        span = d.secrets.span if d.secrets else s.span
        placement_gap(target, f"@secrets on step '{s.name}' cannot be injected {where}", span, hint, forced)
        t.notes.append(f"not injected {where}: secrets {', '.join(secrets)}")
    deco = next((x for x in (d.kubernetes, d.batch) if x is not None and x.image), None)
    if deco is not None:
        t.notes.append(f"not used {where}: image {deco.image}")
        if not forced:
            placement_gap(target, f"the image of step '{s.name}' cannot be used {where}", deco.span, hint, forced)

def placement_gap(target: Target, message: str, span: Span, hint: str, forced: str) -> None:
    """A step option its placement cannot express: an error (FC501), or only a
    warning when the user forced every step onto one placement."""
    if forced:
        target.diagnostics.append(Diagnostic("FC501", WARNING, f"{target.name}: {message} (--force-placement "
                                           f"{forced})", span, None))
    else:
        target.unsupported(message, span, hint)

def ignored(target: Target, what: str, span: Span, forced: str, t: StepTask) -> None:
    target.diagnostics.append(Diagnostic("FC501", WARNING, f"{target.name}: {what} is ignored "
                                       f"(--force-placement {forced})", span, None))
    t.notes.append(f"{what.split(' on ')[0]} ignored: --force-placement {forced}")


def shape_of(s: ir.Step) -> str:
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

