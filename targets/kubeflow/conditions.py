"""Switches: when a task runs, as a KFP trigger condition.

A switch task writes the step it chose as its output parameter ``Output``
(the runtime's ``--output-value``); a task a switch may route around carries
``triggerPolicy.condition``, a CEL expression over those outputs, read
through inputs named as KFP names them::

    inputs.parameter_values['pipelinechannel--start-Output'] == 'big'

At the top level the condition is the IR's ``Step.run_when`` (any one set of
(switch, case step) choices suffices: ``||`` of ``&&``). Inside a foreach
body the IR leaves the routing to each item, so the condition of a body step
is composed here from the body's own switches, by the same rule the IR uses
(compiler/graph.py ``run_conditions``), with its simplification.
"""

from __future__ import annotations

from flowc.compiler import ir
from flowc.compiler.graph import ALWAYS, simplify_conditions

from .names import Names

Terms = frozenset  # of frozensets of (switch, case step)


def scope_conditions(flow: ir.Flow, scope: tuple[str, ...]) -> dict[str, Terms]:
    """When each step of one foreach body (``scope``: its foreach stack) runs
    within one item, from the switches of that body."""
    steps = flow.steps_by_name
    cases = {s.name: frozenset(n for n in s.next if n != s.name) for s in flow.steps if s.kind == ir.SWITCH}
    cond: dict[str, Terms] = {}
    for s in flow.ordered_steps():
        if s.foreach_stack != scope:
            continue
        result = ALWAYS
        for group in s.parent_groups:
            alternatives: set = set()
            for m in group:
                ms = steps[m]
                if ms.foreach_stack == scope:
                    edge = cond.get(m, ALWAYS)
                    if ms.kind == ir.SWITCH:
                        edge = frozenset(t | {(m, s.name)} for t in edge)
                elif len(ms.foreach_stack) > len(scope):  # the end of a nested body: its loop
                    edge = cond.get(ms.foreach_stack[len(scope)], ALWAYS)
                else:  # the split that opened this body: every item reaches its entry
                    edge = ALWAYS
                alternatives |= edge
            result = frozenset(x | y for x in result for y in alternatives)
        cond[s.name] = simplify_conditions(result, cases)
    return cond


def terms_of(flow: ir.Flow, step: ir.Step, scoped: dict[str, Terms]) -> Terms:
    if not step.foreach_stack:
        return frozenset(frozenset(t) for t in step.run_when) if step.run_when else ALWAYS
    return scoped.get(step.name, ALWAYS)


def switches_in(terms: Terms) -> list[str]:
    return sorted({sw for t in terms for sw, _ in t})


def expression(terms: Terms, names: Names) -> str:
    """The CEL condition; "" when the step always runs."""
    if terms == ALWAYS:
        return ""
    parts = []
    for t in sorted(sorted(t) for t in terms):
        conj = " && ".join(f"inputs.parameter_values['{names.output_channel(sw)}'] == '{case}'" for sw, case in t)
        parts.append(f"({conj})" if len(terms) > 1 and len(t) > 1 else conj)
    return " || ".join(parts)
