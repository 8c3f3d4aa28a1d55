"""Switches: when a task runs, as a KFP trigger condition.

A switch task writes the step it chose as its output parameter ``Output``
(the runtime's ``--output-value``); a task a switch may route around carries
``triggerPolicy.condition``, a CEL expression over those outputs, read
through inputs named as KFP names them::

    inputs.parameter_values['pipelinechannel--start-Output'] == 'big'

The condition is the IR's (compiler/graph.py): ``Step.run_when`` at the top
level, ``Step.body_run_when`` inside a foreach body (each item is routed by
the body's own switches); any one set of (switch, case step) choices
suffices: ``||`` of ``&&``.
"""

from __future__ import annotations

from flowc.compiler import ir

from .names import Names

Terms = tuple  # of tuples of (switch, case step); () when the step always runs


def terms_of(step: ir.Step) -> Terms:
    """The step's condition in the DAG that holds it (the root, or its body's)."""
    return step.body_run_when if step.foreach_stack else step.run_when


def switches_in(terms: Terms) -> list[str]:
    return sorted({sw for t in terms for sw, _ in t})


def expression(terms: Terms, names: Names) -> str:
    """The CEL condition; "" when the step always runs."""
    parts = []
    for t in sorted(sorted(t) for t in terms):
        conj = " && ".join(f"inputs.parameter_values['{names.output_channel(sw)}'] == '{case}'" for sw, case in t)
        parts.append(f"({conj})" if len(terms) > 1 and len(t) > 1 else conj)
    return " || ".join(parts)
