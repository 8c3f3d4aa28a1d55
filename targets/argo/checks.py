"""What Argo cannot take, found before anything is written: names that clash
or are no Kubernetes names, a second namespace, ``{{`` where Argo would
substitute it, options out of range. The values every pod target checks
alike (labels, secrets, env names) are targets/kubernetes.py check_pods."""

from __future__ import annotations

import re
from typing import Any

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..base import flow_file, Target
from ..kubernetes import DNS_SUBDOMAIN, check_label
from ..events import subscriptions
from .dag import SHARED, builder_for
from .names import dns_label
from .sensor import EVENT_PARAM


ARGO_PARAM = re.compile(r"[-a-zA-Z0-9_]+\Z")


def check_namespace(t: Target, flow: ir.Flow) -> str:
    """The one namespace a workflow's pods run in: --namespace, else the first
    @kubernetes(namespace=); a step asking for another is refused."""
    namespace, first = t.option("namespace"), None
    for s in flow.ordered_steps():
        k8s = s.decorators.kubernetes
        if k8s is None or not k8s.namespace:
            continue
        if namespace and k8s.namespace != namespace:
            where = "--namespace" if first is None else f"step '{first}'"
            t.unsupported(f"step '{s.name}' asks for namespace '{k8s.namespace}', but {where} puts the "
                          f"workflow in '{namespace}'; Argo runs a workflow's pods in one namespace",
                          k8s.span, "use one namespace for the whole flow")
        elif not namespace:
            namespace, first = k8s.namespace, s.name
    return namespace


def check_parameters(t: Target, flow: ir.Flow) -> None:
    for p in flow.parameters:
        if not ARGO_PARAM.match(p.name):
            t.unsupported(f"parameter name '{p.name}' is not a valid Argo parameter name", p.span,
                          "use letters, digits, - and _")


def check_names(t: Target, flow: ir.Flow) -> None:
    """Every generated name is a valid DNS-1123 label, and no two clash."""
    if not dns_label(flow.name):
        t.error("FC503", f"flow name '{flow.name}' gives no valid Kubernetes name", flow.span,
                "name the flow with ASCII letters, or pass --name")
        return
    project = flow.decorators.project
    if project is not None and project.branch and not dns_label(project.branch) and not t.option("name"):
        t.error("FC503", f"@project branch {project.branch!r} gives no part of a Kubernetes name: the "
                "workflow would take the name of the project's default branch", project.span,
                "use ASCII letters or digits in the branch, or pass --name")
    builder = builder_for(t, flow)
    templates: dict[str, str] = {dns_label(flow.name): f"the flow {flow.name}"}
    tasks: dict[tuple[tuple[str, ...], str], str] = {}

    def claim(table: dict, key: Any, what: str, span: Span) -> None:
        name = key[1] if isinstance(key, tuple) else key
        if key in table:
            t.error("FC503", f"{what} and {table[key]} would both be named '{name}' in Argo", span,
                    "rename one of them")
        else:
            table[key] = what

    for s in flow.ordered_steps():
        task = dns_label(s.name)
        claim(tasks, (s.foreach_stack, task), f"step '{s.name}'", s.span)
        if builder.own_template(s):
            claim(templates, task, f"step '{s.name}'", s.span)
        if s.kind == ir.FOREACH and not builder.direct_body(s.name):
            fan = builder.fanout(s.name)
            claim(tasks, (s.foreach_stack, fan), f"the foreach of step '{s.name}'", s.next_span or s.span)
            claim(templates, fan, f"the foreach of step '{s.name}'", s.next_span or s.span)
        if s.is_recursive:
            claim(templates, builder.loop(s.name), f"the loop of step '{s.name}'", s.next_span or s.span)
            if task == "again":
                t.error("FC503", f"step '{s.name}' would be named 'again', the name of its own next "
                        "iteration in Argo", s.span, "rename the step")
    if not all(builder.own_template(s) for s in flow.steps):
        claim(templates, SHARED, "the shared step template", flow.span)


def check_argo_tags(t: Target, flow: ir.Flow) -> None:
    """Argo substitutes ``{{...}}`` in every string of a template (env values,
    image, node selector, service account, args) and has no escape for
    ``{{``: a decorator argument holding one would reach the pod expanded
    (``{{workflow.parameters.p}}``) or stop the workflow. Refused, once per
    decorator, rather than changed. (Parameter values take another road:
    see parameter_inputs.)"""
    if "{{" in flow_file(flow):  # it is in every step's command line
        t.unsupported(f"the flow file's name {flow_file(flow)!r} holds '{{{{': Argo would substitute it in the "
                      "step commands and has no escape for it", flow.span, "rename the file")
    owners = [(f"@{name}", deco) for name, deco in vars(flow.decorators).items() if deco is not None]
    for s in flow.ordered_steps():
        owners += [(f"@{name} of step '{s.name}'", deco) for name, deco in vars(s.decorators).items()
                   if deco is not None and name != "card"]  # a card's options stay in the IR
    for what, deco in owners:
        found = next((text for text in _texts(deco) if "{{" in text), None)
        if found is not None:
            t.unsupported(f"{what} holds {found!r}: Argo would substitute its '{{{{' and has no escape for it",
                          deco.span, "remove the '{{' from the value (write '{ {' if it is not a placeholder)")


def check_options(t: Target, flow: ir.Flow) -> None:
    given = t.option("name")
    if given and (len(given) > 63 or not DNS_SUBDOMAIN.match(given) or "." in given):
        t.error("FC502", f"--name '{given}' is not a valid Kubernetes name (DNS-1123, at most 63)", flow.span)
    for key, value in t.text_map("labels").items():
        check_label(t, key, value, "--labels entry", flow.span, option=True)
    for key in t.text_map("annotations"):
        check_label(t, key, None, "--annotations entry", flow.span, option=True)
    for opt in ("parallelism", "ttl"):
        if t.option(opt) < 0:
            t.error("FC502", f"--{opt} must not be negative", flow.span)
    for opt in sorted(t.options):  # config values reach the templates too, where Argo substitutes
        value = t.options[opt]
        texts = [value] if isinstance(value, str) else list(t.text_map(opt).items()) \
            if isinstance(value, dict) else []
        if any("{{" in text for item in texts for text in (item if isinstance(item, tuple) else (item,))):
            t.error("FC502", f"--{opt.replace('_', '-')} holds '{{{{': Argo would substitute it and has no "
                    "escape for it", flow.span, "remove the '{{' from the option")


def _texts(value: Any) -> list[str]:
    """Every string in a decorator's value (dataclass fields, lists, dicts, keys)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _texts(k) + _texts(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
        return [t for name in value.__dataclass_fields__ for t in _texts(getattr(value, name))]
    return []


def check_events(t: Target, flow: ir.Flow) -> None:
    """What the Sensor needs (sensor.py): names of its own for the event
    parameters, and Kubernetes names for the EventSource and EventBus options."""
    for opt in ("event_source", "event_bus"):
        if not DNS_SUBDOMAIN.match(t.option(opt)) or len(t.option(opt)) > 253:
            t.error("FC502", f"--{opt.replace('_', '-')} '{t.option(opt)}' is not a Kubernetes name", flow.span)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", t.option("webhook_event")):
        t.error("FC502", f"--webhook-event '{t.option('webhook_event')}' is not an Argo Events event name "
                "(letters, digits, '.', '-', '_')", flow.span)
    url = t.option("events_url")
    if url and url != "none" and not re.match(r"https?://[^/\s]+", url):
        t.error("FC502", f"--events-url '{url}' is not an http(s) URL (or 'none')", flow.span)
    if not subscriptions(flow, t.option("user")):
        return
    for p in flow.parameters:
        if p.name.startswith(EVENT_PARAM):
            t.unsupported(f"parameter '{p.name}' starts with '{EVENT_PARAM}', the prefix of the workflow "
                          "parameters that carry the triggering events", p.span, "rename the parameter")
