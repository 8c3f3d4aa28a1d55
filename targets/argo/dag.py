"""Lowering the IR to Argo's DAG templates, as hera's typed models.

One DAG template per scope: the flow's top level, the body of each foreach
whose body is more than one plain step (its tasks run once per item, so it
takes the item's ``index``), and one recursive template per recursive
switch. Steps run in container templates (containers.py): one per step that
has settings of its own (resources, retries, pod options, parameters, an
output the DAG reads), and one shared ``run-step`` template for all the others.

Everything the wiring needs comes from the IR (parent groups, foreach
stacks, each foreach's ``body``, switch cases); nothing is re-derived here:

- a task waits for each parent group (``&&``), for any member of a group of
  alternatives (``||``), and only for parents that succeeded;
- after a switch, a task runs ``when`` the switch's OUT.json names it in
  ``chosen``; a step that also has other parents in the same group runs when
  any of them delivered;
- a foreach fans out ``withSequence`` over the ``foreach_count`` its split
  wrote in OUT.json: indices only, never the items;
- a recursive switch is a DAG that calls itself for the next iteration while
  the step chooses itself; its output is the last iteration's OUT.json.

The IR's ``Step.run_when`` (the switch choices a step needs, however far
back) is not written out: Argo's ``depends`` carries it. A task whose
dependency was skipped by its ``when`` is Omitted, and so is every task
that depends on it, so the condition on the edge out of the switch is the
whole rule, and stays inside the template that holds the switch (a
step in a foreach body would otherwise name a switch of the outer template).
The engine tests run each switch flow under the controller's rules for
``depends`` and ``when`` (tests/targets/argo/argo_harness.py) and compare
the artifacts of every task with ``flowc run``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flowc.compiler import ir

from ..base import describe_step, source_ref, Target
from . import models as m
from .containers import SHARED, container_template, parameter_inputs  # noqa: F401 (parameter_inputs: the API)
from ..events import subscriptions
from .names import dns_label, quote_expr


def task_ref(task: str) -> str:
    return f"tasks[{quote_expr(task)}]"


def out_of(task: str) -> str:
    return f"{task_ref(task)}.outputs.parameters.out"


def chosen_is(task: str, step: str) -> str:
    """The expression: the switch run by ``task`` chose ``step``."""
    return f'jsonpath({out_of(task)}, "$.chosen") == {quote_expr(step)}'


# ------------------------------------------------------------ the builder


@dataclass
class Lowered:
    templates: list[m.Template]
    comments: dict[str, str] = field(default_factory=dict)  # template name -> comment
    task_comments: dict[tuple[str, str], str] = field(default_factory=dict)  # (template, task) -> comment


class DagBuilder:
    def __init__(self, target: Target, flow: ir.Flow, entry: str):
        self.target = target
        self.flow = flow
        self.steps = flow.steps_by_name
        self.entry = entry
        self.dags: list[m.Template] = []
        self.containers: list[m.Template] = []
        self.out = Lowered([])
        self.shared_users: list[str] = []
        self._shared: set[str] = set()
        self._signatures: dict[str, tuple] = {}
        self._own: dict[str, bool] = {}

    # ---- names (clashes are checked by the target before lowering)

    def task(self, step: str) -> str:
        return dns_label(step)

    def fanout(self, split: str) -> str:
        """The task (and template) fanning out the body of a foreach split."""
        body = self.body_steps(split)
        if self.direct_body(split):
            return self.task(body[0].name)
        return dns_label(f"foreach-{split}")

    def loop(self, step: str) -> str:
        return dns_label(f"loop-{step}")

    def container(self, step: ir.Step) -> str:
        return self.task(step.name) if self.own_template(step) else SHARED

    # ---- structure

    def body_steps(self, split: str) -> list[ir.Step]:
        """The foreach body at its own level, in flow order (the IR's Step.body)."""
        return [self.steps[name] for name in self.steps[split].body]

    def direct_body(self, split: str) -> bool:
        """A body of one plain step fans out that step's container directly."""
        body = self.body_steps(split)
        return len(body) == 1 and body[0].kind == ir.LINEAR

    def has_settings(self, s: ir.Step) -> bool:
        """Settings that make a step's container differ from a plain step's."""
        d = s.decorators
        settings = (d.resources, d.retry, d.timeout, d.environment, d.secrets, d.kubernetes)
        return (any(x is not None for x in settings) or s.kind in (ir.FOREACH, ir.SWITCH)
                or (s.name == self.flow.start and bool(self.flow.parameters or self.triggered)))

    @functools.cached_property
    def triggered(self) -> bool:
        """The flow waits for events: its start step takes them (--trigger)."""
        return bool(subscriptions(self.flow, self.target.option("user")))

    def signature(self, s: ir.Step) -> tuple:
        """A plain step's image and command with its name left out: steps
        with equal signatures can share one container template."""
        if s.name not in self._signatures:
            argv = self.target.runtime_argv(self.flow, s, run_id="", index="", attempt="")
            argv[argv.index("--step") + 1] = ""
            self._signatures[s.name] = (self.target.image_for(s), tuple(argv))
        return self._signatures[s.name]

    @functools.cached_property
    def shared_signature(self) -> tuple | None:
        """The signature most plain steps have (the first in flow order on a tie)."""
        plain = [self.signature(s) for s in self.flow.ordered_steps() if not self.has_settings(s)]
        counts: dict[tuple, int] = {}
        first: dict[tuple, int] = {}
        for i, sig in enumerate(plain):
            counts[sig] = counts.get(sig, 0) + 1
            first.setdefault(sig, i)
        return max(counts, key=lambda sig: (counts[sig], -first[sig])) if plain else None

    def own_template(self, s: ir.Step) -> bool:
        own = self._own.get(s.name)
        if own is None:
            own = self._own[s.name] = self.has_settings(s) or self.signature(s) != self.shared_signature
        return own

    @staticmethod
    def scope_index(scope: tuple[str, ...]) -> str:
        return "{{inputs.parameters.index}}" if scope else "0"

    # ---- lowering

    def lower(self) -> Lowered:
        """The flow's DAG templates (entry first), then its container templates."""
        tasks = self.scope_tasks((), [s for s in self.flow.ordered_steps() if not s.foreach_stack], self.entry)
        self.dags.insert(0, m.Template(name=self.entry, dag=m.DAGTemplate(tasks=tasks)))
        self.out.comments[self.entry] = (f"the flow {self.flow.name} ({source_ref(self.flow, self.flow.span)}): "
                                         "one task per step")
        for s in self.flow.ordered_steps():
            if self.own_template(s):
                self.containers.append(self.container_template(s))
        if self.shared_users:
            self.containers.insert(0, self.container_template(self.steps[self.shared_users[0]], shared=True))
            self.out.comments[SHARED] = ("shared by the steps without settings of their own: "
                                         + ", ".join(self.shared_users))
        self.out.templates = self.dags + self.containers
        return self.out

    def scope_tasks(self, scope: tuple[str, ...], steps: list[ir.Step], template: str) -> list[m.DAGTask]:
        tasks = []
        for s in steps:
            tasks.append(self.step_task(s, scope, template))
            if s.kind == ir.FOREACH:
                tasks.append(self.fanout_task(s, scope, template))
        return tasks

    def step_task(self, s: ir.Step, scope: tuple[str, ...], template: str) -> m.DAGTask:
        name = self.task(s.name)
        depends, when = self.wiring(s, scope)
        if s.is_recursive:
            args = {"iteration": "0"}
            if scope:
                args["index"] = self.scope_index(scope)
            ref = self.loop(s.name)
            self.dags.append(self.loop_template(s, scope))
        else:
            args = self.container_args(s, self.scope_index(scope))
            ref = self.container(s)
        self.out.task_comments[(template, name)] = self.describe(s)
        return m.DAGTask(name=name, template=ref, depends=depends, when=when, arguments=arguments(args))

    def fanout_task(self, split: ir.Step, scope: tuple[str, ...], template: str) -> m.DAGTask:
        name = self.fanout(split.name)
        item = "{{item}}" if not scope else "{{inputs.parameters.index}}.{{item}}"
        count = f"{{{{={jsonpath_count(self.task(split.name))}}}}}"
        body = self.body_steps(split.name)
        if self.direct_body(split.name):
            ref = self.container(body[0])
            args = self.container_args(body[0], item)
            self.out.task_comments[(template, name)] = (self.describe(body[0])
                                                        + f"; one task per item of {split.name}.{split.foreach}")
        else:
            ref = name
            args = {"index": item}
            slot = len(self.dags)  # the body before the templates it calls
            self.dags.append(None)
            self.dags[slot] = self.body_template(split, name)
            self.out.task_comments[(template, name)] = (f"the body of the foreach in step {split.name}, "
                                                        f"once per item of {split.name}.{split.foreach}")
        return m.DAGTask(name=name, template=ref, depends=f"{self.task(split.name)}.Succeeded",
                         with_sequence=m.Sequence(count=m.IntOrString(count)), arguments=arguments(args))

    def body_template(self, split: ir.Step, name: str) -> m.Template:
        scope = split.foreach_stack + (split.name,)
        self.out.comments[name] = (f"one item of the foreach in step {split.name} "
                                   f"({source_ref(self.flow, split.next_span or split.span)}); "
                                   "index: the item's index path")
        tasks = self.scope_tasks(scope, self.body_steps(split.name), name)
        return m.Template(name=name, inputs=m.Inputs(parameters=[m.Parameter(name="index")]),
                          dag=m.DAGTemplate(tasks=tasks))

    def loop_template(self, s: ir.Step, scope: tuple[str, ...]) -> m.Template:
        name, task = self.loop(s.name), self.task(s.name)
        inputs = [m.Parameter(name="iteration")]
        forward = {}
        if scope:
            inputs.append(m.Parameter(name="index"))
            forward["index"] = "{{inputs.parameters.index}}"
        run = self.container_args(s, "{{inputs.parameters.index}}" if scope else "0")
        run["iteration"] = "{{inputs.parameters.iteration}}"
        again_args = {"iteration": "{{=asInt(inputs.parameters.iteration) + 1}}", **forward}
        tasks = [
            m.DAGTask(name=task, template=self.container(s), arguments=arguments(run)),
            m.DAGTask(name="again", template=name, depends=f"{task}.Succeeded",
                      when=f"{{{{={chosen_is(task, s.name)}}}}}", arguments=arguments(again_args)),
        ]
        last = f"{chosen_is(task, s.name)} ? {out_of('again')} : {out_of(task)}"
        where = source_ref(self.flow, s.next_span or s.span)
        self.out.comments[name] = (f"the recursive switch in step {s.name} ({where})"
                                   ":\nruns the step, then itself for the next iteration while the step chooses "
                                   "itself;\nits output 'out' is the OUT.json of the last iteration")
        self.out.task_comments[(name, task)] = self.describe(s)
        self.out.task_comments[(name, "again")] = f"the next iteration, when {s.name} chose itself"
        return m.Template(
            name=name, inputs=m.Inputs(parameters=inputs), dag=m.DAGTemplate(tasks=tasks),
            outputs=m.Outputs(parameters=[m.Parameter(name="out", value_from=m.ValueFrom(expression=last))]))

    def wiring(self, s: ir.Step, scope: tuple[str, ...]) -> tuple[str | None, str | None]:
        """``depends`` and ``when`` of a step's task, from its parent groups."""
        groups: list[list[str]] = []
        conditions: list[str] = []
        for group in s.parent_groups:
            members: list[tuple[str, ir.Step | None]] = []
            seen: set[str] = set()  # a set, not a scan of members: linear in a wide join's width
            for p in group:
                ps = self.steps[p]
                if ps.foreach_stack == scope:
                    member = (self.task(p), ps if ps.kind == ir.SWITCH else None)
                elif len(ps.foreach_stack) > len(scope):  # the end of a nested foreach body
                    member = (self.fanout(ps.foreach_stack[len(scope)]), None)
                else:  # the split that opened this scope: the body starts here
                    continue
                if member[0] not in seen:
                    seen.add(member[0])
                    members.append(member)
            if not members:
                continue
            groups.append([f"{t}.Succeeded" for t, _ in members])
            if any(sw is not None for _, sw in members):
                conditions.append(self.group_condition(members, s))
        depends = " && ".join(
            f"({' || '.join(g)})" if len(g) > 1 and len(groups) > 1 else " || ".join(g) for g in groups) or None
        when = None
        if conditions:
            joined = conditions[0] if len(conditions) == 1 else " && ".join(f"({c})" for c in conditions)
            when = f"{{{{={joined}}}}}"
        return depends, when

    def group_condition(self, members: list[tuple[str, ir.Step | None]], s: ir.Step) -> str:
        if len(members) == 1:
            return chosen_is(members[0][0], s.name)
        terms = []
        for task, switch in members:
            ran = f'{task_ref(task)}.status == "Succeeded"'
            if switch is None:
                terms.append(ran)
            else:
                terms.append(f"({ran} && {chosen_is(task, s.name)})")
        return " || ".join(terms)

    # ---- containers

    def container_args(self, s: ir.Step, index: str) -> dict[str, str]:
        if not self.own_template(s):
            if s.name not in self._shared:
                self._shared.add(s.name)
                self.shared_users.append(s.name)
            return {"step": s.name, "index": index}
        return {"index": index} if s.foreach_stack else {}

    def container_template(self, s: ir.Step, shared: bool = False) -> m.Template:
        name = SHARED if shared else self.task(s.name)
        if not shared:
            self.out.comments[name] = "step " + self.describe(s)
            if s.name == self.flow.start and self.flow.parameters:
                self.out.comments[name] += ("\nits inputs carry the flow's parameters as JSON text; each '{' is "
                                            "written \\u007b\nso that no later substitution by Argo can change a value")
        return container_template(self.target, self.flow, s, name, shared)

    def describe(self, s: ir.Step) -> str:
        return describe_step(self.flow, s)


def lower_templates(target: Target, flow: ir.Flow) -> Lowered:
    """The IR lowered to Argo's templates, with the comments that point them
    back at flow.py; the entry template is named after the flow."""
    return builder_for(target, flow).lower()


def builder_for(target: Target, flow: ir.Flow) -> DagBuilder:
    """A builder for this compile. The name checks (checks.py) and the
    lowering share what they ask of each step (its signature, whether it
    has its own template): one pass over the steps instead of two."""
    previous = getattr(target, "_dag_builder", None)
    builder = DagBuilder(target, flow, dns_label(flow.name))
    if previous is not None and previous.flow is flow:
        builder._signatures = previous._signatures
        builder._own = previous._own
        if "shared_signature" in previous.__dict__:
            builder.shared_signature = previous.shared_signature
    target._dag_builder = builder
    return builder


def jsonpath_count(task: str) -> str:
    return f'jsonpath({out_of(task)}, "$.foreach_count")'


def arguments(values: dict[str, str]) -> m.Arguments | None:
    if not values:
        return None
    return m.Arguments(parameters=[m.Parameter(name=k, value=v) for k, v in values.items()])
