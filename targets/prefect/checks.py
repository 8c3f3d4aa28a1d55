"""What the capability table cannot say: values `prefect deploy` would
substitute in prefect.yaml, and names Prefect's blocks do not accept."""

from __future__ import annotations

import re

from flowc.compiler import ir
from ..base import Target  # the target, as its lowering sees it

from .yamltext import PREFECT_PLACEHOLDER, has_placeholder, strings

from .names import deployment_name


# Prefect block names (Secret blocks carry @secrets)
BLOCK_NAME = re.compile(r"[a-z0-9-]+\Z")

def refuse_placeholders(target: Target, flow: ir.Flow) -> None:
    """prefect deploy substitutes {{ $VAR }} and {{ prefect.variables.x }} in
    prefect.yaml (there is no escape): a flow value that would land there
    holding one would copy a secret of the deploying machine into it."""
    hint = "remove the {{ }} (Prefect has no escape for them in prefect.yaml)"
    project, schedule = flow.decorators.project, flow.decorators.schedule
    if project is not None and has_placeholder([project.name, project.branch]):
        target.unsupported("@project holds {{ }}, which prefect deploy would substitute into the deployment's "
                         "name and tags", project.span, hint)
    if schedule is not None and has_placeholder([schedule.cron, schedule.timezone]):
        target.unsupported("@schedule holds {{ }}, which prefect deploy would substitute", schedule.span, hint)
    if has_placeholder(deployment_name(target, flow)):
        target.unsupported("the deployment name holds {{ }}, which prefect deploy would substitute",
                         flow.span, hint)



def check_yaml_is_literal(target: Target, flow: ir.Flow, text: str) -> None:
    """The backstop: prefect.yaml loads, and no value in it is a placeholder
    that prefect deploy would substitute (each source is refused above)."""
    import yaml

    doc = yaml.safe_load(text)
    found = [v for v in strings(doc) if PREFECT_PLACEHOLDER.search(v)]
    for opt in sorted(target.options):  # a config value: the option is named, as for every bad option
        value = target.options[opt]
        if isinstance(value, str) and has_placeholder(value) and any(value in v for v in found):
            target.error("FC502", f"--{opt.replace('_', '-')} holds {{{{ }}}}, which prefect deploy would "
                       "substitute in prefect.yaml", flow.span, "remove the {{ }} from the option")
    if found and not any(d.is_error for d in target.diagnostics):
        target.unsupported(f"prefect.yaml would hold {found[0]!r}, which prefect deploy would substitute",
                         flow.span, "remove the {{ }} from the flow's decorators and options")



def secrets(target: Target, flow: ir.Flow, s: ir.Step) -> tuple[str, ...]:
    out: list[str] = []
    deco = s.decorators.secrets
    if deco is not None:
        for name in deco.sources:
            if not BLOCK_NAME.match(name):
                target.unsupported(f"secret {name!r} cannot name a Prefect Secret block", deco.span,
                                 "Prefect block names hold lowercase letters, digits and dashes")
            elif name not in out:
                out.append(name)
    return tuple(out)
