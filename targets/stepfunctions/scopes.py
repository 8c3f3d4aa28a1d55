"""Where a step's states go: one States block per scope (the top level, each
Parallel branch, each Map's item processor), found from the IR's facts
alone, in one pass over the flow's order (no walk, no recursion)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowc.compiler import ir


@dataclass
class Scope:
    """A States block, and the join that ends it (its last states end there
    with ``End`` instead of ``Next``); None at the top level."""

    stop: str | None
    states: dict[str, dict] = field(default_factory=dict)


class Scopes:
    """Each step's scope: the scope of the split a join closes; a new scope for
    each branch of a static split and for a foreach split's body (its entry,
    ``next[0]``, is the body step whose foreach stack ends with the split);
    otherwise the scope of the step's parents (a step after a switch has
    alternatives as parents, all in the switch's scope)."""

    def __init__(self, flow: ir.Flow, top: Scope):
        self.flow = flow
        self.steps = flow.steps_by_name
        self.top = top
        self.of: dict[str, Scope] = {}
        self.opened: dict[tuple[str, str], Scope] = {}  # (split, entry step) -> the scope it opens

    def open(self, split: ir.Step, entry: str) -> Scope:
        """The scope a branch or foreach split opens for one of its entries."""
        scope = Scope(stop=split.matching_join)
        self.opened[(split.name, entry)] = scope
        return scope

    def place(self, step: ir.Step) -> Scope:
        """The scope of ``step``; its parents (and the split a join closes)
        come before it in the flow's order, so theirs are known."""
        if step.closes is not None:
            scope = self.of[step.closes]
        else:
            parents = [p for p in step.parents if p != step.name]  # a recursive switch is its own parent
            if not parents:
                scope = self.top
            else:
                parent = self.steps[parents[0]]
                if parent.kind in (ir.BRANCH, ir.FOREACH):
                    scope = self.opened[(parent.name, step.name)]
                else:
                    scope = self.of[parent.name]
        self.of[step.name] = scope
        return scope


def link(state: dict, nxt: str, stop: str | None) -> None:
    """``state`` goes on to step ``nxt``, or ends its scope when ``nxt`` is
    the join that closes it (a branch or a Map item then returns {})."""
    if nxt == stop:
        state["End"] = True
        if state["Type"] == "Task":
            state["OutputPath"] = None
    else:
        state["Next"] = nxt
