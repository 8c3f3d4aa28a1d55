"""The Airflow target's shape and what it takes from the IR and the shared
lowerings:

- targets/airflow/ is a package of small modules that import each other
  without a circle, found by the registry under its old name;
- its mapped groups are the IR's foreach levels (Step.foreach_stack; one
  group per step where the split's Step.body holds a nested foreach), and
  the compile does work linear in the flow's size;
- every pod asks for what targets/resources.py says (MiB, 1 CPU / 4096Mi by
  default, memory limited at its request), every task has base.engine_timeout
  as its execution_timeout, and the DAG id and tags follow Metaflow's
  @project rule (targets/naming.py);
- the DAG file says why it imports nothing of flowc;
- for every choice of the top-level switches, a step's task (or its mapped
  group) succeeds under Airflow's branch and trigger rules exactly when the
  IR's Step.run_when holds."""

from __future__ import annotations

import ast
import itertools
import sys
import textwrap
from pathlib import Path

import pytest

from flowc.compiler import ir, load_flow
from flowc.targets.airflow import AirflowTarget, dag_id_of, plan_dag
from flowc.targets.base import engine_timeout
from flowc.targets.naming import deployment_name, project_branch
from flowc.targets.resources import cpu_text, mebibytes, needs_of
from tests.conftest import REPO, flow_id, load_ir
from tests.support.corpus import compiling

PACKAGE = REPO / "targets" / "airflow"
MAX_LINES = 400
COMPILED = compiling("airflow")


def local_imports(path: Path) -> set[str]:
    """The package's own modules a module imports (``from . import x``, ``from .x import y``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


def test_package_of_small_modules_without_a_circle():
    modules = {p.stem: p for p in PACKAGE.glob("*.py")}
    assert {"__init__", "target", "placement", "lowering", "plan", "names", "render"} <= set(modules)
    assert not (REPO / "targets" / "airflow.py").exists()
    assert not list(REPO.glob("targets/airflow_*.py")) and not list(REPO.glob("targets/templates/airflow*"))
    assert sorted(p.name for p in (PACKAGE / "templates").iterdir()) == ["airflow.py.j2", "airflow_events.py.j2",
                                                                            "airflow_tasks.py.j2"]
    too_long = {name: n for name, p in modules.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert too_long == {}
    graph = {name: local_imports(p) - {"__init__"} for name, p in modules.items() if name != "__init__"}
    assert all(dep in modules for deps in graph.values() for dep in deps), graph

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import circle: {' -> '.join(path + (name,))}"
        for dep in sorted(graph[name]):
            visit(dep, path + (name,))

    for name in graph:
        visit(name, ())


def test_the_registry_finds_the_package():
    from flowc.targets import registry

    assert registry.get("airflow") is AirflowTarget


# ------------------------------------------------------------ foreach levels from the IR


@pytest.mark.parametrize("path", COMPILED, ids=flow_id)
def test_mapped_groups_are_the_irs_foreach_levels(path):
    flow = load_ir(path)
    plan = plan_dag(flow)
    nested = {s.name for s in flow.steps
              if s.kind == ir.FOREACH and any(flow.step(b).kind == ir.FOREACH for b in s.body)}
    for t in plan.tasks:
        s = t.step
        if not s.foreach_stack:
            assert t.group is None, s.name
            continue
        assert t.group is not None and t.group.level == s.foreach_stack, s.name
        if s.foreach_stack[-1] in nested:  # one group per step: Airflow cannot expand a group in a group
            assert [m.step.name for m in t.group.members] == [s.name]
        else:  # one group for the level: the body's steps, as the IR lists them
            split = flow.step(s.foreach_stack[-1])
            members = [m.step.name for m in t.group.members]
            assert members == [n for n in split.body if flow.step(n).foreach_stack == s.foreach_stack]


def deep_flow(levels: int) -> str:
    """``levels`` foreach splits one after another, each with a nested foreach
    and a switch inside its body."""
    out = ["from flowc import FlowSpec, step", "", "", "class DeepFlow(FlowSpec):",
           "    @step", "    def start(self):", "        self.next(self.a0)", ""]
    for i in range(levels):
        after = f"a{i + 1}" if i + 1 < levels else "end"
        out += textwrap.indent(textwrap.dedent(f"""\
            @step
            def a{i}(self):
                self.xs = [1, 2]
                self.next(self.b{i}, foreach="xs")

            @step
            def b{i}(self):
                self.ys = [1, 2]
                self.next(self.c{i}, foreach="ys")

            @step
            def c{i}(self):
                self.next(self.d{i})

            @step
            def d{i}(self, inputs):
                self.next(self.s{i})

            @step
            def s{i}(self):
                self.way = "p"
                self.next({{"p": self.p{i}, "q": self.q{i}}}, condition="way")

            @step
            def p{i}(self):
                self.next(self.e{i})

            @step
            def q{i}(self):
                self.next(self.e{i})

            @step
            def e{i}(self):
                self.next(self.f{i})

            @step
            def f{i}(self, inputs):
                self.next(self.{after})
            """), "    ").splitlines()
        out.append("")
    out += ["    @step", "    def end(self):", "        pass", ""]
    return "\n".join(out)


def lines_run(tmp_path: Path, levels: int) -> int:
    """Lines of targets/airflow/*.py run to lower and render a deep flow."""
    path = tmp_path / f"deep{levels}" / "flow.py"
    path.parent.mkdir()
    path.write_text(deep_flow(levels))
    flow = load_flow(path)
    package = str(PACKAGE)
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if not frame.f_code.co_filename.startswith(package):
            return None
        if event == "line":
            count += 1
        return tracer

    target = AirflowTarget({})
    sys.settrace(tracer)
    try:
        files = target.compile(flow).files
    finally:
        sys.settrace(None)
    assert len(files) == 1
    return count


def test_compile_work_is_linear_in_the_flows_size(tmp_path):
    """Four times the steps, at most about four times the work: nothing
    rescans the flow per step or per foreach level."""
    small, large = lines_run(tmp_path, 10), lines_run(tmp_path, 40)
    assert large < 4.5 * small, (small, large)


# ------------------------------------------------------------ shared lowerings in the output


def task_calls(text: str) -> dict[str, dict[str, ast.expr]]:
    """The keyword arguments of each operator call with a task_id, by task id."""
    out = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if isinstance(kw.get("task_id"), ast.Constant):
                out[kw["task_id"].value] = kw
    return out


def seconds(call: ast.expr) -> float:
    assert isinstance(call, ast.Call) and getattr(call.func, "id", "") == "timedelta"
    scale = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
    return sum(ast.literal_eval(k.value) * scale[k.arg] for k in call.keywords)


@pytest.mark.parametrize("path", COMPILED, ids=flow_id)
def test_every_pod_has_the_shared_needs_and_every_task_the_shared_timeout(path):
    flow = load_ir(path)
    (text,) = AirflowTarget({}).compile(flow).files.values()
    calls = task_calls(text.decode())
    for s in flow.steps:
        kw = calls[s.name]
        assert seconds(kw["execution_timeout"]) == engine_timeout(s), s.name
        res = kw.get("container_resources")
        if res is None:  # not a pod (AWS Batch: the matrix reads its resourceRequirements)
            continue
        given = {k.arg: ast.literal_eval(k.value) for k in res.keywords}
        needs = needs_of(s)
        assert given["requests"]["cpu"] == cpu_text(needs.cpu), s.name
        assert given["requests"]["memory"] == mebibytes(needs.memory) == given["limits"]["memory"], s.name


PROJECT_FLOW = """\
from flowc import FlowSpec, project, step


@project(name="fraud"{branch})
class ScoreFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("branch, options, dag_id", [
    ("", {"user": "ana"}, "fraud.user.ana.ScoreFlow"),
    (', branch="nightly"', {}, "fraud.test.nightly.ScoreFlow"),
    (", production=True", {}, "fraud.prod.ScoreFlow"),
])
def test_dag_id_and_tags_follow_metaflows_project_rule(tmp_path, branch, options, dag_id):
    path = tmp_path / "flow.py"
    path.write_text(PROJECT_FLOW.format(branch=branch))
    flow = load_flow(path)
    plan = plan_dag(flow, options)
    user = options.get("user", "")
    assert plan.dag_id == dag_id == dag_id_of(flow, user) == deployment_name(flow, user, sep=".")
    assert plan.tags == ["flowc", "project:fraud", f"branch:{project_branch(flow.decorators.project, user)}"]
    (name,) = AirflowTarget(options).compile(flow).files
    assert name == f"{dag_id}.py"


def test_the_dag_file_says_why_it_imports_nothing_of_flowc():
    flow = load_ir(REPO / "tests" / "flows" / "foreach.py")
    (text,) = AirflowTarget({}).compile(flow).files.values()
    header = "\n".join(line for line in text.decode().splitlines() if line.startswith("#"))
    assert "never flowc" in header and "need not have flowc installed" in header
    doc = (REPO / "docs" / "targets" / "airflow.md").read_text()
    assert "Why the file imports nothing of flowc" in doc and "need not have flowc" in doc


# ------------------------------------------------------------ run_when under Airflow's rules


ALL_SUCCESS = "all_success"


def simulate(plan, chosen: dict[str, str]) -> dict[str, str]:
    """How Airflow ends each top-level task and mapped group of the plan when
    the top-level switches choose ``chosen`` (switch step -> case step) and
    every step succeeds: a branch task skips its direct downstream tasks but
    the chosen case and what follows it (Airflow's SkipMixin.skip_all_except);
    ``all_success`` skips after a skipped upstream; ``none_failed_min_one_success``
    runs after one success and skips after only skips. Dependencies are the
    DAG's edges and its XCom arguments (a lister reads its split, a group its
    lister, a branch task its switch)."""
    rule, up, branch = {}, {}, {}
    for t in plan.tasks:
        if t.group is None:
            rule[t.var] = t.trigger_rule or ALL_SUCCESS
            if t.reader is not None:
                rule[t.reader.var] = ALL_SUCCESS
    for g in plan.groups:
        rule[g.var] = g.members[0].trigger_rule or ALL_SUCCESS
    for node in rule:
        up[node] = set()
    for lister in plan.listers:
        rule[lister.var] = ALL_SUCCESS
        up[lister.var] = {lister.split.out_var if lister.split.group is None else lister.split.group.var}
    for g in plan.groups:
        up[g.var].add(next(l.var for l in plan.listers if l.var == g.indices))
    by_name = {t.step.name: t for t in plan.tasks}
    for b in plan.branchers:
        rule[b.var] = ALL_SUCCESS
        up[b.var] = {b.switch.out_var}
        branch[b.var] = b.switch.step.name
    for g, a, b in plan.edges:
        if g is None:
            up[b].add(a)
    down: dict[str, set[str]] = {n: set() for n in rule}
    for n, ups in up.items():
        for a in ups:
            down[a].add(n)

    def descendants(n: str) -> set[str]:
        seen, todo = set(), [n]
        while todo:
            for d in down[todo.pop()] - seen:
                seen.add(d)
                todo.append(d)
        return seen

    status: dict[str, str] = {}
    skip: set[str] = set()
    pending = set(rule)
    while pending:
        ready = sorted(n for n in pending if up[n] <= set(status))
        assert ready, pending
        for n in ready:
            pending.discard(n)
            ups = [status[a] for a in up[n]]
            if n in skip:
                status[n] = "skipped"
            elif rule[n] == ALL_SUCCESS:
                status[n] = "success" if all(s == "success" for s in ups) else "skipped"
            else:
                status[n] = "success" if "success" in ups or not ups else "skipped"
            if n in branch and status[n] == "success":
                case = by_name[chosen[branch[n]]]
                keep = case.group.var if case.group is not None else case.var
                skip |= down[n] - {keep} - descendants(keep)
    return status


def holds(step: ir.Step, chosen: dict[str, str]) -> bool:
    return not step.run_when or any(all(chosen[sw] == case for sw, case in term) for term in step.run_when)


def check_run_when(flow: ir.Flow) -> None:
    """Every choice of the top-level switches: a step's task (or the mapped
    group it runs in) succeeds exactly when its ``run_when`` holds."""
    plan = plan_dag(flow)
    tasks = {t.step.name: t for t in plan.tasks}
    switches = [s for s in flow.ordered_steps() if s.kind == ir.SWITCH and not s.foreach_stack]
    combinations = list(itertools.product(*[[c for c in s.next if c != s.name] for s in switches]))
    assert 1 <= len(combinations) <= 4096
    for combination in combinations:
        chosen = {s.name: c for s, c in zip(switches, combination)}
        status = simulate(plan, chosen)
        for s in flow.ordered_steps():
            t = tasks[s.name]
            node = t.var if t.group is None else t.group.var
            assert (status[node] == "success") == holds(s, chosen), (s.name, chosen, status)


def switch_flows() -> list[Path]:
    return [p for p in COMPILED if any(s.kind == ir.SWITCH and not s.foreach_stack for s in load_ir(p).steps)]


@pytest.mark.parametrize("path", switch_flows(), ids=flow_id)
def test_cases_run_when_the_ir_says(path):
    check_run_when(load_ir(path))


def test_a_case_that_also_reaches_another_case(tmp_path):
    """``wrap`` follows the switch directly (case ``wrap``) and through ``fix``
    (case ``fix``): the branch task does not skip it when ``fix`` is chosen
    (it follows the chosen case), and it waits for one of the two."""
    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent('''
        from flowc import FlowSpec, step

        class MixedFlow(FlowSpec):
            @step
            def start(self):
                self.route = "fix"
                self.next({"fix": self.fix, "wrap": self.wrap}, condition="route")

            @step
            def fix(self):
                self.next(self.wrap)

            @step
            def wrap(self):
                self.check = "audit"
                self.next({"audit": self.audit, "skip": self.skip}, condition="check")

            @step
            def audit(self):
                self.next(self.end)

            @step
            def skip(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    flow = load_flow(path)
    assert flow.steps_by_name["audit"].run_when == ((("wrap", "audit"),),)
    check_run_when(flow)
