"""Which finished tasks feed a task: derived from the IR and task metadata.

One function, used both by a task resolving its inputs from the datastore
and by `flowc run`'s scheduler deciding what is ready, so the two can never
disagree. ``lookup(step, task_id)`` returns a finished task's metadata (its
done.json) or None.
"""

from __future__ import annotations

from .identity import task_id
from .plan import FlowPlan, StepPlan

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Callable, Optional

    Lookup = Callable[[str, str], Optional[dict]]  # (step, task id) -> its done record, or None


# What the functions below read of a done record: a caller that keeps many
# records (the scheduler keeps one per finished task) keeps these alone.
READS = ("taken", "foreach_count", "chosen")


def slim(meta: dict) -> dict:
    """The part of a done record these functions read."""
    return {k: meta[k] for k in READS if k in meta}


def parent_index(parent: StepPlan, child: StepPlan, index: tuple[int, ...]) -> tuple[int, ...]:
    """The index of the parent task of a (non-join) child task."""
    if parent.kind == "foreach" and child.depth == parent.depth + 1:
        return index[:-1]
    return index


def latest(step: StepPlan, index: tuple[int, ...], lookup: Lookup) -> tuple[str, dict] | None:
    """The finished task of a step at an index; for a recursive switch, its
    last iteration (the one that left the loop)."""
    tid = task_id(index)
    meta = lookup(step.name, tid)
    if meta is None or not step.is_recursive:
        return (tid, meta) if meta is not None else None
    k = 0
    while meta is not None and meta.get("chosen") == step.name:
        k += 1
        tid = task_id(index, k)
        meta = lookup(step.name, tid)
    return (tid, meta) if meta is not None else None


def took(meta: dict, child: str) -> bool:
    return child in meta.get("taken", ())


def _one_of(plan: FlowPlan, group: tuple[str, ...], child: StepPlan, index: tuple[int, ...],
            lookup: Lookup) -> tuple[str, str] | None:
    """The one finished alternative in a parent group that went to ``child``."""
    found = None
    for p in group:
        if p == child.name:
            continue
        ps = plan.steps[p]
        hit = latest(ps, parent_index(ps, child, index), lookup)
        if hit is not None and took(hit[1], child.name):
            if found is not None:
                raise InputError(f"step {child.name} has two inputs where one was expected: {found[0]} and {p}")
            found = (p, hit[0])
    return found


class InputError(Exception):
    pass


def input_tasks(plan: FlowPlan, step: StepPlan, index: tuple[int, ...], iteration: int,
                lookup: Lookup) -> list[tuple[str, str]] | None:
    """[(step, task id)] feeding this task, in order; None if not all have finished.

    For a foreach join: one input per foreach item, by index. For a branch
    join: one per branch, in the split's order. Otherwise exactly one.
    """
    if step.name == plan.start:
        return []
    if iteration > 0:  # a recursive switch's next visit: its own previous one
        prev = task_id(index, iteration - 1)
        meta = lookup(step.name, prev)
        return [(step.name, prev)] if meta is not None and took(meta, step.name) else None
    if not step.is_join:
        found = _one_of(plan, step.parent_groups[0], step, index, lookup)
        return [found] if found else None
    split = plan.steps[step.closes]
    if split.kind == "foreach":
        split_hit = latest(split, index, lookup)
        if split_hit is None:
            return None
        count = split_hit[1].get("foreach_count")
        if count is None:
            raise InputError(f"foreach step {split.name} recorded no foreach count")
        out = []
        for i in range(count):
            found = _one_of(plan, step.parent_groups[0], step, index + (i,), lookup)
            if found is None:
                return None
            out.append(found)
        return out
    out = []
    for group in step.parent_groups:
        found = _one_of(plan, group, step, index, lookup)
        if found is None:
            return None
        out.append(found)
    return out
