"""What the state machine cannot hold: the EventBridge Scheduler schedule for
@schedule, and one CloudFormation template with the state machine, its job
definitions and its schedule."""

from __future__ import annotations

from typing import Any

from flowc import __version__
from flowc.compiler import ir

from ..aws_batch import JobDefinition
from ..base import flow_file, source_ref, Target
from .aws import DYNAMIC_REFERENCE, logical_id
from .jsontext import json_text
from .cron import CronError, aws_cron
from .names import Names



def schedule_definition(flow: ir.Flow, names: Names) -> dict | None:
    """An EventBridge Scheduler CreateSchedule request for @schedule. The two
    ARNs are known only once deployed: the CloudFormation template fills
    them in; with the CLI, replace the placeholders."""
    sched = flow.decorators.schedule
    if sched is None:
        return None
    try:
        expression = aws_cron(sched.cron)
    except CronError:  # reported by check_flow; with --unsupported warn, no schedule
        return None
    out: dict[str, Any] = {
        "Name": names.state_machine,
        "Description": f"runs {flow.name} ({source_ref(flow, sched.span)}: {sched.kind} {sched.cron!r})",
        "ScheduleExpression": expression,
    }
    if sched.timezone:
        out["ScheduleExpressionTimezone"] = sched.timezone
    out["FlexibleTimeWindow"] = {"Mode": "OFF"}
    out["State"] = "ENABLED"
    out["Target"] = {
        "Arn": f"<ARN of the state machine {names.state_machine}>",
        "RoleArn": "<ARN of a role EventBridge Scheduler assumes to call states:StartExecution>",
        "Input": "{}",
    }
    return out


def cloudformation(target: Target, flow: ir.Flow, names: Names, machine: dict,
                   jobs: list[JobDefinition]) -> dict:
    """One stack: the state machine, its job definitions and its schedule."""
    parameters: dict[str, Any] = {
        "StateMachineRoleArn": {
            "Type": "String",
            "Description": "IAM role the state machine runs as: it submits the Batch jobs or sends the task "
                           "messages, and reads the datastore bucket",
        },
    }
    resources: dict[str, Any] = {}
    job_ids = []
    for job in jobs:
        lid = logical_id("Job", job.step)
        job_ids.append(lid)
        resources[lid] = job.cloudformation()
    machine_resource: dict[str, Any] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": names.state_machine,
            "StateMachineType": "STANDARD",
            "RoleArn": {"Ref": "StateMachineRoleArn"},
            # "${" written as "\u0024{" and "{{" as "\u007b{": the same JSON to Step
            # Functions, and neither a CloudFormation placeholder (cfn-lint E1029)
            # nor a dynamic reference ({{resolve:...}}) in a docstring or help text
            "DefinitionString": json_text(machine).replace("${", "\\u0024{")
            .replace("{{", "\\u007b{"),
        },
    }
    if job_ids:
        machine_resource["DependsOn"] = job_ids
    resources["StateMachine"] = machine_resource
    schedule = schedule_definition(flow, names)
    if schedule is not None:
        parameters["SchedulerRoleArn"] = {
            "Type": "String",
            "Description": "IAM role EventBridge Scheduler assumes to start executions of the state machine",
        }
        props = {k: v for k, v in schedule.items() if k != "Target"}
        props["Target"] = {"Arn": {"Ref": "StateMachine"}, "RoleArn": {"Ref": "SchedulerRoleArn"}, "Input": "{}"}
        resources["Schedule"] = {"Type": "AWS::Scheduler::Schedule", "Properties": props}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{flow.name} on AWS Step Functions, compiled by flowc {__version__} from {flow_file(flow)}",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {"StateMachineArn": {"Value": {"Ref": "StateMachine"}}},
    }
    refuse_dynamic_references(target, flow, template)
    return template


def refuse_dynamic_references(target: Target, flow: ir.Flow, value: Any) -> None:
    """CloudFormation replaces {{resolve:ssm:...}} and {{resolve:secretsmanager:...}}
    in a stack's values, with no escape outside the state machine's JSON: a
    value holding one (an image, an environment variable) would copy a
    parameter or a secret into the stack. Refused, with the value."""
    if isinstance(value, str):
        if DYNAMIC_REFERENCE in value:
            target.unsupported(f"the CloudFormation template would hold {value!r}, whose {DYNAMIC_REFERENCE}...}} "
                               "CloudFormation would resolve", flow.span,
                               "remove the '{{resolve:' from the flow's values and options")
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "DefinitionString":  # escaped above
                refuse_dynamic_references(target, flow, k)
                refuse_dynamic_references(target, flow, v)
    elif isinstance(value, list):
        for v in value:
            refuse_dynamic_references(target, flow, v)
