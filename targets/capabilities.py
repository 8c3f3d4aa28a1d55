"""What a target can express: the constructs a flow may use, each target's
answer (``CAPABILITIES``, a table of ``yes``/``no``), and the walk that
lists every construct a flow uses, so that ``Target.check_capabilities``
refuses what the table says no to before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from flowc.compiler import ir
from flowc.compiler.spans import Span

# Every construct a target may or may not express, with what it means.
CONSTRUCTS: dict[str, str] = {
    "branch": "static branch and its join",
    "foreach": "foreach fan-out and its join",
    "nested_foreach": "a foreach inside a foreach",
    "foreach_body": "a foreach body of several steps",
    "switch": "switch: one case taken at run time",
    "recursive_switch": "switch whose case loops back to its own step",
    "parameters": "flow parameters",
    "required_parameters": "parameters without a default the user must give",
    "retry": "@retry",
    "timeout": "@timeout",
    "catch": "@catch",
    "resources": "@resources (cpu, memory, disk)",
    "gpu": "GPUs (@resources(gpu=) / @kubernetes(gpu=) / @batch(gpu=))",
    "environment": "@environment variables",
    "secrets": "@secrets (references by name)",
    "schedule": "@schedule",
    "trigger": "@trigger on events",
    "trigger_on_finish": "@trigger_on_finish: a run started when another flow finishes",
    "project": "@project namespacing",
    "image": "a per-step image (@kubernetes(image=) / @batch(image=))",
    "kubernetes": "@kubernetes placement and pod options",
    "batch": "@batch placement on AWS Batch",
    "packages": "@pypi / @conda per-step environments",
}

@dataclass(frozen=True)
class Capability:
    supported: bool
    note: str = ""

def yes(note: str = "") -> Capability:
    return Capability(True, note)

def no(note: str = "") -> Capability:
    return Capability(False, note)


def uses(flow: ir.Flow) -> Iterator[tuple[str, Span, str]]:
    """Every construct the flow uses: (construct, where, a phrase for messages)."""
    for s in flow.steps:
        if s.kind == ir.BRANCH:
            yield "branch", s.next_span or s.span, f"the branch in step '{s.name}'"
        if s.kind == ir.FOREACH:
            yield "foreach", s.next_span or s.span, f"the foreach in step '{s.name}'"
            if s.foreach_stack:
                yield "nested_foreach", s.next_span or s.span, f"the nested foreach in step '{s.name}'"
            if len(s.body) > 1:
                yield "foreach_body", s.next_span or s.span, f"the multi-step foreach body of step '{s.name}'"
        if s.kind == ir.SWITCH:
            yield "switch", s.next_span or s.span, f"the switch in step '{s.name}'"
            if s.is_recursive:
                yield "recursive_switch", s.next_span or s.span, f"the recursive switch in step '{s.name}'"
        d = s.decorators
        for key in ("retry", "timeout", "catch", "environment", "secrets", "kubernetes", "batch"):
            deco = getattr(d, key)
            if deco is not None:
                yield key, deco.span, f"@{key} on step '{s.name}'"
        res = d.resources
        if res is not None and (res.cpu or res.memory or res.disk or res.shared_memory):
            yield "resources", res.span, f"@resources on step '{s.name}'"
        gpu_deco = next((x for x in (d.resources, d.kubernetes, d.batch) if x is not None and x.gpu), None)
        if gpu_deco is not None:
            yield "gpu", gpu_deco.span, f"GPUs on step '{s.name}'"
        image_deco = next((x for x in (d.kubernetes, d.batch) if x is not None and x.image), None)
        if image_deco is not None:
            yield "image", image_deco.span, f"the image of step '{s.name}'"
        for pkg in (d.pypi, d.conda):
            if pkg is not None and not pkg.disabled:
                yield "packages", pkg.span, f"@{pkg.manager} on step '{s.name}'"
    for p in flow.parameters:
        yield "parameters", p.span, f"parameter '{p.name}'"
        if p.required:
            yield "required_parameters", p.span, f"required parameter '{p.name}'"
    fd = flow.decorators
    for key in ("schedule", "trigger", "trigger_on_finish", "project"):
        deco = getattr(fd, key, None)  # trigger_on_finish: once the IR carries it
        if deco is not None:
            yield key, deco.span, f"@{key} on flow {flow.name}"
    for pkg in (fd.pypi_base, fd.conda_base):
        if pkg is not None and not pkg.disabled:
            yield "packages", pkg.span, f"@{pkg.manager}_base on flow {flow.name}"


def carried_options(flow: ir.Flow) -> Iterator[tuple[str, str, Any, Span, str]]:
    """Each carried option a flow uses (compiler/decorators.py OPTIONS): (construct
    of its decorator, option, its table entry, where, a phrase for messages)."""
    from flowc.compiler.options import carried

    decos = [(s.decorators.kubernetes, f"step '{s.name}'") for s in flow.steps]
    decos += [(s.decorators.batch, f"step '{s.name}'") for s in flow.steps]
    decos += [(s.decorators.secrets, f"step '{s.name}'") for s in flow.steps]
    decos += [(flow.decorators.trigger, f"flow {flow.name}")]
    for deco, owner in decos:
        if deco is None:
            continue
        construct = type(deco).__name__.lower()
        for name in sorted(deco.options):
            yield construct, name, carried(deco, name), deco.span, f"@{construct}({name}=...) on {owner}"
