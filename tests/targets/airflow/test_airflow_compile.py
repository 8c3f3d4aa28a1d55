"""The Airflow target compiles every flow of the corpus it can express
(tests/targets/test_matrix.py checks the refusals), deterministically, into
readable Python that imports only Airflow and the standard library; goldens
pin the output."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler.diagnostics import CompileError
from tests.conftest import ALL_FLOWS, GOLDEN, REPO, check_golden, flow_id, load_ir
from tests.support.corpus import compiling
from tests.targets.airflow.conftest import compile_flow

FLOWS = ALL_FLOWS
# the flows the target compiles by default (the conformance matrix checks the others' refusals)
COMPILED = compiling("airflow")
# golden variants beyond the default: (suffix, options)
VARIANTS = {
    "local": {"placement": "local"},
    "airflow2": {"airflow_version": 2},
    "bootstrap": {"environments": "bootstrap", "placement": "local"},
}
VARIANT_FLOWS = ["flows/nested_foreach", "flows/switch", "flows/foreach_body", "flows/parameters",
                 "flows/branch_switch", "flows/switch_in_foreach", "flows/placement", "flows/batch_split",
                 "examples/recsys"]


def variant_cases():
    for name in VARIANT_FLOWS:
        for variant in sorted(VARIANTS):
            if variant != "bootstrap" or name == "examples/recsys":  # the one flow with environments
                yield name, variant


def fid(path: Path) -> str:
    return flow_id(path)


@pytest.mark.parametrize("path", COMPILED, ids=fid)
def test_golden(path, regen):
    text, diags = compile_flow(path)
    assert not [d for d in diags if d.is_error]
    check_golden(GOLDEN / "airflow" / f"{fid(path)}.py", text.encode("utf-8"), regen)


@pytest.mark.parametrize("name, variant", list(variant_cases()))
def test_variants_golden(name, variant, regen):
    path = next(p for p in FLOWS if fid(p) == name)
    text, _ = compile_flow(path, unsupported="warn", **VARIANTS[variant])
    check_golden(GOLDEN / "airflow" / f"{name}.{variant}.py", text.encode("utf-8"), regen)


@pytest.mark.parametrize("options", [{}, {"placement": "local"}, {"airflow_version": 2},
                                     {"placement": "batch", "batch_queue": "q"}], ids=str)
@pytest.mark.parametrize("path", FLOWS, ids=fid)
def test_valid_python_importing_only_airflow_and_the_standard_library(path, options):
    text, _ = compile_flow(path, unsupported="warn", **options)
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in ([node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]):
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "airflow" or name == "kubernetes.client" \
                    or name == "__future__", f"the DAG imports {name}"
    # no heavy work at import time: the module's top level only defines things
    for stmt in tree.body:
        assert isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.With,
                                 ast.Assign, ast.Expr)), ast.dump(stmt)[:80]
        if isinstance(stmt, ast.Expr):
            assert isinstance(stmt.value, ast.Constant)  # the module docstring


@pytest.mark.parametrize("path", FLOWS, ids=fid)
def test_every_task_points_back_at_its_line(path):
    flow = load_ir(path)
    text, _ = compile_flow(path, unsupported="warn")
    for step in flow.steps:  # a step of a base class in another module: that module, as packaged
        file = os.path.relpath(step.span.file, os.path.dirname(flow.source.path))
        assert f"# {step.name} ({file}:{step.span.line})" in text


@pytest.mark.parametrize("path", FLOWS, ids=fid)
def test_deterministic_and_free_of_machine_paths(path, tmp_path):
    first, _ = compile_flow(path, unsupported="warn")
    second, _ = compile_flow(path, unsupported="warn")
    assert first == second
    assert str(REPO) not in first and str(Path.home()) not in first


def test_cli_output_is_the_same_bytes_every_time(tmp_path):
    outputs = []
    for i in range(2):
        out = tmp_path / f"dag{i}.py"
        subprocess.run([sys.executable, "-m", "flowc", "compile", "tests/flows/foreach_body.py", "--target",
                        "airflow", "-o", str(out)], cwd=REPO, check=True, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # the command line also points tasks at the flow's code package in the datastore
    package = re.compile(rb'\n +"--package", fixed\("s3://flowc-datastore/ForeachBodyFlow/packages/'
                         rb'[0-9a-f]{64}\.tar\.gz"\),')
    assert len(package.findall(outputs[0])) == 1
    assert package.sub(b"", outputs[0]) == (GOLDEN / "airflow" / "flows" / "foreach_body.py").read_bytes()


WIDTH_FLOW = '''from flowc import FlowSpec, step


class WidthFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({width}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.double = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.double for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_output_does_not_grow_with_foreach_width(tmp_path):
    texts = []
    path = tmp_path / "width.py"
    for width in (3, 3_000_000):
        path.write_text(WIDTH_FLOW.format(width=width))
        from flowc.compiler import load_flow
        from flowc.targets.airflow import AirflowTarget

        out = AirflowTarget({}).compile(load_flow(path))
        texts.append(next(iter(out.files.values())).decode())
    sha = re.compile(r"sha256 [0-9a-f]{12}")
    assert len(texts[0]) == len(texts[1])
    assert sha.sub("", texts[0]) == sha.sub("", texts[1])


def test_recursive_switch_is_a_clear_error_naming_airflow():
    result = subprocess.run([sys.executable, "-m", "flowc", "compile", "tests/flows/recursive_switch.py",
                             "--target", "airflow"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1
    assert "recursive_switch.py:20" in result.stderr
    assert "FC501" in result.stderr and "airflow" in result.stderr and "acyclic" in result.stderr
    assert result.stdout == ""  # nothing written


def test_options_from_flags_and_pyproject(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "flow.py").write_text((REPO / "tests/flows/foreach.py").read_text())
    (project / "pyproject.toml").write_text(
        '[tool.flowc]\nimage = "registry.example.com/team/flows:7"\n\n'
        '[tool.flowc.airflow]\nnamespace = "data"\nairflow_version = 2\ndag_id = "team.foreach"\n'
        'placement = "local"\n')
    (project / "heavy.py").write_text((REPO / "tests/flows/image.py").read_text())
    out = project / "dag.py"
    base = [sys.executable, "-m", "flowc", "compile", "flow.py", "--target", "airflow", "-o", str(out)]
    subprocess.run(base, cwd=project, check=True, capture_output=True)
    text = out.read_text()
    assert "from airflow import DAG" in text and 'dag_id="team.foreach"' in text
    assert "FlowcStep(" in text and "KubernetesPodOperator" not in text
    # flags override the file
    subprocess.run(base + ["--airflow-version", "3", "--placement", "kubernetes", "--namespace", "x"], cwd=project,
                   check=True, capture_output=True)
    text = out.read_text()
    assert "from airflow.sdk import" in text and "FlowcStep" not in text
    assert 'image="registry.example.com/team/flows:7"' in text and 'namespace="x"' in text
    # the default placement from the file, and a step's @kubernetes overriding it
    heavy = [sys.executable, "-m", "flowc", "compile", "heavy.py", "--target", "airflow", "-o", str(out)]
    subprocess.run(heavy, cwd=project, check=True, capture_output=True)
    text = out.read_text()
    assert 'start = FlowcStep(' in text and 'special = KubernetesPodOperator(' in text and 'end = FlowcStep(' in text
    assert 'image="example.com/team/special:1.2.3"' in text and 'namespace="data"' in text
    bad = subprocess.run(base + ["--airflow-version", "1"], cwd=project, capture_output=True, text=True)
    assert bad.returncode == 2 and "airflow_version" in bad.stderr


def test_targets_table_lists_airflow():
    result = subprocess.run([sys.executable, "-m", "flowc", "targets", "airflow"], cwd=REPO, capture_output=True,
                            text=True, check=True)
    assert "airflow" in result.stdout.splitlines()[0]
    row = next(line for line in result.stdout.splitlines() if line.startswith("recursive_switch"))
    assert " no" in row
    assert "--placement" not in result.stdout and "placement" in result.stdout  # the options are listed


def test_generated_names_that_clash_are_reported(tmp_path):
    path = tmp_path / "clash.py"
    path.write_text('''from flowc import FlowSpec, step


class ClashFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.start_indices, foreach="items")

    @step
    def start_indices(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    from flowc.compiler import load_flow
    from flowc.targets.airflow import AirflowTarget

    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    assert {d.code for d in err.value.diagnostics} == {"FC503"}
    assert "start_indices" in err.value.diagnostics[0].message


def test_step_names_that_shadow_the_files_own_names_get_a_suffix(tmp_path):
    path = tmp_path / "shadow.py"
    path.write_text('''from flowc import FlowSpec, step


class ShadowFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.json)

    @step
    def json(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    from flowc.compiler import load_flow
    from flowc.targets.airflow import AirflowTarget

    text = next(iter(AirflowTarget({"placement": "local"}).compile(load_flow(path)).files.values())).decode()
    assert "json_ = FlowcStep(" in text and 'task_id="json"' in text
    compile(text, "dag.py", "exec")


def names_problems(text: str) -> list[str]:
    """Names read but never bound, and imports never read: a linter's two checks."""
    import builtins

    tree = ast.parse(text)
    bound = set(dir(builtins)) | {"__file__"}
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                if name != "annotations":
                    imported[name] = node.lineno
                bound.add(name)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
            bound.update(a.arg for a in node.args.args + node.args.kwonlyargs) if isinstance(
                node, ast.FunctionDef) else None
            if isinstance(node, ast.FunctionDef) and node.args.kwarg:
                bound.add(node.args.kwarg.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            bound.add(node.optional_vars.id)
        elif isinstance(node, ast.comprehension):
            for target in ast.walk(node.target):
                if isinstance(target, ast.Name):
                    bound.add(target.id)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    read |= {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    problems = [f"undefined name {name}" for name in sorted(read - bound)]
    problems += [f"unused import {name} (line {line})" for name, line in sorted(imported.items()) if name not in read]
    return problems


@pytest.mark.parametrize("options", [{}, {"placement": "local"}, {"airflow_version": 2},
                                     {"placement": "batch", "batch_queue": "q"},
                                     {"placement": "local", "environments": "bootstrap"}], ids=str)
@pytest.mark.parametrize("path", FLOWS, ids=fid)
def test_no_undefined_names_and_no_unused_imports(path, options):
    text, _ = compile_flow(path, unsupported="warn", **options)
    assert names_problems(text) == []


def test_the_names_check_finds_what_it_looks_for():
    assert names_problems("import os\nimport sys\nprint(sys.argv, literal)\n") == [
        "undefined name literal", "unused import os (line 1)"]


BATCH_SPLIT_WITH_SECRETS = '''from flowc import FlowSpec, batch, secrets, step


class BatchGapsFlow(FlowSpec):
    @batch(queue="q")
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.mode = "a"
        self.next(self.route)

    @secrets(sources=["db"])
    @batch(queue="q")
    @step
    def route(self):
        self.next({"a": self.a, "b": self.b}, condition="mode")

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_foreach_or_switch_on_batch_compiles_and_the_other_batch_gaps_stay(tmp_path):
    """A Batch split or switch is read back by a worker task; what a Batch job
    cannot express (secrets, here on the switch) is still refused."""
    from flowc.compiler import load_flow
    from flowc.targets.airflow import AirflowTarget, plan_dag

    path = tmp_path / "gaps.py"
    path.write_text(BATCH_SPLIT_WITH_SECRETS)
    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    (diag,) = err.value.diagnostics
    # at the @batch line, as every Batch gap
    assert diag.code == "FC501" and diag.span.line == 21 and "secrets on step 'route'" in diag.message
    path.write_text(BATCH_SPLIT_WITH_SECRETS.replace('    @secrets(sources=["db"])\n', ""))
    out = AirflowTarget({}).compile(load_flow(path))
    assert not out.diagnostics
    plan = plan_dag(load_flow(path), {})
    readers = {t.step.name: (t.reader.task_id, t.returns) for t in plan.tasks if t.reader}
    assert readers == {"start": ("start_outcome", False), "route": ("route_outcome", False)}
    text = next(iter(out.files.values())).decode()
    assert "start_indices = foreach_indices.override(task_id=\"start_indices\")(start_outcome, nested=False)" in text
    assert "route_outcome, {\"a\": \"a\", \"b\": \"b\"}" in text
    jobs = re.findall(r'"command": (step_command\(.*\)),', text)
    assert len(jobs) == 2 and not any("output=" in job for job in jobs)  # no Batch job is asked for an XCom file


def test_a_step_named_like_an_outcome_reader_is_reported(tmp_path):
    path = tmp_path / "clash.py"
    path.write_text('''from flowc import FlowSpec, batch, step


class ClashFlow(FlowSpec):
    @batch(queue="q")
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.start_outcome, foreach="items")

    @step
    def start_outcome(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    from flowc.compiler import load_flow
    from flowc.targets.airflow import AirflowTarget

    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    assert {d.code for d in err.value.diagnostics} == {"FC503"}  # its task id (its Python name gets a suffix)
    assert all("'start_outcome'" in d.message and "outcome reader of start" in d.message
               for d in err.value.diagnostics)
