"""One step's container template: the pod targets/kubernetes.py lowers for
every pod target (requests and limits, env, secrets, volumes, placement,
labels), written in Argo's template fields, with what is Argo's own: the
runtime's command with Argo's placeholders, the OUT.json output a DAG reads,
retryStrategy and activeDeadlineSeconds (targets/base.py engine_timeout)."""

from __future__ import annotations

import json
import re

from flowc.compiler import ir

from ..base import engine_timeout, Target
from ..kubernetes import pod_of
from . import models as m
from ..events import end_event_name, subscriptions
from .names import quote_expr
from .sensor import event_arguments, webhook_url


OUT_PATH = "/tmp/flowc/out.json"  # where the runtime writes OUT.json (--output)
SHARED = "run-step"  # the container template shared by steps without settings of their own


def parameter_inputs(flow: ir.Flow) -> tuple[list, str]:
    """How parameters reach the start step: one input per parameter whose
    value is an Argo expression giving the parameter as JSON text, with
    every ``{`` written as the JSON escape ``\\u007b``, and one ``--params``
    argument gathering them into a JSON object. The text Argo puts in the
    pod then holds no ``{{``, so no later substitution pass can touch a
    value, and the runtime's JSON parser gives back the exact text. An
    optional parameter without a default is ``null`` (no value) when empty."""
    inputs, fields = [], []
    for p in flow.parameters:
        ref = f"workflow.parameters.{p.name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p.name) \
            else f"workflow.parameters[{quote_expr(p.name)}]"
        value = f'sprig.replace("{{", "\\\\u007b", toJson({ref}))'
        if p.default is None and not p.required:
            value = f'{ref} == "" ? "null" : {value}'
        inputs.append(m.Parameter(name=f"param-{p.name}", value=f"{{{{={value}}}}}"))
        fields.append(f"{json.dumps(p.name)}:{{{{inputs.parameters.param-{p.name}}}}}")
    return inputs, "{" + ",".join(fields) + "}"


def trigger_inputs(flow: ir.Flow, user: str) -> tuple[list, str]:
    """How the events that started a run reach the start step: one input per
    Sensor dependency, whose value is the workflow parameter holding that
    event's webhook body (sensor.py), as a JSON string with every ``{``
    escaped (parameter_inputs' rule: no ``{{`` reaches a later substitution
    pass), and one ``--trigger`` argument listing them. The runtime reads
    each string as an event; an empty one (a run not started by the Sensor)
    is no event."""
    inputs, items = [], []
    for i, (param, _) in enumerate(event_arguments(flow, user)):
        value = f'sprig.replace("{{", "\\u007b", toJson(workflow.parameters[{quote_expr(param)}]))'
        inputs.append(m.Parameter(name=f"event-{i}", value=f"{{{{={value}}}}}"))
        items.append(f"{{{{inputs.parameters.event-{i}}}}}")
    return inputs, "[" + ",".join(items) + "]"


def events_env(target: Target, flow: ir.Flow) -> dict[str, str]:
    """Where the runtime publishes events (the webhook EventSource) and the
    name of this flow's end event, as resolved at compile time."""
    env = {"FLOWC_END_EVENT": end_event_name(flow, target.option("user"))}
    url = webhook_url(target)
    if url:
        env["FLOWC_EVENTS"] = url
    return env


def container_template(target: Target, flow: ir.Flow, s: ir.Step, name: str, shared: bool = False):
    """The container running step ``s`` as template ``name``; or, ``shared``,
    the one every plain step with ``s``'s signature runs, taking the step's
    name as an input."""
    inputs: list = []
    if shared:
        inputs = [m.Parameter(name="step"), m.Parameter(name="index")]
    else:
        if s.foreach_stack:
            inputs.append(m.Parameter(name="index"))
        if s.is_recursive:
            inputs.append(m.Parameter(name="iteration"))
    retry = s.decorators.retry
    extra = []
    if not shared and s.name == flow.start and flow.parameters:
        param_inputs, params = parameter_inputs(flow)
        inputs += param_inputs
        extra = ["--params", params]
    if not shared and s.name == flow.start and subscriptions(flow, target.option("user")):
        event_inputs, events = trigger_inputs(flow, target.option("user"))
        inputs += event_inputs
        extra += ["--trigger", events]
    argv = target.runtime_argv(
        flow, s, run_id="{{workflow.name}}",
        index="{{inputs.parameters.index}}" if (shared or s.foreach_stack) else "0",
        attempt="{{retries}}" if retry is not None else "0",
        iteration="{{inputs.parameters.iteration}}" if s.is_recursive else None,
        output=OUT_PATH if s.kind in (ir.FOREACH, ir.SWITCH) else None,
        extra=extra)
    if shared:
        argv[argv.index("--step") + 1] = "{{inputs.parameters.step}}"
    pod = pod_of(target, s)
    container = m.Container(
        image=pod.image,
        image_pull_policy=pod.image_pull_policy or target.option("image_pull_policy") or None,
        command=argv[:4], args=argv[4:],
        env=[m.EnvVar(name=k, value=v) for k, v in {**events_env(target, flow), **pod.env}.items()] or None,
        env_from=[m.EnvFromSource(secret_ref=m.SecretEnvSource(name=n)) for n in pod.secrets] or None,
        resources=m.ResourceRequirements(
            requests={k: m.Quantity(v) for k, v in pod.requests.items()} or None,
            limits={k: m.Quantity(v) for k, v in pod.limits.items()} or None) if pod.resources else None,
        volume_mounts=[m.VolumeMount.model_validate(v) for v in pod.volume_mounts] or None)
    if pod.security_context:
        container.security_context = m.SecurityContext.model_validate(pod.security_context)
    template = m.Template(name=name, inputs=m.Inputs(parameters=inputs) if inputs else None, container=container,
                          volumes=[m.Volume.model_validate(v) for v in pod.volumes] or None)
    if s.kind in (ir.FOREACH, ir.SWITCH):
        template.outputs = m.Outputs(parameters=[m.Parameter(name="out", value_from=m.ValueFrom(path=OUT_PATH))])
    if retry is not None:
        seconds = round(retry.minutes_between_retries * 60)
        template.retry_strategy = m.RetryStrategy(
            limit=m.IntOrString(retry.times), retry_policy="Always",
            backoff=m.Backoff(duration=f"{seconds}s") if seconds > 0 else None)
    template.active_deadline_seconds = m.IntOrString(engine_timeout(s))
    template.node_selector = pod.node_selector or None
    template.tolerations = [m.Toleration.model_validate(t) for t in pod.tolerations] or None
    template.service_account_name = pod.service_account
    if pod.image_pull_secrets:  # a template sets pod fields through a patch
        template.pod_spec_patch = json.dumps({"imagePullSecrets": [{"name": n} for n in pod.image_pull_secrets]},
                                             sort_keys=True)
    if pod.labels or pod.annotations:
        template.metadata = m.Metadata(labels=pod.labels or None, annotations=pod.annotations or None)
    return template
