"""Kubernetes names for what the Argo target writes: DNS-1123 labels from
flow and step names, the objects' name under @project (Metaflow's rule,
targets/naming.py), and expression literals."""

from __future__ import annotations

import functools
import hashlib
import re

from flowc.compiler import ir

from ..naming import deployment_parts

CRON_NAME_LIMIT = 52


# bounded, yet larger than any flow's set of names: a cache of 4,096 thrashed on a
# flow of 10,000 steps (every lookup a miss, where a 1,000-step flow hit half)
@functools.lru_cache(maxsize=1 << 16)
def dns_label(text: str, limit: int = 63) -> str:
    """A DNS-1123 label derived from a flow or step name: CamelCase and
    snake_case become kebab-case; anything else is dropped; long names are cut
    and given a hash of the whole name so they stay distinct."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text).lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    if len(s) > limit:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        s = s[: limit - 9].rstrip("-") + "-" + digest
    return s


def object_name(flow: ir.Flow, given: str = "", user: str = "") -> str:
    """The objects' name: ``--name``, else the deployment's parts (PROJECT,
    prod / test BRANCH / user NAME, FLOW) as one DNS-1123 label."""
    if given:
        return given
    return dns_label("-".join(p for p in (dns_label(part) for part in deployment_parts(flow, user)) if p))


def cron_name(name: str) -> str:
    """Argo appends a timestamp to the runs a CronWorkflow starts, so its name
    has at most 52 characters (workflow/validate: maxCharsInCronWorkflowName)."""
    return name if len(name) <= CRON_NAME_LIMIT else dns_label(name, CRON_NAME_LIMIT)


def quote_expr(text: str) -> str:
    """A string literal for an Argo expression (expr-lang), double-quoted."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
