"""The DAGs of the pipeline: the root (the flow's top level) and one DAG
component per foreach body, run by a ParallelFor over its split's output.

Everything comes from the IR: a task waits for its parents that lie in the
same DAG (``dependentTasks``), for the ParallelFor of a nested body that
ends in it, and for the switches its condition reads; the entry of a body
waits for nothing (its ParallelFor waits for the split). A foreach split's
task writes its children's index paths (``["0", "1", ...]``, ``["2.0",
"2.1", ...]`` inside item 2: never the items) as its output ``Output``; the
ParallelFor iterates over them, and every task inside takes its item as
``index``, its whole ``--index``. (No item is passed down into a nested
loop: kfp.local overwrites every ``*-loop-item`` input of a ParallelFor with
its own item, and the full path needs none.)
"""

from __future__ import annotations

from typing import Any

from flowc.compiler import ir

from ..base import describe_step, Target
from . import conditions, executors
from .names import OUTPUT, Names




class Lowering:
    def __init__(self, target: Target, flow: ir.Flow, params: dict[str, str]):
        self.target = target
        self.flow = flow
        self.params = params  # flow parameter name -> pipeline input name
        self.names = Names(flow)
        self.steps = flow.steps_by_name
        self.components: dict[str, Any] = {}
        self.executors: dict[str, Any] = {}
        self.platform: dict[str, Any] = {}
        self.comments: dict[tuple[str, ...], str] = {}  # YAML path -> the comment above it

    # ---- scopes

    def scope_steps(self, scope: tuple[str, ...]) -> list[ir.Step]:
        return [s for s in self.flow.ordered_steps() if s.foreach_stack == scope]

    def terms(self, s: ir.Step) -> conditions.Terms:
        return conditions.terms_of(s)

    def dag(self, scope: tuple[str, ...]) -> dict[str, Any]:
        tasks: dict[str, Any] = {}
        for s in self.scope_steps(scope):
            task = self.names.task(s.name)
            tasks[task] = self.step_task(s, scope)
            self.comments[self.dag_path(scope) + (task,)] = describe_step(self.flow, s)
            if s.kind == ir.FOREACH:
                loop = self.loop_name(s)
                tasks[loop] = self.loop_task(s, scope)
                self.comments[self.dag_path(scope) + (loop,)] = (
                    f"the foreach of {s.name} ({self.ref(s.next_span or s.span)}): one run of "
                    f"{self.names.component(self.names.loop(s.name))} per item")
                self.components[self.names.component(self.names.loop(s.name))] = self.loop_component(s)
        return {"tasks": tasks}

    def dag_path(self, scope: tuple[str, ...]) -> tuple[str, ...]:
        if not scope:
            return ("root", "dag", "tasks")
        return ("components", self.names.component(self.names.loop(scope[-1])), "dag", "tasks")

    def ref(self, span) -> str:
        from ..base import source_ref

        return source_ref(self.flow, span)

    # ---- wiring

    def depends(self, s: ir.Step, scope: tuple[str, ...]) -> list[str]:
        out: set[str] = set()
        for p in s.parents:
            ps = self.steps[p]
            if ps.foreach_stack == scope:
                out.add(self.names.task(p))
            elif len(ps.foreach_stack) > len(scope):  # the end of a nested body: wait for its ParallelFor
                out.add(self.loop_name(self.steps[ps.foreach_stack[len(scope)]]))
        return sorted(out)

    def condition_inputs(self, terms: conditions.Terms) -> dict[str, Any]:
        return {self.names.output_channel(sw): {"taskOutputParameter": {
            "producerTask": self.names.task(sw), "outputParameterKey": OUTPUT}}
            for sw in conditions.switches_in(terms)}

    def wire(self, task: dict[str, Any], s: ir.Step, scope: tuple[str, ...], inputs: dict[str, Any]) -> None:
        terms = self.terms(s)
        inputs.update(self.condition_inputs(terms))
        deps = set(self.depends(s, scope)) | {self.names.task(sw) for sw in conditions.switches_in(terms)}
        if deps:
            task["dependentTasks"] = sorted(deps)
        if inputs:
            task["inputs"] = {"parameters": dict(sorted(inputs.items()))}
        cond = conditions.expression(terms, self.names)
        if cond:
            task["triggerPolicy"] = {"condition": cond}

    def index_inputs(self, scope: tuple[str, ...]) -> dict[str, Any]:
        if not scope:
            return {}
        return {executors.INDEX: {"componentInputParameter": self.names.item_channel(scope[-1])}}

    # ---- tasks

    def step_task(self, s: ir.Step, scope: tuple[str, ...]) -> dict[str, Any]:
        name = self.names.task(s.name)
        task: dict[str, Any] = {"taskInfo": {"name": name}, "componentRef": {"name": self.names.component(name)},
                                "cachingOptions": {}}  # no enableCache: every run runs every task
        inputs = self.index_inputs(scope)
        if s.name == self.flow.start:
            inputs.update({n: {"componentInputParameter": n} for n in self.params.values()})
        self.wire(task, s, scope, inputs)
        retry = s.decorators.retry
        if retry is not None and retry.times:
            delay = int(round(retry.minutes_between_retries * 60))
            task["retryPolicy"] = {"maxRetryCount": retry.times, "backoffDuration": f"{delay}s",
                                   "backoffFactor": 1.0, "backoffMaxDuration": f"{delay}s"}
        self.components[self.names.component(name)] = self.step_component(s, task)
        executor = self.names.executor(name)
        self.executors[executor] = executors.container(self.target, self.flow, s, self.params)
        self.platform[executor] = executors.platform(self.target, s)
        self.comments[("deploymentSpec", "executors", executor)] = describe_step(self.flow, s)
        return task

    def step_component(self, s: ir.Step, task: dict[str, Any]) -> dict[str, Any]:
        inputs = {}
        for key in task.get("inputs", {}).get("parameters", {}):
            inputs[key] = {"parameterType": "STRING"}
        if s.name == self.flow.start:
            for key in self.params.values():
                inputs[key] = dict(self.target.parameter_specs[key], isOptional=True)
                inputs[key].pop("defaultValue", None)
        comp: dict[str, Any] = {"executorLabel": self.names.executor(self.names.task(s.name))}
        if inputs:
            comp["inputDefinitions"] = {"parameters": dict(sorted(inputs.items()))}
        if s.kind == ir.FOREACH:
            comp["outputDefinitions"] = {"parameters": {OUTPUT: {"parameterType": "LIST"}}}
        elif s.kind == ir.SWITCH:
            comp["outputDefinitions"] = {"parameters": {OUTPUT: {"parameterType": "STRING"}}}
        return comp

    def loop_task(self, s: ir.Step, scope: tuple[str, ...]) -> dict[str, Any]:
        """The ParallelFor over the split's indices; when a switch may route around
        the split, inside a condition DAG carrying its trigger condition (as KFP's
        compiler nests a ParallelFor in a dsl.If: a task has a condition or an iterator)."""
        loop, items = self.names.loop(s.name), self.names.output_channel(s.name)
        terms = self.terms(s)
        produced = {"taskOutputParameter": {"producerTask": self.names.task(s.name), "outputParameterKey": OUTPUT}}
        wrapped = bool(conditions.expression(terms, self.names))
        task: dict[str, Any] = {"taskInfo": {"name": loop}, "componentRef": {"name": self.names.component(loop)},
                                "inputs": {"parameters": dict(sorted({
                                    items: {"componentInputParameter": items} if wrapped else produced}.items()))},
                                "parameterIterator": {"itemInput": self.names.item_channel(s.name),
                                                      "items": {"inputParameter": items}}}
        if not wrapped:
            task["dependentTasks"] = [self.names.task(s.name)]
        if self.target.option("parallelism"):
            task["iteratorPolicy"] = {"parallelismLimit": self.target.option("parallelism")}
        if not wrapped:
            return task
        cond = f"condition-{loop}"
        outer: dict[str, Any] = {"taskInfo": {"name": cond}, "componentRef": {"name": self.names.component(cond)}}
        inputs = {items: produced, **self.condition_inputs(terms)}
        outer["inputs"] = {"parameters": dict(sorted(inputs.items()))}
        outer["dependentTasks"] = sorted({self.names.task(s.name)} |
                                         {self.names.task(sw) for sw in conditions.switches_in(terms)})
        outer["triggerPolicy"] = {"condition": conditions.expression(terms, self.names)}
        declared = {name: {"parameterType": "LIST" if name == items else "STRING"} for name in inputs}
        self.components[self.names.component(cond)] = {
            "dag": {"tasks": {loop: task}}, "inputDefinitions": {"parameters": dict(sorted(declared.items()))}}
        return outer

    def loop_name(self, s: ir.Step) -> str:
        """The task standing for a split's foreach in its DAG (the ParallelFor, or its condition)."""
        loop = self.names.loop(s.name)
        return f"condition-{loop}" if conditions.expression(self.terms(s), self.names) else loop

    def loop_component(self, s: ir.Step) -> dict[str, Any]:
        scope = s.foreach_stack + (s.name,)
        inputs = {self.names.output_channel(s.name): {"parameterType": "LIST"},
                  self.names.item_channel(s.name): {"parameterType": "STRING"}}
        return {"dag": self.dag(scope), "inputDefinitions": {"parameters": dict(sorted(inputs.items()))}}
