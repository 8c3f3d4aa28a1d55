"""One step's AWS Batch job definition: a thin adapter over targets/aws_batch.py
(resources in the one unit policy, secrets, tmpfs, @batch's options) with
what Step Functions adds: the job's name, its queue role and its timeout."""

from __future__ import annotations


from flowc.compiler import ir

from ..aws_batch import JobDefinition, batch_job_options, secret_sources
from ..base import engine_timeout, Target
from ..resources import asked_of, needs_of
from .names import Names
from .tasks import command_of


BATCH_MIN_TIMEOUT = 60  # attemptDurationSeconds' minimum


def job_definition(target: Target, flow: ir.Flow, step: ir.Step, names: Names, triggered: bool = False,
                   events_env: dict[str, str] | None = None) -> JobDefinition:
    """``events_env``: FLOWC_EVENTS (and FLOWC_END_EVENT) when the flow's events
    go to an EventBridge bus; the step's own @environment wins."""
    d = step.decorators
    needs = needs_of(step)
    tags: dict[str, str] = {}
    if d.kubernetes is not None:
        tags.update(d.kubernetes.annotations)
        tags.update(d.kubernetes.labels)
    batch = d.batch
    linux, container, more_env, more_tags = batch_job_options(step, asked_of(step))
    env = dict(events_env or {})
    env.update(d.environment.vars if d.environment is not None else {})
    env.update(more_env)
    tags.update(more_tags)
    return JobDefinition(
        step=step.name,
        name=names.jobs[step.name],
        image=target.image_for(step),
        command=tuple(command_of(target, flow, step, triggered)),
        needs=needs,
        environment=tuple((k, str(v)) for k, v in sorted(env.items())),
        secrets=tuple(secret_sources(step)),
        job_role=(batch.iam_role if batch is not None and batch.iam_role else target.option("job_role")),
        execution_role=(batch.execution_role if batch is not None and batch.execution_role
                        else target.option("execution_role")),
        shared_memory=needs.shared_memory,
        timeout=max(BATCH_MIN_TIMEOUT, engine_timeout(step, target.option("timeout_margin"))),
        tags=tuple(sorted(tags.items())),
        linux=tuple(sorted(linux.items())),
        container=tuple(sorted(container.items())),
    )
