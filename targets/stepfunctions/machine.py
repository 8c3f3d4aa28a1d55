"""The state machine: the flow walked from its start step, one States block
per scope (the top level, each Parallel branch, each Map's item processor);
a scope ends at the join that closes it. Every fact about a step (its kind,
successors, join, foreach stack) is read from the IR; the walk only places
each step's states in the block of its scope."""

from __future__ import annotations

import json
from typing import Any

from flowc import __version__
from flowc.compiler import ir

from ..base import flow_file, source_ref, Target
from .aws import s3_location
from .names import Names
from .tasks import TaskStates


ITEM_READER = "arn:aws:states:::s3:getObject"
RESULT_WRITER = "arn:aws:states:::s3:putObject"
INLINE_MAP_LIMIT = 1000  # States.ArrayRange returns at most 1,000 items
INIT = "flowc.init"  # the first state; helper states' names have a dot, so no step can take them


class StateMachineBuilder(TaskStates):
    """Walks the flow from its start step and writes one States block per
    scope: the top level, each Parallel branch and each Map's item processor.
    A scope ends at the join that closes it (``stop``)."""

    def __init__(self, target: Target, flow: ir.Flow, names: Names):
        self.t = target
        self.flow = flow
        self.names = names
        self.steps = flow.steps_by_name
        self.batch = target.option("mode") == "batch"
        self.distributed = target.option("foreach_mode") == "distributed"
        self.store = s3_location(target.option("datastore"))
        self.recursive = [s for s in flow.ordered_steps() if s.is_recursive]

    # ---- the whole machine

    def build(self) -> dict:
        states: dict[str, dict] = {}
        states[INIT] = {
            "Type": "Pass",
            "Comment": "the run id is the execution name; steps outside any foreach have index 0",
            "Parameters": self.scope_data("$$.Execution.Name", None, ()),
            "Next": self.flow.start,
        }
        self.walk(self.flow.start, states, stop=None)
        return {
            "Comment": self.comment(),
            "QueryLanguage": "JSONPath",
            "StartAt": INIT,
            "States": self.in_flow_order(states),
        }

    def in_flow_order(self, states: dict[str, dict]) -> dict[str, dict]:
        """States listed as the flow reads: by step, in the flow's topological
        order, each step's helper states (``step.read``, ``step.switch``...)
        right after it. Nested blocks are ordered the same way."""
        if not hasattr(self, "_rank"):
            self._rank = {name: i for i, name in enumerate(self.flow.order)}
        rank = self._rank
        for state in states.values():
            for branch in state.get("Branches", []):
                branch["States"] = self.in_flow_order(branch["States"])
            if "ItemProcessor" in state:
                state["ItemProcessor"]["States"] = self.in_flow_order(state["ItemProcessor"]["States"])
        def key(item: tuple[int, str]) -> tuple[int, int]:
            position, name = item
            return (-1 if name == INIT else rank[name.split(".")[0]], position)

        order = sorted(enumerate(states), key=key)
        return {name: states[name] for _, name in order}

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
        (a Map item's index path), or None for index 0."""
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

    # ---- walking the graph

    def walk(self, name: str, states: dict[str, dict], stop: str | None) -> None:
        """The states of every step from ``name`` up to ``stop``, depth first
        in the order of each step's successors: a loop over a stack, so a
        long chain of steps costs no recursion (only a nested split does)."""
        pending = [name]
        while pending:
            name = pending.pop()
            if name == stop or name in states:
                continue
            step = self.steps[name]
            tail = self.task_states(step, states)
            inside = stop is not None
            after: list[str] = []
            if step.kind == ir.END:
                tail["End"] = True
            elif step.kind in (ir.LINEAR, ir.JOIN):
                self.link(tail, step.next[0], stop)
                after = [step.next[0]]
            elif step.kind == ir.BRANCH:
                after = self.branch(step, tail, states, stop)
            elif step.kind == ir.FOREACH:
                after = self.foreach(step, tail, states, stop)
            elif step.kind == ir.SWITCH:
                after = self.switch(step, tail, states, stop)
            else:  # pragma: no cover - the IR has no other kinds
                raise AssertionError(step.kind)
            if inside and tail.get("End") and tail["Type"] == "Task":
                tail["OutputPath"] = None  # a branch or Map item returns {}, whatever the width
            pending.extend(reversed(after))

    @staticmethod
    def link(state: dict, nxt: str, stop: str | None) -> None:
        if nxt == stop:
            state["End"] = True
            if state["Type"] == "Task":
                state["OutputPath"] = None
        else:
            state["Next"] = nxt

    def branch(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
        join = step.matching_join
        name = f"{step.name}.branches"
        tail["Next"] = name
        branches = []
        for child in step.next:
            inner: dict[str, dict] = {}
            self.walk(child, inner, stop=join)
            branches.append({"StartAt": child, "States": inner})
        states[name] = {
            "Type": "Parallel",
            "Comment": f"the branches of step {step.name} ({source_ref(self.flow, step.next_span or step.span)}), "
                       f"joined by {join}",
            "Branches": branches,
            "ResultPath": None,
        }
        self.link(states[name], join, stop)
        return [join]

    def foreach(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
        join = step.matching_join
        body = step.next[0]
        stack = step.foreach_stack + (step.name,)
        if step.foreach_stack:
            index = "States.Format('{}.{}', $.index, $$.Map.Item.Value)"
        else:
            index = "States.Format('{}', $$.Map.Item.Value)"
        inner: dict[str, dict] = {}
        self.walk(body, inner, stop=join)
        name = f"{step.name}.foreach"
        where = source_ref(self.flow, step.next_span or step.span)
        the_map: dict[str, Any] = {"Type": "Map"}
        if self.distributed:
            tail["Next"] = name
            the_map["Comment"] = (f"one child execution per item of self.{step.foreach} ({where}); the items are "
                                  "the runtime's manifest in S3, so no state ever holds them")
            the_map["ItemReader"] = {
                "Resource": ITEM_READER,
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": self.store.bucket,
                               "Key.$": self.datastore_key(step, "foreach.json")},
            }
        else:
            tail["Next"] = f"{step.name}.width"
            states[f"{step.name}.width"] = {
                "Type": "Choice",
                "Comment": f"an inline Map takes at most {INLINE_MAP_LIMIT} items (the runtime refuses none)",
                "Choices": [
                    {"Variable": "$.out.count", "NumericGreaterThan": INLINE_MAP_LIMIT,
                     "Next": f"{step.name}.too_wide"},
                ],
                "Default": f"{step.name}.items",
            }
            states[f"{step.name}.too_wide"] = {
                "Type": "Fail",
                "Comment": "States.ArrayRange stops at 1,000 items",
                "Error": "flowc.ForeachTooWide",
                "Cause": f"the foreach in step {step.name} has more than {INLINE_MAP_LIMIT} items, more than an "
                         "inline Map takes; compile with --foreach-mode distributed",
            }
            states[f"{step.name}.items"] = {
                "Type": "Pass",
                "Comment": "the child indices 0..count-1 (small: at most 1,000 numbers)",
                "Parameters": {"items.$": "States.ArrayRange(0, States.MathAdd($.out.count, -1), 1)"},
                "ResultPath": "$.out",
                "Next": name,
            }
            the_map["Comment"] = f"one iteration per item of self.{step.foreach} ({where})"
            the_map["ItemsPath"] = "$.out.items"
        the_map["ItemSelector"] = self.scope_data("$.run_id", index, stack)
        if self.t.option("max_concurrency"):
            the_map["MaxConcurrency"] = self.t.option("max_concurrency")
        processor: dict[str, Any] = {"Mode": "INLINE"}
        if self.distributed:
            processor = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        the_map["ItemProcessor"] = {"ProcessorConfig": processor, "StartAt": body, "States": inner}
        if self.distributed:
            the_map["ResultWriter"] = {
                "Resource": RESULT_WRITER,
                "Parameters": {"Bucket": self.store.bucket,
                               "Prefix": f"{self.store.prefix}{self.flow.name}/stepfunctions/map-results"},
            }
            the_map["ResultPath"] = None
        else:
            # the iterations' outputs are {} each; keep only their number
            the_map["ResultSelector"] = {"joined.$": "States.ArrayLength($)"}
            the_map["ResultPath"] = "$.out"
        states[name] = the_map
        self.link(the_map, join, stop)
        return [join]

    def switch(self, step: ir.Step, tail: dict, states: dict, stop: str | None) -> list[str]:
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
        return [target for target in targets if target != step.name]
