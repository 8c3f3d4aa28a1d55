"""The shape of the DAG, from the IR: the mapped groups foreach levels run
in, how each switch routes, and what each task waits for.

Foreach levels. Airflow maps a task (or a task group) over a list, but
cannot expand a task inside an expanded group (apache/airflow#27681). So
every foreach level, however deep, is mapped once, over the flattened index
paths of its tasks ("2", or "2.1" one level down), which a small lister task
computes from the splits' OUT.json counts. A level without a nested foreach
is one mapped task group (its steps keep their per-item order); a level that
contains a nested foreach has one mapped group per step, all mapped over the
same list, so each join is mapped over the level it closes.

Switches. Outside a foreach a branch task follows the case the switch step
took (OUT.json's ``chosen``); inside a mapped group each case starts with a
small gate task that skips the case unless it was taken, because branch
operators do not skip inside mapped task groups (apache/airflow#67265).
The step after the cases waits with ``none_failed_min_one_success``.
The IR's Step.run_when is not written out: a branch task skips the cases
not taken (but not what also follows the chosen one), ``all_success``
carries a skip on, and a step with alternative parents (parent_groups)
waits for one of them, so a top-level task runs exactly when its run_when
holds (tests/targets/airflow/test_airflow_package.py checks every choice).
"""

from __future__ import annotations

from typing import Any, Optional

from flowc.compiler import ir

from ..python_emit import py_literal
from ..base import Target  # the target, as its lowering sees it
from .names import Names
from .plan import Brancher, Group, Lister, StepTask


ONE_OF = "none_failed_min_one_success"


def map_foreach_levels(steps: list[ir.Step], tasks: dict[str, StepTask],
                       names: Names) -> tuple[list[Group], dict[str, Lister]]:
    """Each foreach split gets a lister of its children's index paths; each
    step inside a foreach joins the mapped group of its level (foreach_stack):
    one group for the whole level, or one per step where the level holds a
    nested foreach, since Airflow cannot expand a group inside a group."""
    levels: dict[tuple[str, ...], Group] = {}
    per_step: dict[str, Group] = {}
    by_name = {s.name: s for s in steps}
    # a level holds a nested foreach when its split's body (the IR's Step.body) holds a split
    nested = {s.name: any(by_name[b].kind == ir.FOREACH for b in s.body) for s in steps if s.kind == ir.FOREACH}
    listers: dict[str, Lister] = {}
    for s in steps:
        if s.kind == ir.FOREACH:
            t = tasks[s.name]
            t.returns = t.reader is None
            owner = f"the index lister of {s.name}"
            listers[s.name] = Lister(names.var(f"{s.name}_indices"),
                                     names.task_id(f"{s.name}_indices", s.span, owner), t,
                                     nested=bool(s.foreach_stack), source="")
        if not s.foreach_stack:
            continue
        level = s.foreach_stack
        if nested.get(level[-1]):
            g = per_step[s.name] = Group(names.task_id(f"{s.name}_each", s.span, f"the mapped group of {s.name}"),
                                         level, indices="")
        else:
            g = levels.get(level)
            if g is None:
                owner = f"the foreach group of {level[-1]}"
                g = levels[level] = Group(names.task_id(f"foreach_{level[-1]}", s.span, owner), level, indices="")
        g.members.append(tasks[s.name])
        tasks[s.name].group = g
    groups = list(levels.values()) + list(per_step.values())
    for g in groups:
        g.fn = names.var(g.id)
        g.var = names.var(f"{g.id}_group")
        g.indices = listers[g.level[-1]].var
    for lister in listers.values():  # a split inside a group is found by its id
        split = lister.split
        lister.source = (split.out_xcom if split.group is None else
                         f"dag.get_task({py_literal(split.out_full_id)}).output")
    return groups, listers

def route_switches(steps: list[ir.Step], tasks: dict[str, StepTask],
                   names: Names) -> dict[str, Brancher]:
    """A branch task after each switch outside foreach levels; inside them,
    a gate before each case (branching does not skip inside mapped groups)."""
    branchers: dict[str, Brancher] = {}
    for s in steps:
        if s.kind != ir.SWITCH:
            continue
        t = tasks[s.name]
        t.returns = t.reader is None
        cases = sorted(set(s.cases.values()) - {s.name})  # a recursive case is refused
        if t.group is None:
            owner = f"the branch task of {s.name}"
            branchers[s.name] = Brancher(names.var(f"{s.name}_branch"),
                                         names.task_id(f"{s.name}_branch", s.span, owner), t,
                                         {c: tasks[c].full_id for c in cases})
            continue
        for case in cases:
            ct = tasks[case]
            owner = f"the gate of case {case}"
            ct.gate_switch = t.out_full_id
            ct.gate_var = names.var(f"{s.name}_to_{case}")
            ct.gate_id = names.task_id(f"{s.name}_to_{case}", s.span, owner)
    return branchers

def wire(target: Target, flow: ir.Flow, steps: list[ir.Step], tasks: dict[str, StepTask],
         branchers: dict[str, Brancher]) -> list[tuple[Optional[str], str, str]]:
    """What each task waits for, from the IR's parents and parent groups."""
    edges: list[tuple[Optional[str], str, str]] = []
    for s in steps:
        t = tasks[s.name]
        if t.reader is not None:  # the step's job, then the task reading its outcome back
            edges.append((t.group.id if t.group else None, t.var, t.reader.var))
        if any(len(group) > 1 for group in s.parent_groups):
            t.trigger_rule = ONE_OF  # one of several alternatives runs (after a switch)
        for p in s.parents:
            parent = flow.step(p)
            if parent.kind == ir.FOREACH and s.name in parent.next:
                continue  # the lister feeds the mapped group: Airflow knows that edge from the XCom
            if parent.kind == ir.SWITCH and s.name in parent.cases.values():
                if p in branchers:
                    edges.append((None, branchers[p].var, t.var))
                    continue
                if len(s.parents) > 1:
                    target.unsupported(f"step '{s.name}' is a case of the switch in '{p}' and is also reached "
                                     "from another step, inside a foreach", s.span,
                                     "put a step between the switch case and the other path")
            edges.append(endpoint(tasks[p], t))
    return list(dict.fromkeys(e for e in edges if e[1] != e[2]))  # each once, in order

def order_blocks(steps: list[ir.Step], tasks: dict[str, StepTask], listers: dict[str, Lister],
                 branchers: dict[str, Brancher]) -> list[tuple[str, Any]]:
    """The order the template writes tasks and groups in: each after what it uses."""
    blocks: list[tuple[str, Any]] = []
    placed: set[int] = set()
    for s in steps:
        g = tasks[s.name].group
        if g is None:
            blocks.append(("task", tasks[s.name]))
        elif id(g) not in placed:
            placed.add(id(g))
            blocks.append(("group", g))
        if s.name in listers:
            blocks.append(("lister", listers[s.name]))
        if s.name in branchers:
            blocks.append(("branch", branchers[s.name]))
    return blocks

def endpoint(parent: StepTask, child: StepTask) -> tuple[Optional[str], str, str]:
    """The edge parent -> child, and the group it is written in: tasks of one
    group are linked inside it; across groups the groups are linked (a group
    holds one step, or its leaves are exactly the steps its level ends with)."""
    if parent.group is not None and parent.group is child.group:
        return parent.group.id, parent.out_var, child.gate_var or child.var
    a = parent.group.var if parent.group is not None else parent.out_var
    b = child.group.var if child.group is not None else child.var
    return None, a, b
