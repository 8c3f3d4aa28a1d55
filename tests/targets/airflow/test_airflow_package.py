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
- the DAG file says why it imports nothing of flowc."""

from __future__ import annotations

import ast
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
    assert sorted(p.name for p in (PACKAGE / "templates").iterdir()) == ["airflow.py.j2", "airflow_tasks.py.j2"]
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
