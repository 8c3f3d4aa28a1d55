"""What the state machine cannot hold: the EventBridge Scheduler schedule for
@schedule, the EventBridge rule of @trigger / @trigger_on_finish (events.py),
and one CloudFormation template with the state machine, its job
definitions, its schedule, its rule and the role the rule starts it with."""

from __future__ import annotations

from typing import Any

from flowc import __version__
from flowc.compiler import ir

from ..aws_batch import JobDefinition
from ..base import flow_file, source_ref, Target
from .aws import DYNAMIC_REFERENCE, logical_id
from .jsontext import json_text
from .cron import CronError, aws_cron
from .events import Rule
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


def rule_request(target: Target, flow: ir.Flow, names: Names, rule: Rule) -> dict:
    """The rule as EventBridge's PutRule and PutTargets requests, for the CLI;
    the ARNs are known once deployed (the template fills them in)."""
    put_rule: dict[str, Any] = {"Name": names.state_machine, "Description": rule.description,
                                "EventPattern": json_text(rule.pattern), "State": "ENABLED"}
    bus = rule_bus(target, rule)
    if bus:
        put_rule["EventBusName"] = bus
    put_targets: dict[str, Any] = {"Rule": names.state_machine}
    if bus:
        put_targets["EventBusName"] = bus
    put_targets["Targets"] = [{
        "Id": "StateMachine",
        "Arn": f"<ARN of the state machine {names.state_machine}>",
        "RoleArn": "<ARN of a role EventBridge assumes to call states:StartExecution on it>",
        "InputTransformer": {"InputPathsMap": rule.paths, "InputTemplate": rule.template},
    }]
    return {"PutRule": put_rule, "PutTargets": put_targets}


def rule_bus(target: Target, rule: Rule) -> str:
    """The rule's bus: "" for the default one (Step Functions' own events arrive only there)."""
    return "" if rule.default_bus else target.option("event_bus")


def rule_resources(target: Target, rule: Rule) -> dict[str, Any]:
    """The rule, and the role it starts the state machine with (only that)."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "lets EventBridge start executions of this state machine",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "start-execution", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "states:StartExecution", "Resource": {"Ref": "StateMachine"}}]}}],
        },
    }
    props: dict[str, Any] = {"Description": rule.description}
    bus = rule_bus(target, rule)
    if bus:
        props["EventBusName"] = bus
    props["EventPattern"] = rule.pattern
    props["State"] = "ENABLED"
    props["Targets"] = [{
        "Id": "StateMachine",
        "Arn": {"Ref": "StateMachine"},
        "RoleArn": {"Fn::GetAtt": ["TriggerRole", "Arn"]},
        "InputTransformer": {"InputPathsMap": rule.paths, "InputTemplate": rule.template},
    }]
    return {"TriggerRole": role, "Trigger": {"Type": "AWS::Events::Rule", "Properties": props}}


def cloudformation(target: Target, flow: ir.Flow, names: Names, machine: dict,
                   jobs: list[JobDefinition], rule: Rule | None = None) -> dict:
    """One stack: the state machine, its job definitions, its schedule and its rule."""
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
    if rule is not None:
        resources.update(rule_resources(target, rule))
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
