"""The Argo target's shape and what it reads from the shared lowerings:

- targets/argo/ is a package of small modules that import each other
  without a circle;
- every step's container asks for what targets/resources.py says (MiB,
  1 CPU / 4096Mi by default, memory limited at its request) and has
  base.engine_timeout's deadline;
- a switch's cases run exactly when the IR's ``Step.run_when`` says, under
  Argo's own rules for ``depends`` and ``when`` (dag.py writes only the
  condition on each edge out of a switch and leaves the rest to Argo)."""

from __future__ import annotations

import ast
import itertools
import json
import textwrap

import pytest

from flowc.compiler import ir
from flowc.compiler import load_flow
from flowc.targets.argo import ArgoTarget, dns_label
from flowc.targets.base import engine_timeout
from flowc.targets.resources import cpu_text, mebibytes, needs_of
from tests.conftest import REPO, flow_id, load_ir
from tests.targets.argo.argo_checks import depends_names, load_documents
from tests.targets.argo.argo_harness import Harness, Node, govaluate_bool
from tests.targets.argo.argo_expr import substitute
from tests.targets.argo.argo_support import compile_argo, single_file
from tests.targets.argo.test_argo_corpus import COMPILING

PACKAGE = REPO / "targets" / "argo"
MAX_LINES = 400


def local_imports(path) -> set[str]:
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
    assert {"__init__", "target", "dag", "containers", "checks", "names", "models", "writer"} <= set(modules)
    assert not list(REPO.glob("targets/argo_*.py")) and not (REPO / "targets" / "argo.py").exists()
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


def test_the_registry_and_the_engine_adapter_import_the_package():
    from flowc.targets import registry

    assert registry.get("argo") is ArgoTarget and dns_label("MyFlow") == "my-flow"


def container_of(templates: dict[str, dict], step: ir.Step) -> dict:
    """The step's own container template, else the shared one."""
    own = templates.get(dns_label(step.name))
    return own if own is not None and "container" in own else templates["run-step"]


@pytest.mark.parametrize("path", COMPILING, ids=flow_id)
def test_every_container_has_the_shared_needs_and_deadline(path):
    flow = load_ir(path)
    (doc, *_) = load_documents(single_file(compile_argo(path, package=False)))
    templates = {t["name"]: t for t in doc["spec"]["templates"]}
    for step in flow.steps:
        tmpl = container_of(templates, step)
        needs = needs_of(step)
        resources = tmpl["container"]["resources"]
        assert resources["requests"]["cpu"] == cpu_text(needs.cpu), step.name
        assert resources["requests"]["memory"] == mebibytes(needs.memory) == resources["limits"]["memory"], step.name
        assert tmpl["activeDeadlineSeconds"] == engine_timeout(step), step.name


# ------------------------------------------------------------ run_when against Argo's rules


def switch_flows() -> list:
    out = []
    for path in COMPILING:
        flow = load_ir(path)
        if any(s.kind == ir.SWITCH and not s.foreach_stack for s in flow.steps):
            out.append(path)
    return out


def entry_statuses(doc: dict, chosen: dict[str, str]) -> dict[str, str]:
    """Each task of the entry DAG as Argo's controller would end it when the
    top-level switches (by task name) choose ``chosen``: ``depends`` false is
    Omitted, ``when`` false is Skipped, else Succeeded (every step succeeds,
    every foreach has items)."""
    entry = doc["spec"]["entrypoint"]
    (dag,) = [t for t in doc["spec"]["templates"] if t["name"] == entry]
    tasks = {t["name"]: t for t in dag["dag"]["tasks"]}
    deps = {n: depends_names(t["depends"]) if t.get("depends") else [] for n, t in tasks.items()}
    results: dict[str, Node] = {}
    scope: dict[str, object] = {}
    pending = list(tasks)
    while pending:
        ready = [n for n in pending if all(d in results for d in deps[n])]
        assert ready, pending
        for name in ready:
            pending.remove(name)
            task = tasks[name]
            if task.get("depends") and not Harness.depends_holds(task["depends"], results):
                phase = "Omitted"
            elif task.get("when") and not govaluate_bool(substitute(task["when"], scope, ("tasks",))):
                phase = "Skipped"
            else:
                phase = "Succeeded"
            results[name] = Node(phase)
            scope[f"tasks.{name}.status"] = phase
            if name in chosen:
                scope[f"tasks.{name}.outputs.parameters.out"] = (
                    json.dumps({"chosen": chosen[name]}) if phase == "Succeeded" else None)
    return {n: r.phase for n, r in results.items()}


def holds(step: ir.Step, chosen: dict[str, str]) -> bool:
    return not step.run_when or any(all(chosen[sw] == case for sw, case in term) for term in step.run_when)


def check_run_when(flow: ir.Flow, doc: dict) -> None:
    """Every choice of the top-level switches: a step's task succeeds exactly
    when its ``run_when`` holds; a foreach's fan-out when its body's entry's does."""
    switches = [s for s in flow.ordered_steps() if s.kind == ir.SWITCH and not s.foreach_stack]
    cases = [[c for c in s.next if c != s.name] for s in switches]
    combinations = list(itertools.product(*cases))
    assert 1 <= len(combinations) <= 4096
    for combination in combinations:
        chosen = {s.name: c for s, c in zip(switches, combination)}
        statuses = entry_statuses(doc, {dns_label(sw): c for sw, c in chosen.items()})
        for s in flow.ordered_steps():
            if s.foreach_stack:  # in a body: its fan-out, below
                continue
            assert (statuses[dns_label(s.name)] == "Succeeded") == holds(s, chosen), (s.name, chosen, statuses)
            if s.kind == ir.FOREACH:
                body = [flow.steps_by_name[b] for b in s.body]
                fan = dns_label(body[0].name if len(body) == 1 and body[0].kind == ir.LINEAR else f"foreach-{s.name}")
                assert (statuses[fan] == "Succeeded") == holds(body[0], chosen), (s.name, chosen, statuses)


@pytest.mark.parametrize("path", switch_flows(), ids=flow_id)
def test_cases_run_when_the_ir_says(path):
    flow = load_ir(path)
    (doc, *_) = load_documents(single_file(compile_argo(path, package=False)))
    check_run_when(flow, doc)


def test_a_case_that_also_reaches_another_case(tmp_path):
    """``wrap`` follows the switch directly (case ``wrap``) and through
    ``fix`` (case ``fix``): one group of alternatives, one of them a switch,
    so its task's ``when`` mixes a status and a choice; ``audit`` runs only
    after the second switch chose it, whichever way the first went."""
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
    (doc,) = load_documents(single_file(ArgoTarget({}).compile(flow)))
    wrap = next(t for t in doc["spec"]["templates"][0]["dag"]["tasks"] if t["name"] == "wrap")
    assert "status" in wrap["when"] and "chosen" in wrap["when"]
    check_run_when(flow, doc)
