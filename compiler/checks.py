"""Stage 4: checks on a derived flow: names, and artifact dataflow.

Dataflow is a may-analysis: an artifact is available at a step if some path
from the start could have set it. A read of an artifact that no path can
have set is an error; so is a join reading an artifact it did not merge
(joins receive only parameters, as in Metaflow). A merge of an artifact that
the split's branches set differently is a warning: it fails at run time if
the values differ.
"""

from __future__ import annotations

import difflib
import re

from . import ir
from .analyzer import FlowFacts
from .artifacts import FLOW_API
from .cli_options import reserved_parameter_names
from .diagnostics import ERROR, WARNING, Diagnostic

RESERVED_STEP_NAMES = frozenset(FLOW_API | {"cmd", "graph"})
# Parameter names whose --NAME would be one of flowc's own options (one list, shared with the CLI).
RESERVED_PARAMETERS = reserved_parameter_names()
_STEP_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def check_names(facts: FlowFacts) -> list[Diagnostic]:
    flow = facts.flow
    out: list[Diagnostic] = []
    step_names = {s.name for s in flow.steps}
    for s in flow.steps:
        if s.name in RESERVED_STEP_NAMES:
            out.append(Diagnostic("FC123", ERROR, f"'{s.name}' is reserved and cannot name a step", s.span,
                                  "choose another name"))
        elif not _STEP_NAME.match(s.name):
            out.append(Diagnostic("FC123", ERROR,
                                  f"step name '{s.name}' must be lowercase letters, digits and _, starting with a letter",
                                  s.span, f"rename it to '{_suggest(s.name)}'"))
    for p in flow.parameters:
        if p.name in RESERVED_PARAMETERS:
            out.append(Diagnostic("FC306", ERROR,
                                  f"parameter '{p.name}' clashes with flowc's own option --{p.name.replace('_', '-')}",
                                  p.span, "rename the parameter: `flowc run FLOW.py --" + p.name
                                  + " VALUE` would set flowc's option, not the parameter"))
        for clash in {p.name, p.attribute} & step_names:
            out.append(Diagnostic("FC124", ERROR, f"parameter '{p.attribute}' has the same name as step '{clash}'",
                                  p.span, "rename the parameter or the step"))
    params = {p.attribute: p for p in flow.parameters}
    for s in flow.steps:
        scan = facts.extras[s.name].scan
        for name, span in scan.writes.items():
            if name in params:
                guarded = scan.write_guarded(name)  # in a try that catches the AttributeError it raises
                out.append(Diagnostic("FC206", WARNING if guarded else ERROR,
                                      f"step '{s.name}' assigns self.{name}, which is a parameter"
                                      + (" (it raises AttributeError, which the step catches)" if guarded else ""),
                                      span, "parameters are read-only; store the changed value under another name"))
            elif name in step_names:
                out.append(Diagnostic("FC124", ERROR, f"step '{s.name}' assigns self.{name}, which is a step",
                                      span, "an artifact named like a step hides the step; rename the artifact"))
        if s.decorators.catch and s.decorators.catch.var in params:
            c = s.decorators.catch
            out.append(Diagnostic("FC124", ERROR, f"@catch(var='{c.var}') names a parameter", c.span,
                                  "choose another artifact name for the exception"))
    return out


def _suggest(name: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    snake = re.sub(r"[^a-z0-9_]", "_", snake).lstrip("_0123456789")
    return snake or "step_1"


class Dataflow:
    def __init__(self, facts: FlowFacts):
        self.facts = facts
        self.flow = facts.flow
        self.steps = facts.flow.steps_by_name
        self.params = {p.attribute for p in facts.flow.parameters}
        self.avail_in: dict[str, set[str]] = {}
        self.avail_out: dict[str, set[str]] = {}
        self.opaque: dict[str, bool] = {}  # self escaped here or upstream: reads cannot be judged
        self.out: list[Diagnostic] = []

    def writes(self, step: ir.Step) -> set[str]:
        w = set(step.writes)
        if step.decorators.catch and step.decorators.catch.var:
            w.add(step.decorators.catch.var)
        return w

    def run(self) -> list[Diagnostic]:
        external = bool(self.facts.external_bases)
        for name in self.flow.order:
            s = self.steps[name]
            extra = self.facts.extras[name]
            opaque = external or extra.scan.dynamic is not None or any(self.opaque[p] for p in s.parents)
            self.opaque[name] = opaque
            upstream = set().union(*(self.avail_out[p] for p in s.parents)) if s.parents else set()
            if name == self.flow.start:
                avail = set(self.params)
            elif s.kind == ir.JOIN:
                avail = set(self.params)
                if s.merge is not None:
                    merged = set(s.merge.include) if s.merge.include else upstream - set(s.merge.exclude)
                    avail |= merged
            else:
                avail = upstream | self.params
            self.avail_in[name] = avail
            self.avail_out[name] = avail | self.writes(s)
            if not opaque:
                self.reads(s, upstream)
            if s.kind == ir.JOIN:
                self.inputs_names(s)
                if s.merge is not None:
                    self.merge_conflicts(s)
        return self.out

    def reads(self, s: ir.Step, upstream: set[str]) -> None:
        extra = self.facts.extras[s.name]
        own = self.writes(s)
        for name, span in extra.scan.reads.items():
            if name in own or name in self.avail_in[s.name]:
                continue
            # a guarded read (hasattr, try/except AttributeError) handles a missing artifact: Metaflow runs it
            severity, guard = (WARNING, "; the step guards the read, so it runs, but never sees a value") \
                if extra.scan.read_guarded(name) else (ERROR, "")
            if s.kind == ir.JOIN and name in upstream:
                arg = s.join_arg
                first = s.parent_groups[0][0] if s.parent_groups else "branch"
                self.out.append(Diagnostic(
                    "FC204", severity, f"join '{s.name}' reads self.{name}, but a join receives only parameters" + guard,
                    span, f"read {arg}.{first}.{name} (or iterate over {arg}), or call self.merge_artifacts({arg}) first",
                ))
                continue
            elsewhere = [o.name for o in self.flow.steps if name in o.writes and o.name != s.name]
            close = difflib.get_close_matches(name, sorted(self.avail_in[s.name]), n=1)
            blocking = self.blocking_join(s.name, name)
            if blocking:
                hint = (f"self.{name} is set upstream, but join '{blocking}' does not pass it on: "
                        f"merge it there (self.merge_artifacts) or assign it in '{blocking}'")
            elif elsewhere:
                hint = f"self.{name} is set in {', '.join(repr(e) for e in elsewhere)}, which does not run before '{s.name}'"
            elif close:
                hint = f"did you mean self.{close[0]}?"
            else:
                hint = f"set self.{name} in a step before '{s.name}'"
            self.out.append(Diagnostic("FC201", severity,
                                       f"step '{s.name}' reads self.{name}, which no step before it sets" + guard,
                                       span, hint))
        for attr, code, label in ((s.foreach, "FC202", "foreach"), (s.condition, "FC203", "switch condition")):
            # a class attribute (items = [...] in the class body) is as good as an artifact, as in Metaflow
            if attr and attr not in self.avail_out[s.name] and attr not in self.facts.members:
                self.out.append(Diagnostic(code, ERROR, f"the {label} of step '{s.name}' reads self.{attr}, which is never set",
                                           s.next_span or s.span, f"assign self.{attr} in '{s.name}' before self.next()"))

    def blocking_join(self, step: str, name: str) -> str | None:
        """The nearest join upstream of ``step`` that receives ``name`` but drops it."""
        seen: set[str] = set()
        stack = list(self.steps[step].parents)
        while stack:
            n = stack.pop(0)
            if n in seen:
                continue
            seen.add(n)
            s = self.steps[n]
            if s.kind == ir.JOIN and name not in self.avail_out[n] and any(name in self.avail_out[p] for p in s.parents):
                return n
            stack.extend(s.parents)
        return None

    def inputs_names(self, s: ir.Step) -> None:
        if s.closes is None or self.steps[s.closes].kind != ir.BRANCH:
            allowed: set[str] = set()
        else:
            allowed = set(s.parents)
        for attr, span in self.facts.extras[s.name].scan.inputs_attrs:
            if attr in allowed:
                continue
            if not allowed:
                hint = f"the inputs of a foreach join are a list: iterate over {s.join_arg} or index it"
            else:
                hint = f"the inputs of '{s.name}' are {', '.join(sorted(allowed))}"
            self.out.append(Diagnostic("FC128", ERROR, f"{s.join_arg}.{attr} names no input of join '{s.name}'", span, hint))

    def merge_conflicts(self, join: ir.Step) -> None:
        split = join.closes
        if split is None:
            return
        merge = join.merge
        body = self.body_writes(split, join.name)
        own = self.writes(join)
        before = self.avail_out[split]
        conflicts = []
        split_kind = self.steps[split].kind
        candidates = sorted(set().union(*body.values())) if body else []
        for name in candidates:
            if name in own or (merge.include and name not in merge.include) or name in merge.exclude:
                continue
            setters = [b for b, w in body.items() if name in w]
            if split_kind == ir.FOREACH or len(setters) > 1 or (name in before and len(setters) < len(body)):
                conflicts.append((name, setters))
        for name, setters in conflicts:
            where = "each foreach task" if split_kind == ir.FOREACH else "branches " + ", ".join(setters)
            self.out.append(Diagnostic(
                "FC205", WARNING,
                f"self.merge_artifacts in '{join.name}' fails at run time if {where} set self.{name} to different values",
                merge.span, f"assign self.{name} before merging, or pass exclude=['{name}']",
            ))

    def body_writes(self, split: str, join: str) -> dict[str, set[str]]:
        """Artifacts written along each branch of a split, up to its join."""
        out: dict[str, set[str]] = {}
        for branch in self.steps[split].next:
            seen: set[str] = set()
            stack = [branch]
            while stack:
                n = stack.pop()
                if n in seen or n == join:
                    continue
                seen.add(n)
                stack.extend(m for m in self.steps[n].next if m in self.steps)
            out[branch] = set().union(*(self.writes(self.steps[n]) for n in seen)) if seen else set()
        return out


def check_dataflow(facts: FlowFacts) -> list[Diagnostic]:
    if not facts.flow.order:
        return []
    return Dataflow(facts).run()
