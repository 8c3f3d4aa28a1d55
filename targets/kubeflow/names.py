"""Names in the pipeline spec: tasks, components, executors, parameter
channels. KFP's own compiler writes lowercase names with dashes
(``train-model``, ``comp-train-model``, ``exec-train-model``,
``for-loop-2``); flowc does the same from step names, and the channels a
condition or a ParallelFor reads are named as KFP names them
(``pipelinechannel--TASK-Output``, ``...-Output-loop-item``)."""

from __future__ import annotations

import re

from flowc.compiler import ir

OUTPUT = "Output"  # the one output parameter of a foreach split (its indices) or a switch (the chosen step)
_UNSAFE = re.compile(r"[^a-z0-9]+")


def kfp_name(text: str) -> str:
    """``Train_Model`` -> ``train-model``."""
    return _UNSAFE.sub("-", text.lower()).strip("-") or "step"


class Names:
    """One task name per step (unique in the flow, so unique in every DAG),
    and the names derived from it."""

    def __init__(self, flow: ir.Flow):
        self.tasks: dict[str, str] = {}
        taken: set[str] = set()
        for s in flow.steps:
            base = kfp_name(s.name)
            if base.split("-")[0] in ("for", "condition"):  # loop tasks: for-STEP, condition-for-STEP
                base = f"step-{base}"
            name, n = base, 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            taken.add(name)
            self.tasks[s.name] = name

    def task(self, step: str) -> str:
        return self.tasks[step]

    def loop(self, split: str) -> str:
        """The ParallelFor task of a foreach split."""
        return f"for-{self.tasks[split]}"

    @staticmethod
    def component(task: str) -> str:
        return f"comp-{task}"

    @staticmethod
    def executor(task: str) -> str:
        return f"exec-{task}"

    def output_channel(self, step: str) -> str:
        """The input through which a task or DAG reads a split's or switch's output."""
        return f"pipelinechannel--{self.tasks[step]}-{OUTPUT}"

    def item_channel(self, split: str) -> str:
        """The item of the ParallelFor over a foreach split's indices."""
        return f"{self.output_channel(split)}-loop-item"


PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parameter_name(name: str) -> str:
    """A pipeline parameter's name: a Python identifier, as KFP's SDK and UI expect."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return out if PARAM_NAME.match(out) else f"p_{out}"
