"""The flow function's body: one statement per step, in an order that starts
independent tasks before the flow waits for any result.

Every graph fact comes from the IR: parents and parent groups, foreach
stacks, the split a join closes, and ``run_when`` (whether a switch may route
around a step, so that it needs an ``if``)."""

from __future__ import annotations

import bisect
import re
from typing import Optional

from flowc.compiler import ir

from ..python_emit import PyNames, py_literal
from .plan import Stmt, TaskPlan

class FlowBody:
    """Orders the flow body and names its variables.

    Statements follow the flow's topological order, except that a step which
    must wait for another task's result (a switch's case, a foreach's count)
    comes after every step that can already be submitted, so independent
    branches start before the flow blocks."""

    def __init__(self, flow: ir.Flow, tasks: dict[str, TaskPlan], names: PyNames, run_var: str, params_var: str,
                 trigger_var: Optional[str] = None):
        self.flow = flow
        self.trigger = trigger_var
        self.steps = flow.steps_by_name
        self.tasks = tasks
        self.names = names
        self.run = run_var
        self.params = params_var
        self.future: dict[str, str] = {}
        self.index_var: dict[str, str] = {}
        self.case_var: dict[str, str] = {}
        self.out: list[Stmt] = []
        # each foreach body's entry step -> its split
        self.entered = {split.next[0]: split for split in flow.steps if split.kind == ir.FOREACH}

    # -- naming
    def future_of(self, step: str) -> str:
        if step not in self.future:
            plural = "futures" if self.steps[step].depth else "future"
            self.future[step] = self.names.claim(f"{step}_{plural}")
        return self.future[step]

    def case_of(self, step: str) -> str:
        if step not in self.case_var:
            self.case_var[step] = self.names.claim(f"{step}_case")
        return self.case_var[step]

    # -- ordering
    def build(self) -> tuple[list[Stmt], list[str]]:
        # Emit, of the steps whose parents are all emitted, the first in flow
        # order that does not block, else the first. Readiness is counted down
        # as parents are emitted, so the order costs the edges, not steps squared.
        position = {n: i for i, n in enumerate(self.flow.order)}
        waiting: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        for n in self.flow.order:
            parents = set(self.steps[n].parents)
            waiting[n] = len(parents)
            for p in parents:
                children.setdefault(p, []).append(n)
        ready = [n for n in self.flow.order if not waiting[n]]
        for _ in range(len(self.flow.order)):
            pick = next((n for n in ready if not self.blocks(self.steps[n])), ready[0])
            if self.steps[pick].depth:
                self.emit_mapped(self.steps[pick])
            else:
                self.emit_top(self.steps[pick])
            ready.remove(pick)
            for c in children.get(pick, ()):
                waiting[c] -= 1
                if not waiting[c]:
                    bisect.insort(ready, c, key=position.__getitem__)
        guards = " ".join(s.guard or "" for s in self.out)
        for stmt in self.out:
            if stmt.kind == "loop" and not re.search(rf"\b{stmt.case_var}\b", guards):
                stmt.case_var = ""
        return self.out, [self.future[n] for n in self.flow.order]

    def blocks(self, s: ir.Step) -> bool:
        """Whether emitting the step waits for a result not yet waited for."""
        if s.is_recursive:
            return True
        if s.name in self.entered:  # a foreach's count
            return True
        for p in s.parents:
            if self.steps[p].kind == ir.SWITCH and p not in self.case_var and not (s.depth and s.name in self.index_var):
                return True
        return False

    def args(self, s: ir.Step, index: str, iteration: Optional[str] = None) -> list[str]:
        out = [self.run if not s.depth else f"unmapped({self.run})", index]
        if iteration is not None:
            out.append(iteration)
        if s.name == self.flow.start:
            out.append(self.params)
            if self.trigger:
                out.append(self.trigger)
        return out

    # -- outside any foreach
    def emit_top(self, s: ir.Step) -> None:
        t = self.tasks[s.name]
        for p in s.parents:
            ps = self.steps[p]
            if ps.kind == ir.SWITCH and not ps.is_recursive and not ps.depth and p not in self.case_var:
                self.out.append(Stmt("call", var=self.case_of(p), call=f"chosen({self.future_of(p)})",
                                     comment=f"wait for {p}: the case it chose decides what runs next"))
        wait_for = [self.future_of(p) for p in s.parents]
        guard = self.guard(s) if s.run_when else None
        var = self.future_of(s.name)
        if s.is_recursive:
            iter_var = self.names.claim(f"{s.name}_iteration")
            first = call_text(f"{t.func}.submit", self.args(s, '"0"', "0"), wait_for=wait_for)
            again = call_text(f"{t.func}.submit", self.args(s, '"0"', iter_var), wait_for=[var])
            self.out.append(Stmt("loop", var=var, call=first, again=again, iter_var=iter_var, task=t, guard=guard,
                                 case_var=self.case_of(s.name), comment=t.comment))
        else:
            call = call_text(f"{t.func}.submit", self.args(s, '"0"'), wait_for=wait_for)
            self.out.append(Stmt("call", var=var, call=call, guard=guard, task=t, comment=t.comment))

    def guard(self, s: ir.Step) -> Optional[str]:
        """When a step that may not run runs: each parent group delivered."""
        if s.closes and self.steps[s.closes].kind == ir.FOREACH:
            return f"{self.future_of(s.closes)} is not None"
        groups = []
        for group in s.parent_groups:
            members = []
            for m in group:
                ms = self.steps[m]
                if ms.kind == ir.SWITCH:
                    members.append(f"{self.case_of(m)} == {py_literal(s.name)}")
                elif not self.steps[m].run_when:
                    members = []
                    break
                else:
                    members.append(f"{self.future_of(m)} is not None")
            if members:
                groups.append(members)
        parts = [" or ".join(g) if len(groups) == 1 or len(g) == 1 else f"({' or '.join(g)})" for g in groups]
        return " and ".join(parts) or None

    # -- inside a foreach
    def emit_mapped(self, s: ir.Step) -> None:
        t = self.tasks[s.name]
        indices, aligned = self.indices_of(s)
        var = self.future_of(s.name)
        futures = [self.future_of(p) for p in s.parents]
        if aligned:
            after = futures[0] if len(futures) == 1 else f"zipped({', '.join(futures)})"
            call = call_text(f"{t.func}.map", self.args(s, indices, "0" if s.is_recursive else None), after=after)
        else:
            call = call_text(f"{t.func}.map", self.args(s, indices, "0" if s.is_recursive else None), wait_for=futures)
        self.out.append(Stmt("call", var=var, call=call, task=t, comment=t.comment))
        if s.is_recursive:
            self.out.append(Stmt("call", var=var, call=f"repeat_switch({t.func}, {py_literal(s.name)}, {self.run}, {var})",
                                 comment=f"each {s.name} task that chose {s.name} runs again, until none does"))

    def indices_of(self, s: ir.Step) -> tuple[str, bool]:
        """The variable holding the step's index paths, and whether each of its
        tasks can wait for its own parents' tasks alone (same index paths)."""
        parents = [self.steps[p] for p in s.parents]
        if s.name in self.entered:
            split = self.entered[s.name]
            var = self.names.claim(f"{s.name}_indices")
            call = f"foreach_indices({self.future_of(split.name)}, depth={split.depth})"
            self.out.append(Stmt("call", var=var, call=call,
                                 comment=f"wait for {split.name}: one {s.name} task per item of self.{split.foreach}"))
            self.index_var[s.name] = var
            return var, False
        if s.closes and self.steps[s.closes].kind == ir.FOREACH:
            var = self.index_var[s.closes]
            self.index_var[s.name] = var
            return var, False
        groups: list[list[str]] = []
        took = False
        for group in s.parent_groups:
            exprs = []
            for m in group:
                if self.steps[m].kind == ir.SWITCH:
                    exprs.append(f"took({self.future_of(m)}, {py_literal(s.name)})")
                    took = True
                else:
                    exprs.append(self.index_var[m])
            groups.append(sorted(set(exprs), key=exprs.index))
        flat = {e for g in groups for e in g}
        if len(flat) == 1 and not took:
            var = flat.pop()
            self.index_var[s.name] = var
            return var, all(p.kind != ir.FOREACH for p in parents)
        merged = [g[0] if len(g) == 1 else f"merged({', '.join(g)})" for g in groups]
        expr = merged[0] if len(merged) == 1 else f"common({', '.join(merged)})"
        var = self.names.claim(f"{s.name}_indices")
        switches = [p.name for p in parents if p.kind == ir.SWITCH]
        comment = (f"wait for {', '.join(switches)}: the items whose case leads to {s.name}" if switches
                   else f"the items {s.name} runs for")
        self.out.append(Stmt("call", var=var, call=expr, comment=comment))
        self.index_var[s.name] = var
        return var, False


def call_text(func: str, args: list[str], wait_for: Optional[list[str]] = None, after: Optional[str] = None) -> str:
    parts = list(args)
    if after is not None:
        parts.append(f"after={after}")
    if wait_for:
        parts.append(f"wait_for=[{', '.join(wait_for)}]")
    return f"{func}({', '.join(parts)})"
