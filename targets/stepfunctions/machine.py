"""The state machine: every step's states, placed in the States block of its
scope (the top level, each Parallel branch, each Map's item processor) in one
pass over the flow's topological order. Every fact about a step (its kind,
successors, parents, join, foreach stack) is read from the IR; nothing walks
the graph, so neither a long flow nor a deeply nested one recurses."""

from __future__ import annotations

import json
from typing import Any

from flowc import __version__
from flowc.compiler import ir

from ..base import flow_file, source_ref, Target
from .aws import s3_location
from .choices import ChoiceStates
from .events import CHOOSE, Rule, manual_start, start_states
from .maps import MapStates
from .names import Names
from .scopes import Scope, Scopes, link
from .tasks import TaskStates


INIT = "flowc.init"  # the first state; helper states' names have a dot, so no step can take them


class StateMachineBuilder(TaskStates, MapStates, ChoiceStates):
    """Lowers the flow to one state machine (``build``): each step's Task
    (tasks.py), then what follows it: a Parallel state over a branch, a Map
    over a foreach (maps.py), a Choice after a switch (choices.py)."""

    def __init__(self, target: Target, flow: ir.Flow, names: Names, rule: Rule | None = None):
        self.t = target
        self.flow = flow
        self.names = names
        self.steps = flow.steps_by_name
        self.batch = target.option("mode") == "batch"
        self.distributed = target.option("foreach_mode") == "distributed"
        self.store = s3_location(target.option("datastore"))
        self.recursive = [s for s in flow.ordered_steps() if s.is_recursive]
        self.rule = rule
        self.triggered = rule is not None

    # ---- the whole machine

    def build(self) -> dict:
        """States are listed as the flow reads: steps in its topological order,
        each step's helper states (``step.read``, ``step.switch``...) right
        after it, in every block."""
        top = Scope(stop=None)
        data = self.scope_data("$$.Execution.Name", None, ())
        if self.rule is not None:
            top.states.update(start_states(self.rule, data, self.flow.start))
        top.states[INIT] = {
            "Type": "Pass",
            "Comment": "the run id is the execution name; steps outside any foreach have index 0",
            "Parameters": manual_start(data) if self.rule is not None else data,
            "Next": self.flow.start,
        }
        scopes = Scopes(self.flow, top)
        for step in self.flow.ordered_steps():
            self.step_states(step, scopes.place(step), scopes)
        return {
            "Comment": self.comment(),
            "QueryLanguage": "JSONPath",
            "StartAt": CHOOSE if self.rule is not None else INIT,
            "States": top.states,
        }

    def step_states(self, step: ir.Step, scope: Scope, scopes: Scopes) -> None:
        """One step's states in its scope: its Task (and what reads its
        outcome back), then where the flow goes next."""
        tail = self.task_states(step, scope.states)
        if step.kind == ir.END:
            tail["End"] = True
        elif step.kind in (ir.LINEAR, ir.JOIN):
            link(tail, step.next[0], scope.stop)
        elif step.kind == ir.BRANCH:
            self.parallel_state(step, tail, scope, scopes)
        elif step.kind == ir.FOREACH:
            self.map_states(step, tail, scope, scopes)
        elif step.kind == ir.SWITCH:
            self.choice_states(step, tail, scope.states)
        else:  # pragma: no cover - the IR has no other kinds
            raise AssertionError(step.kind)

    def parallel_state(self, step: ir.Step, tail: dict, scope: Scope, scopes: Scopes) -> None:
        """A static split's Parallel state: one branch (a scope the split
        opens) per child, ending at the join."""
        join = step.matching_join
        name = f"{step.name}.branches"
        tail["Next"] = name
        branches = [{"StartAt": child, "States": scopes.open(step, child).states} for child in step.next]
        scope.states[name] = {
            "Type": "Parallel",
            "Comment": f"the branches of step {step.name} ({source_ref(self.flow, step.next_span or step.span)}), "
                       f"joined by {join}",
            "Branches": branches,
            "ResultPath": None,
        }
        link(scope.states[name], join, scope.stop)

    def comment(self) -> str:
        flow = self.flow
        lines = [f"{flow.name}, compiled by flowc {__version__} from {flow_file(flow)} "
                 f"(sha256 {flow.source.sha256[:12]}); each step runs "
                 + ("as an AWS Batch job." if self.batch else "on a `flowc worker` reading the task queue.")]
        if flow.docstring:
            lines.append(flow.docstring.strip())
        if flow.parameters:
            lines.append("Parameters (the execution input, a JSON object; the runtime applies defaults and types):")
            for p in flow.parameters:
                default = "required" if p.required else (
                    "no default" if p.default is None else "default " + json.dumps(p.default, ensure_ascii=False))
                lines.append(f"  {p.name} ({p.type}, {default})" + (f": {p.help}" if p.help else ""))
        return "\n".join(lines)

    def scope_data(self, run_id_path: str, index_expr: str | None, stack: tuple[str, ...]) -> dict:
        """The state data a scope starts with. ``index_expr`` is an intrinsic
        (a Map item's index path), or None for index 0; each recursive switch
        at this foreach level gets its iteration counter."""
        data: dict[str, Any] = {"run_id.$": run_id_path}
        if index_expr is None:
            data["index"] = "0"
        else:
            data["index.$"] = index_expr
        loops = {}
        for s in self.recursive:
            if s.foreach_stack == stack:
                counter: dict[str, Any] = {"iteration": 0}
                if self.batch:  # the task id, which names its datastore folder
                    if index_expr is None:
                        counter["task"] = "0"
                    else:
                        counter["task.$"] = index_expr
                loops[s.name] = counter
        if loops:
            data["loops"] = loops
        return data
