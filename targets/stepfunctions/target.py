"""AWS Step Functions: a state machine in Amazon States Language (JSONPath mode).

The flow becomes one state machine; every step is a Task state that runs the
runtime's one command, either as an AWS Batch job (``batch:submitJob.sync``,
the default) or as a message on an SQS queue that ``flowc worker`` serves
(``sqs:sendMessage.waitForTaskToken``). Beside it, the compile writes what the
state machine cannot hold: the Batch job definitions, the EventBridge
Scheduler schedule for ``@schedule``, the EventBridge rule of ``@trigger`` /
``@trigger_on_finish``, and a CloudFormation template that ties
them together.

How constructs lower (every derived fact is read from the IR):

    branch        Task, then a Parallel state with one branch per child
    foreach       Task, then a Map over the child indices: inline over
                  States.ArrayRange(count) (at most 1,000 items), or a
                  distributed Map whose ItemReader reads the runtime's
                  manifest from S3 (any width, no items in any state)
    switch        Task, then a Choice on the step the runtime chose
    recursive     the Choice loops back through a Pass that counts iterations
    @trigger, @trigger_on_finish   one EventBridge rule (events.py) that
                  starts the machine; its first states map the event's
                  payload to parameters and hand the event to --trigger
    @retry        Retry (MaxAttempts = times, so attempt numbers match)
    @timeout      TimeoutSeconds on every Task: @timeout plus a margin above the
                  runtime's own timeout, else Metaflow's 5-day limit
    @catch        the runtime catches on the last attempt, as in Metaflow

State data stays small and constant: ``run_id`` (the execution name),
``index`` (the task's foreach index path), ``loops`` (recursive switch
counters) and ``out`` (the one small outcome a Choice or Map reads). Every
Task keeps only that through ResultSelector / ResultPath.
"""

from __future__ import annotations

from flowc.compiler import ir

from flowc.runtime.events import ENV_BACKEND, ENV_END_EVENT, EVENTBRIDGE

from ..base import Option, Target, yes
from ..events import end_event_name
from .aws import dumps
from .batch import job_definition
from .checks import check_flow
from .machine import StateMachineBuilder
from .names import Names
from .events import rule_of, the_subscription
from .stack import cloudformation, rule_request, schedule_definition


class StepFunctions(Target):
    name = "stepfunctions"
    description = "AWS Step Functions state machine (ASL), steps on AWS Batch or a worker queue"
    OUTPUT_KIND = "directory"

    CAPABILITIES = {
        "branch": yes("Parallel state"),
        "foreach": yes("Map state: inline up to 1,000 items; --foreach-mode distributed for any width"),
        "nested_foreach": yes("nested Map states"),
        "foreach_body": yes(),
        "switch": yes("Choice state on the step the runtime chose"),
        "recursive_switch": yes("a Choice that loops back, counting iterations"),
        "parameters": yes("execution input; defaults and types applied by the runtime"),
        "required_parameters": yes("checked by the runtime against the execution input"),
        "retry": yes("Retry with backoff"),
        "timeout": yes("TimeoutSeconds as a backstop to the runtime's own"),
        "catch": yes("handled by the runtime on the last attempt, as in Metaflow"),
        "resources": yes("Batch resource requirements; disk has no Batch setting (warning)"),
        "gpu": yes("Batch GPU resource requirement"),
        "environment": yes(),
        "secrets": yes("Secrets Manager secrets as environment variables"),
        "schedule": yes("EventBridge Scheduler schedule, emitted beside the state machine"),
        "trigger": yes("an EventBridge rule on the event's detail-type, payload fields mapped to parameters; "
                       "one event (a rule starts on any one event, not when all have arrived)"),
        "trigger_on_finish": yes("an EventBridge rule on the upstream state machine's SUCCEEDED status change; "
                                 "one upstream flow"),
        "project": yes("prefixes the state machine and job definition names"),
        "image": yes(),
        "kubernetes": yes("image and resources carry over to the Batch job; pod placement options do not"),
        "batch": yes(),
        "packages": yes("an image per environment (flowc environments --build), or --environments bootstrap; "
                        "the worker mode needs bootstrap"),
    }
    OPTIONS = (
        Option("mode", str, "batch", "how a step runs: an AWS Batch job, or a message for `flowc worker`",
               ("batch", "worker")),
        Option("queue_url", str, "", "SQS queue URL the worker-queue mode sends tasks to"),
        Option("job_queue", str, "flowc", "AWS Batch job queue (a step's @batch(queue=) wins)"),
        Option("job_role", str, "", "IAM role ARN of the Batch jobs (a step's @batch(iam_role=) wins)"),
        Option("execution_role", str, "", "IAM execution role ARN of the Batch jobs (Fargate, secrets)"),
        Option("foreach_mode", str, "inline",
               "inline Maps (up to 1,000 items, 40 at a time) or distributed Maps reading the manifest from S3",
               ("inline", "distributed")),
        Option("max_concurrency", int, 0, "most foreach items run at once (0: no limit of our own)"),
        Option("heartbeat_seconds", int, 0,
               "worker mode: fail a task whose worker is silent this long (0: rely on the queue's redelivery)"),
        Option("timeout_margin", int, 60, "seconds the engine's timeout adds to @timeout, as a backstop"),
        Option("retry_backoff", float, 2.0, "BackoffRate of @retry's Retry (1.0: a fixed interval)"),
        Option("state_machine_name", str, "", "the state machine's name (default: the flow's, with @project)"),
        Option("event_bus", str, "",
               "EventBridge bus of @trigger rules and of the events Batch jobs publish "
               "(FLOWC_EVENTS=eventbridge:BUS); default: the default bus, and Batch jobs publish nowhere"),
    )

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        check_flow(self, flow)
        if any(d.is_error for d in self.diagnostics):
            return {}
        names = Names(self, flow)
        sub = the_subscription(self, flow)
        rule = rule_of(self, flow, sub) if sub is not None else None
        if any(d.is_error for d in self.diagnostics):
            return {}
        machine = StateMachineBuilder(self, flow, names, rule).build()
        files = {f"{flow.name}.asl.json": dumps(machine)}
        jobs = [job_definition(self, flow, s, names, rule is not None, self.events_env(flow))
                for s in flow.ordered_steps()] if self.option("mode") == "batch" else []
        if jobs:
            files[f"{flow.name}.batch-jobs.json"] = dumps([job.api() for job in jobs])
        schedule = schedule_definition(flow, names)
        if schedule is not None:
            files[f"{flow.name}.schedule.json"] = dumps(schedule)
        if rule is not None:
            files[f"{flow.name}.rule.json"] = dumps(rule_request(self, flow, names, rule))
        files[f"{flow.name}.template.json"] = dumps(cloudformation(self, flow, names, machine, jobs, rule))
        return files

    def events_env(self, flow: ir.Flow) -> dict[str, str]:
        """Where a Batch job's published events (and the end event) go: the --event-bus, if given."""
        bus = self.option("event_bus")
        if not bus:
            return {}
        return {ENV_BACKEND: f"{EVENTBRIDGE}:{bus}", ENV_END_EVENT: end_event_name(flow, self.option("user"))}
