"""One step's Task state: the runtime's one command as an AWS Batch job or a
message for `flowc worker`, its Retry and TimeoutSeconds, and, where a
Choice or a Map reads the step's outcome, the states that bring it back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowc.compiler import ir

from ..aws_batch import secret_sources
from ..base import Target, describe_step, engine_timeout
from .aws import S3Location, intrinsic_string

if TYPE_CHECKING:
    from .names import Names

SQS_TASK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
BATCH_TASK = "arn:aws:states:::batch:submitJob.sync"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
READ_TIMEOUT = 60  # reading one small out.json from S3
MESSAGE_PROTOCOL = "flowc.task/1"  # what `flowc worker` expects in a message body


def command_of(target: Target, flow: ir.Flow, step: ir.Step, triggered: bool = False) -> list[str]:
    """The runtime's one command, with AWS Batch parameter references
    (``Ref::name``) where the state machine fills in values; `flowc worker`
    substitutes them the same way. The start step of a flow an EventBridge
    rule starts also gets ``--trigger`` (empty when started by hand)."""
    extra = None
    if step.name == flow.start:
        extra = ["--params", "Ref::params"] + (["--trigger", "Ref::trigger"] if triggered else [])
    return target.runtime_argv(flow, step, run_id="Ref::run_id", index="Ref::index", attempt="Ref::attempt",
                               iteration="Ref::iteration" if step.is_recursive else None, extra=extra)


class TaskStates:
    """The task half of the state machine builder (machine.py)."""

    t: Target
    flow: ir.Flow
    names: "Names"
    batch: bool
    distributed: bool
    store: S3Location | None
    triggered: bool  # an EventBridge rule starts the machine: the start step reads $.start (events.py)

    def needs_outcome(self, step: ir.Step) -> bool:
        return step.kind == ir.SWITCH or (step.kind == ir.FOREACH and not self.distributed)

    def task_id_expr(self, step: ir.Step) -> str:
        return f"$.loops.{step.name}.task" if step.is_recursive else "$.index"

    def datastore_key(self, step: ir.Step, filename: str) -> str:
        """An intrinsic for the S3 key of one of the task's datastore files
        (docs/runtime-contract.md: <root>/<Flow>/runs/<run>/<step>/<task>/)."""
        folder = f"{self.store.prefix}{self.flow.name}/runs/"
        template = intrinsic_string(folder)[:-1] + "{}/" + intrinsic_string(f"{step.name}/")[1:-1] + "{}/" + \
            intrinsic_string(filename)[1:]
        return f"States.Format({template}, $.run_id, {self.task_id_expr(step)})"

    def task_parameters(self, step: ir.Step) -> dict:
        params: dict[str, Any] = {
            "run_id.$": "$.run_id",
            "index.$": "$.index",
            "attempt.$": "States.Format('{}', $$.State.RetryCount)",
        }
        if step.is_recursive:
            params["iteration.$"] = f"States.Format('{{}}', $.loops.{step.name}.iteration)"
        if step.name == self.flow.start and self.triggered:
            params["params.$"] = "$.start.params"
            params["trigger.$"] = "$.start.trigger"
        elif step.name == self.flow.start:
            params["params.$"] = "States.JsonToString($$.Execution.Input)"
        return params

    def task_states(self, step: ir.Step, states: dict[str, dict]) -> dict:
        """The step's Task (and, on Batch, the states that read its outcome
        back from the datastore); returns the last one."""
        t = self.t
        d = step.decorators
        task: dict[str, Any] = {"Type": "Task", "Comment": describe_step(self.flow, step)}
        params = self.task_parameters(step)
        command = command_of(t, self.flow, step, self.triggered)
        timeout = engine_timeout(step, t.option("timeout_margin"))
        heartbeat = t.option("heartbeat_seconds")
        if heartbeat and heartbeat >= timeout:
            heartbeat = 0  # the timeout comes first: Step Functions takes no longer heartbeat
        if self.batch:
            task["Resource"] = BATCH_TASK
            task["Parameters"] = {
                "JobName": self.names.jobs[step.name],
                "JobDefinition": self.names.jobs[step.name],
                "JobQueue": (d.batch.queue if d.batch is not None and d.batch.queue else t.option("job_queue")),
                "Parameters": params,
            }
        else:
            body: dict[str, Any] = {
                "protocol": MESSAGE_PROTOCOL,
                "step": step.name,
                "command": command,
                "parameters": params,
                "task_token.$": "$$.Task.Token",
            }
            if heartbeat:
                body["heartbeat_seconds"] = heartbeat
            secrets = secret_sources(step)
            if secrets:
                body["secrets"] = {env: src for env, src in secrets}
            task["Resource"] = SQS_TASK
            task["Parameters"] = {"QueueUrl": t.option("queue_url"), "MessageBody": body}
            if heartbeat:
                task["HeartbeatSeconds"] = heartbeat
        task["TimeoutSeconds"] = timeout
        if d.retry is not None and d.retry.times > 0:
            task["Retry"] = [{
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": max(1, round(d.retry.minutes_between_retries * 60)),
                "MaxAttempts": d.retry.times,
                "BackoffRate": t.option("retry_backoff"),
            }]
        states[step.name] = task
        if not self.needs_outcome(step):
            task["ResultPath"] = None
            return task
        wanted = {"chosen": "chosen"} if step.kind == ir.SWITCH else {"count": "foreach_count"}
        if not self.batch:
            task["ResultSelector"] = {f"{k}.$": f"$.{v}" for k, v in wanted.items()}
            task["ResultPath"] = "$.out"
            return task
        task["ResultPath"] = None
        task["Next"] = f"{step.name}.read"
        states[f"{step.name}.read"] = {
            "Type": "Task",
            "Comment": f"the outcome of step {step.name}, from its out.json in the datastore",
            "Resource": S3_GET_OBJECT,
            "TimeoutSeconds": READ_TIMEOUT,
            "Parameters": {"Bucket": self.store.bucket, "Key.$": self.datastore_key(step, "out.json")},
            "ResultSelector": {"task.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.out",
            "Next": f"{step.name}.outcome",
        }
        states[f"{step.name}.outcome"] = {
            "Type": "Pass",
            "Comment": "keep only what the next state reads",
            "Parameters": {f"{k}.$": f"$.out.task.{v}" for k, v in wanted.items()},
            "ResultPath": "$.out",
        }
        return states[f"{step.name}.outcome"]
