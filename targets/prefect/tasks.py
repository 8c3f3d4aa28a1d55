"""One Prefect task per step, the flow function's parameters and docstring,
and the runtime's one command that every task runs."""

from __future__ import annotations

import keyword
import re

from flowc import __version__
from flowc.compiler import ir

from ..base import describe_step, engine_timeout, source_ref, Target, TIMEOUT_MARGIN
from ..python_emit import PyNames, py_docstring, py_literal
from .checks import secrets
from .plan import ParamPlan, TaskPlan
from .pods import container, number
from .yamltext import has_placeholder, yaml_literal


MODULE = "prefect_flow.py"
YAML = "prefect.yaml"
# the runtime's options that differ between tasks: FlowRuntime adds them
PER_TASK = frozenset({"--step", "--run-id", "--index", "--attempt", "--output", "--iteration", "--params",
                      "--environment"})

def module_doc(target: Target, flow: ir.Flow) -> str:
    return (f"Prefect flow of {flow.name}, compiled by flowc {__version__} from {flow.source.path}.\n\n"
            f"Each step is a Prefect task that runs flowc's runtime; artifacts stay in the\n"
            f"datastore ({target.option('datastore')}), never in Prefect. Recompile instead of editing.\n\n"
            f"    python {MODULE}     run it on this machine, every step here\n"
            f"    prefect deploy --all      deploy it and its container steps (see {YAML})")



def param(target: Target, flow: ir.Flow, p: ir.Parameter) -> ParamPlan:
    py = p.name.replace("-", "_")
    if keyword.iskeyword(py) or keyword.issoftkeyword(py):
        py += "_"
    base = {"str": "str", "int": "int", "float": "float", "bool": "bool", "json": "Any"}[p.type]
    if p.required:
        annotation, default = base, None
    elif p.default is None:
        annotation, default = ("Any" if base == "Any" else f"Optional[{base}]"), "None"
    else:
        annotation, default = base, py_literal(p.default)
    yaml_value, note = None, ""
    if p.required:
        note = "required: give it when you start a run"
    elif has_placeholder(p.default):
        note = "default kept in the flow's signature: prefect deploy would substitute its {{ }}"
    else:
        yaml_value = yaml_literal(p.default)
    flag = ("False" if p.default is True else "True") if p.is_flag else None  # as click's flags
    return ParamPlan(name=p.name, py=py, annotation=annotation, default=default, help=p.help, type=p.type,
                     yaml=yaml_value, yaml_note=note, flag=flag, required=p.required, raw_default=p.default)



def flow_docstring(target: Target, flow: ir.Flow, params: list[ParamPlan]) -> str:
    lines = [(flow.docstring or f"The {flow.name} flow.").strip()]
    described = [p for p in params if p.help]
    if described:
        lines += ["", "Args:"]
        for p in described:
            first, *rest = p.help.split("\n")
            lines.append(f"    {p.py}: {first}")
            lines += [f"        {line}" if line else "" for line in rest]
    text = "\n".join(lines)
    return py_docstring(text + "\n" if "\n" in text else text, indent="    ")  # closing quotes on a line of their own



def command(target: Target, flow: ir.Flow) -> list[list[str]]:
    """The runtime's one command for this flow, as Python literals in lines (the
    program, then one option and its value per line), without the options each
    task adds (flowc.engines.prefect.FlowRuntime.argv)."""
    argv = target.runtime_argv(flow, flow.steps[0], run_id="", index="", attempt="")
    lines: list[list[str]] = [[]]
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in PER_TASK and i > 3:
            skip = True
            continue
        if arg.startswith("--") and lines[-1]:
            lines.append([])
        lines[-1].append(py_literal(arg))
    return lines


def task(target: Target, flow: ir.Flow, s: ir.Step, names: PyNames, step_prefix: str,
         triggered: bool = False) -> TaskPlan:
    d = s.decorators
    t = TaskPlan(step=s.name, func=names.claim(s.name, suffix="_step"), ref=source_ref(flow, s.span),
                 summary=summary(s, flow.steps_by_name), described=describe_step(flow, s), description=s.docstring,
                 is_start=s.name == flow.start, triggered=triggered and s.name == flow.start,
                 recursive=s.is_recursive)
    if t.triggered:
        t.notes.append("the events that started the run reach the runtime as --trigger (current.trigger)")
    if d.retry is not None:
        t.retries = d.retry.times
        t.retry_delay = number(d.retry.minutes_between_retries * 60)
        t.notes.append(f"@retry(times={d.retry.times}): Prefect retries the task; each retry is the runtime's "
                       f"next attempt ({source_ref(flow, d.retry.span)})")
    t.timeout = engine_timeout(s)
    if d.timeout is not None:
        t.timeout_note = f"@timeout {d.timeout.seconds} s + {TIMEOUT_MARGIN} s"
        t.notes.append(f"@timeout: the runtime stops the step after {d.timeout.seconds} s; "
                       f"Prefect's timeout is the backstop ({source_ref(flow, d.timeout.span)})")
    else:
        t.timeout_note = "no @timeout: Metaflow's 5-day limit"
    if d.catch is not None:
        where = f"self.{d.catch.var}" if d.catch.var else "nothing"
        t.notes.append(f"@catch: on the last attempt the runtime stores the failure in {where} "
                       f"and the flow goes on ({source_ref(flow, d.catch.span)})")
    t.secrets = secrets(target, flow, s)
    t.container = container(target, flow, s, step_prefix)
    env = target.step_environment(s)
    if env is not None and env.manager != "none":
        t.environment = {k: v for k, v in sorted(env.to_json().items()) if k != "steps"}
        where = (f"in its image {target.image_for(s)}" if target.option("environments") == "image"
                 else "built by the runtime when the task starts")
        t.notes.append(f"@{env.manager}: environment {env.id}, {where}")
    return t


def summary(s: ir.Step, steps: dict[str, ir.Step]) -> str:
    if s.kind == ir.BRANCH:
        return f"branches to {', '.join(s.next)}"
    if s.kind == ir.FOREACH:
        return f"foreach over self.{s.foreach}, into {s.next[0]}"
    if s.kind == ir.SWITCH:
        cases = ", ".join(f"{c!r}: {n}" for c, n in s.cases.items())
        return f"switch on self.{s.condition} ({cases})"
    if s.kind == ir.JOIN:
        split = steps.get(s.closes or "")
        return f"joins the {'items' if split is not None and split.kind == ir.FOREACH else 'branches'} of {s.closes}"
    if s.kind == ir.END:
        return "the end step"
    return f"goes to {', '.join(s.next)}"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
