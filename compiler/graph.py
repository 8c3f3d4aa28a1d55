"""Stage 3: derive the graph facts once, and check the flow's structure.

From the steps' transitions this computes, for every reachable step: its
parents, its parent groups (what it waits for), its foreach stack, each
split's matching join and each join's split, and a topological order. The
walk follows Metaflow's rules (a join closes the innermost open split; a
switch opens no split; a recursive switch loops only onto itself) and turns
every violation into a diagnostic at the line that causes it.
"""

from __future__ import annotations

import difflib
import heapq
from dataclasses import replace

from . import ir
from .analyzer import FlowFacts
from .diagnostics import ERROR, Diagnostic
from .spans import Span

Frame = tuple[str, str]  # (split step, branch: the split's child this path went through)


class GraphBuilder:
    def __init__(self, facts: FlowFacts):
        self.facts = facts
        self.flow = facts.flow
        self.steps = {s.name: s for s in self.flow.steps}
        self.source_rank = {s.name: i for i, s in enumerate(self.flow.steps)}
        self.diagnostics: list[Diagnostic] = []

    def diag(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, ERROR, message, span, hint))

    def target_span(self, step: ir.Step, target: str) -> Span:
        return self.facts.extras[step.name].target_spans.get(target) or step.next_span or step.span

    # ------------------------------------------------------------ edges

    def edges(self) -> dict[str, list[str]]:
        """Known, forward transitions (a switch's loop onto itself excluded)."""
        out: dict[str, list[str]] = {}
        for s in self.flow.steps:
            targets = []
            for n in s.next:
                if n not in self.steps:
                    close = difflib.get_close_matches(n, list(self.steps), n=1)
                    self.diag("FC110", self.target_span(s, n), f"step '{s.name}' goes to '{n}', which is not a step",
                              f"did you mean '{close[0]}'?" if close else
                              f"steps of {self.flow.name}: {', '.join(self.steps)}")
                    continue
                if n == s.name:
                    if s.kind != ir.SWITCH:
                        self.diag("FC113", self.target_span(s, n), f"step '{s.name}' goes to itself",
                                  "only a switch may loop back onto its own step (a recursive switch)")
                    continue
                if n == self.flow.start:
                    self.diag("FC126", self.target_span(s, n), f"step '{s.name}' goes back to the start step '{n}'",
                              "the start step must have no incoming transitions")
                    continue
                targets.append(n)
            out[s.name] = targets
        return out

    # ------------------------------------------------------------ reachability and order

    def reachable(self, edges: dict[str, list[str]]) -> list[str]:
        """The steps reachable from the start, in the order they are found."""
        seen = [self.flow.start]
        found = {self.flow.start}
        stack = [self.flow.start]
        while stack:
            for n in edges[stack.pop()]:
                if n not in found:
                    found.add(n)
                    seen.append(n)
                    stack.append(n)
        return seen

    def report_unreachable(self, reachable: list[str]) -> None:
        seen = set(reachable)
        # a step named start/end beside an annotated one is reported as FC104 already
        shadowed = {name for name, chosen in (("start", self.flow.start), ("end", self.flow.end)) if chosen != name}
        for s in self.flow.steps:
            if s.name not in seen and s.name not in shadowed:
                self.diag("FC105", s.span, f"step '{s.name}' is never reached from the start step '{self.flow.start}'",
                          f"add self.next(self.{s.name}) to the step that should precede it, or delete the step")

    def reaches_end(self, edges: dict[str, list[str]], reachable: list[str]) -> None:
        back: dict[str, list[str]] = {n: [] for n in reachable}
        for n in reachable:
            for m in edges[n]:
                back[m].append(n)
        seen = {self.flow.end}
        stack = [self.flow.end]
        while stack:
            for p in back.get(stack.pop(), []):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        for n in reachable:
            if n not in seen:
                s = self.steps[n]
                self.diag("FC106", s.span, f"step '{n}' never reaches the end step '{self.flow.end}'",
                          "every path must end at the end step")

    def topological(self, edges: dict[str, list[str]], reachable: list[str]) -> list[str] | None:
        indeg = {n: 0 for n in reachable}
        for n in reachable:
            for m in edges[n]:
                indeg[m] += 1
        # always the ready step that comes first in the source: a heap, so
        # the order costs n log n, not n squared
        rank = self.source_rank
        ready = [(rank[n], n) for n in reachable if indeg[n] == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(n)
            for m in edges[n]:
                indeg[m] -= 1
                if indeg[m] == 0:
                    heapq.heappush(ready, (rank[m], m))
        if len(order) == len(reachable):
            return order
        ordered = set(order)
        cycle = self._find_cycle(edges, [n for n in reachable if n not in ordered])
        first = self.steps[cycle[-2]]
        self.diag("FC113", self.target_span(first, cycle[-1]),
                  f"the flow loops: {' -> '.join(cycle)}",
                  "a flow is a DAG; only a switch may loop, and only onto its own step")
        return None

    def _find_cycle(self, edges: dict[str, list[str]], nodes: list[str]) -> list[str]:
        """One cycle among ``nodes`` (iterative: a flow may have thousands of steps)."""
        inside = set(nodes)
        color: dict[str, int] = {}  # 1: on the current path, 2: finished
        for root in sorted(nodes, key=self.source_rank.get):
            if color.get(root):
                continue
            path = [root]
            iters = [iter(edges[root])]
            color[root] = 1
            while iters:
                child = next(iters[-1], None)
                if child is None:
                    color[path.pop()] = 2
                    iters.pop()
                    continue
                if child not in inside:
                    continue
                if color.get(child) == 1:
                    return path[path.index(child):] + [child]
                if not color.get(child):
                    color[child] = 1
                    path.append(child)
                    iters.append(iter(edges[child]))
        return nodes[:1] * 2

    # ------------------------------------------------------------ splits and joins

    def derive(self) -> tuple[ir.Flow, list[Diagnostic]]:
        flow = self.flow
        if not flow.start or not flow.end or flow.start not in self.steps or flow.end not in self.steps:
            return flow, self.diagnostics
        edges = self.edges()
        # A step without a valid transition, or one to an unknown step, leaves the
        # graph incomplete: reachability errors would only echo that one mistake.
        incomplete = bool(self.diagnostics) or any(
            not s.next and s.name != flow.end for s in flow.steps)
        reachable = self.reachable(edges)
        order = self.topological(edges, reachable)
        if order is None:
            return flow, self.diagnostics
        if not incomplete:
            self.report_unreachable(reachable)
            self.reaches_end(edges, reachable)

        parents: dict[str, list[str]] = {n: [] for n in order}
        for n in order:
            for m in edges[n]:
                parents[m].append(n)

        ctx: dict[str, tuple[Frame, ...]] = {}
        groups: dict[str, tuple[tuple[str, ...], ...]] = {}
        matching: dict[str, str] = {}
        closes: dict[str, str] = {}
        broken = False

        def out_ctx(p: str, child: str) -> tuple[Frame, ...]:
            kind = self.steps[p].kind
            return ctx[p] + ((p, child),) if kind in (ir.BRANCH, ir.FOREACH) else ctx[p]

        for n in order:
            step = self.steps[n]
            ps = parents[n]
            if n == flow.start:
                ctx[n] = ()
                groups[n] = ()
                continue
            if any(p not in ctx for p in ps):
                broken = True
                continue
            incoming = {p: out_ctx(p, n) for p in ps}
            if step.kind == ir.JOIN:
                result = self._join(step, ps, incoming)
                if result is None:
                    broken = True
                    continue
                split, prefix, grouped = result
                if split in matching and matching[split] != n:
                    self.diag("FC115", step.span,
                              f"split '{split}' is closed by two joins, '{matching[split]}' and '{n}'",
                              "all branches of a split must meet in one join")
                    broken = True
                    continue
                matching[split] = n
                closes[n] = split
                ctx[n] = prefix
                groups[n] = grouped
            else:
                contexts = set(incoming.values())
                if len(contexts) > 1:
                    self._non_join_merge(step, incoming)
                    broken = True
                    continue
                ctx[n] = next(iter(contexts))
                groups[n] = (tuple(ps),)

        if not broken:
            for split in (s for s in order if self.steps[s].kind in (ir.BRANCH, ir.FOREACH)):
                if split not in matching:
                    s = self.steps[split]
                    self.diag("FC116", s.next_span or s.span, f"the {s.kind} in step '{split}' is never joined",
                              "add a join step (def join(self, inputs)) where its branches meet")
                    broken = True
            end_ctx = ctx.get(flow.end, ())
            if end_ctx and not broken:
                split = end_ctx[-1][0]
                s = self.steps[split]
                self.diag("FC116", s.next_span or s.span,
                          f"the end step is reached before the {s.kind} in step '{split}' is joined",
                          "add a join step before the end step")

        rank = {n: i for i, n in enumerate(order)}
        new_steps = []
        for s in flow.steps:
            if s.name not in ctx:
                new_steps.append(s)
                continue
            stack = tuple(f for f, _ in ctx[s.name] if self.steps[f].kind == ir.FOREACH)
            new_steps.append(replace(
                s,
                parents=tuple(sorted(parents[s.name], key=rank.get)),
                parent_groups=groups.get(s.name, ()),
                foreach_stack=stack,
                matching_join=matching.get(s.name),
                closes=closes.get(s.name),
            ))
        flow = replace(flow, steps=tuple(new_steps), order=tuple(order))
        if broken or self.diagnostics:
            return flow, self.diagnostics
        return with_structure(flow), self.diagnostics

    def _join(self, step: ir.Step, ps: list[str], incoming: dict[str, tuple[Frame, ...]]):
        n = step.name
        for p in ps:
            if self.steps[p].kind == ir.SWITCH:
                self.diag("FC120", self.target_span(self.steps[p], n),
                          f"a case of the switch in step '{p}' goes straight to the join '{n}'",
                          "put a step between the switch case and the join")
                return None
        if any(not c for c in incoming.values()):
            self.diag("FC114", step.span, f"step '{n}' is a join (it takes '{step.join_arg}') but no split precedes it",
                      "remove the inputs argument, or split before it with self.next(self.a, self.b)")
            return None
        tops = {c[-1][0] for c in incoming.values()}
        prefixes = {c[:-1] for c in incoming.values()}
        if len(tops) > 1 or len(prefixes) > 1:
            self.diag("FC117", step.span,
                      f"join '{n}' gathers steps of unrelated splits ({', '.join(sorted(tops))})",
                      "close the inner split with its own join before joining the outer one")
            return None
        split = tops.pop()
        split_step = self.steps[split]
        by_branch: dict[str, list[str]] = {}
        for p in ps:
            by_branch.setdefault(incoming[p][-1][1], []).append(p)
        if split in ps or n in split_step.next:
            self.diag("FC118", self.target_span(split_step, n),
                      f"the {split_step.kind} in step '{split}' goes straight to its join '{n}'",
                      "each branch needs at least one step between the split and the join")
            return None
        expected = list(split_step.next)
        if set(by_branch) != set(expected):
            missing = [b for b in expected if b not in by_branch]
            self.diag("FC115", step.span,
                      f"join '{n}' closes the {split_step.kind} in '{split}', but branch"
                      f"{'es' if len(missing) > 1 else ''} {', '.join(missing)} never reach{'' if len(missing) > 1 else 'es'} it",
                      "every branch of a split must end in the same join")
            return None
        grouped = tuple(tuple(by_branch[b]) for b in expected)
        return split, prefix_of(incoming), grouped

    def _non_join_merge(self, step: ir.Step, incoming: dict[str, tuple[Frame, ...]]) -> None:
        contexts = list(incoming.values())
        tops = {c[-1] for c in contexts if c}
        if all(c for c in contexts) and len({c[:-1] for c in contexts}) == 1 and len({f[0] for f in tops}) == 1:
            split = next(iter(tops))[0]
            self.diag("FC117", step.span,
                      f"step '{step.name}' is reached from parallel branches of '{split}' but is not a join",
                      f"make it a join: def {step.name}(self, inputs)")
        else:
            self.diag("FC117", step.span, f"step '{step.name}' is reached from steps of unrelated splits",
                      "join each split before its branches meet")


def prefix_of(incoming: dict[str, tuple[Frame, ...]]) -> tuple[Frame, ...]:
    return next(iter(incoming.values()))[:-1]


def derive(facts: FlowFacts) -> tuple[ir.Flow, list[Diagnostic]]:
    return GraphBuilder(facts).derive()


# ------------------------------------------------------------ bodies and run conditions

Choice = tuple[str, str]  # (switch step, the case step it took)
Term = frozenset  # of choices that must all hold
ALWAYS: frozenset = frozenset({frozenset()})


def with_structure(flow: ir.Flow) -> ir.Flow:
    """The facts every target needs beyond parents and stacks: each foreach
    split's body, and when each step runs where a switch may route around it."""
    bodies: dict[str, list[str]] = {}
    for s in flow.ordered_steps():
        if s.foreach_stack:
            bodies.setdefault(s.foreach_stack[-1], []).append(s.name)
    conditions = run_conditions(flow)
    in_body = body_run_conditions(flow)
    steps = []
    for s in flow.steps:
        steps.append(replace(s, body=tuple(bodies.get(s.name, ())) if s.kind == ir.FOREACH else (),
                             run_when=as_field(conditions.get(s.name, ALWAYS)),
                             body_run_when=as_field(in_body.get(s.name, ALWAYS))))
    return replace(flow, steps=tuple(steps))


def as_field(terms: frozenset) -> tuple:
    """Terms as the IR writes them: sorted tuples, () for ``ALWAYS``."""
    return () if terms == ALWAYS else tuple(sorted(tuple(sorted(t)) for t in terms))


def body_run_conditions(flow: ir.Flow) -> dict[str, frozenset]:
    """For each step inside a foreach: when it runs within one item of its own
    body (the innermost split of its foreach stack), from that body's switches
    alone, by ``run_conditions``' rule. The entry of the body runs for every
    item; a nested body, seen from its outer body, is one step: its split's
    loop, ending where the loop ends (the nested join's parent)."""
    steps = flow.steps_by_name
    cases = {s.name: frozenset(n for n in s.next if n != s.name) for s in flow.steps if s.kind == ir.SWITCH}
    cond: dict[str, frozenset] = {}
    for s in flow.ordered_steps():
        scope = s.foreach_stack
        if not scope:
            continue
        result = ALWAYS
        for group in s.parent_groups:
            alternatives: set = set()
            for m in group:
                ms = steps[m]
                if ms.foreach_stack == scope:
                    edge = cond[m]
                    if ms.kind == ir.SWITCH:
                        edge = frozenset(t | {(m, s.name)} for t in edge)
                elif len(ms.foreach_stack) > len(scope):  # the end of a nested body: as its loop
                    edge = cond[ms.foreach_stack[len(scope)]]
                else:  # the split that opened this body: every item reaches its entry
                    edge = ALWAYS
                alternatives |= edge
            result = frozenset(x | y for x in result for y in alternatives)
        cond[s.name] = simplify_conditions(result, cases)
    return cond


def run_conditions(flow: ir.Flow) -> dict[str, frozenset]:
    """For each step: when it runs, as a set of terms (any one holding
    suffices), each a set of (switch, case step) choices that must all hold.
    ``ALWAYS`` when no switch can route around it. A step inside a foreach
    takes its outermost split's condition: which items reach it is decided
    per item, at run time, by the switches inside the body."""
    steps = flow.steps_by_name
    cases = {s.name: frozenset(n for n in s.next if n != s.name) for s in flow.steps if s.kind == ir.SWITCH}
    cond: dict[str, frozenset] = {}
    for s in flow.ordered_steps():
        if s.name == flow.start:
            cond[s.name] = ALWAYS
        elif s.depth:
            cond[s.name] = cond[s.foreach_stack[0]]
        elif s.closes and steps[s.closes].kind == ir.FOREACH:
            cond[s.name] = cond[s.closes]
        else:
            result = ALWAYS
            for group in s.parent_groups:
                alternatives: set = set()
                for m in group:
                    edge = cond[m]
                    if steps[m].kind == ir.SWITCH and not steps[m].depth:
                        edge = frozenset(t | {(m, s.name)} for t in edge)
                    alternatives |= edge
                result = frozenset(x | y for x in result for y in alternatives)
            cond[s.name] = simplify_conditions(result, cases)
    return cond


def simplify_conditions(terms: frozenset, cases: dict[str, frozenset]) -> frozenset:
    """Drop terms where one switch takes two cases; merge terms that cover
    every case of a switch; drop terms implied by smaller ones."""
    current = {t for t in terms if len({sw for sw, _ in t}) == len(t)}
    while True:
        added = set()
        for t in current:
            for sw, _case in t:
                base = frozenset(x for x in t if x[0] != sw)
                if base not in current and all(base | {(sw, c)} in current for c in cases[sw]):
                    added.add(base)
        current |= added
        current = {t for t in current if not any(o < t for o in current)}
        if not added:
            return frozenset(current)
