"""A switch's Choice state: one choice per case step, on the step the runtime
reports it chose; a Default that fails the execution, naming the step (the
runtime fails first, as Metaflow does, on a value that names no case); and,
for a recursive switch, the Pass that counts the next iteration."""

from __future__ import annotations

import json
from typing import Any

from flowc.compiler import ir

from ..base import source_ref


class ChoiceStates:
    """The Choice half of the state machine builder (machine.py)."""

    flow: ir.Flow
    batch: bool

    def choice_states(self, step: ir.Step, tail: dict, states: dict[str, dict]) -> None:
        name = f"{step.name}.switch"
        tail["Next"] = name
        targets: list[str] = []
        for target in step.cases.values():
            if target not in targets:
                targets.append(target)
        cases = ", ".join(f"{json.dumps(c, ensure_ascii=False)} -> {t}" for c, t in step.cases.items())
        choices = []
        for target in targets:
            nxt = f"{step.name}.again" if target == step.name else target
            choices.append({"Variable": "$.out.chosen", "StringEquals": target, "Next": nxt})
        states[name] = {
            "Type": "Choice",
            "Comment": f"switch on self.{step.condition} ({source_ref(self.flow, step.next_span or step.span)}): "
                       f"{cases}; the runtime reports the step it chose",
            "Choices": choices,
            "Default": f"{step.name}.unknown",
        }
        states[f"{step.name}.unknown"] = {
            "Type": "Fail",
            "Comment": "never reached: the runtime fails a step whose value names no case, as Metaflow does",
            "Error": "flowc.UnknownCase",
            "Cause": f"step {step.name} chose a step that is none of its cases",
        }
        if step.is_recursive:
            counter = f"$.loops.{step.name}.iteration"
            again: dict[str, Any] = {"iteration.$": f"States.MathAdd({counter}, 1)"}
            if self.batch:
                again["task.$"] = f"States.Format('{{}}@{{}}', $.index, States.MathAdd({counter}, 1))"
            states[f"{step.name}.again"] = {
                "Type": "Pass",
                "Comment": f"step {step.name} runs again, as its next iteration",
                "Parameters": again,
                "ResultPath": f"$.loops.{step.name}",
                "Next": step.name,
            }
