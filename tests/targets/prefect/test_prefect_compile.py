"""The Prefect target compiles every flow of the corpus it can express
(tests/targets/test_matrix.py checks what it refuses), deterministically,
into files its readers and tools accept."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowc.compiler import CompileError
from tests.conftest import ALL_FLOWS, GOLDEN, REPO, check_golden, flow_id, load_ir

from tests.support.corpus import compiling

from .conftest import compile_flow

# the corpus flows the target compiles (tests/targets/test_matrix.py checks the refusals)
CORPUS = compiling("prefect", ALL_FLOWS)


def corpus_id(path: Path) -> str:
    return flow_id(path)


def compiled(path: Path, **options):
    files, diags, _ = compile_flow(path, **options)
    return files, diags


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_compiles_into_its_three_files(path: Path):
    files, diags, _ = compile_flow(path)
    assert not [d for d in diags if d.is_error]
    assert {"prefect_flow.py", "prefect.yaml", "kubernetes-job-template.json"} <= set(files)


def unbound_names(text: str) -> list[str]:
    """Names a module reads as globals that it neither defines, imports nor gets
    from builtins (a helper the module calls but forgot to import)."""
    import builtins
    import symtable

    table = symtable.symtable(text, "prefect_flow.py", "exec")
    defined = ({s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
               | set(dir(builtins)) | {"__file__", "__name__"})
    missing, tables = [], [table]
    while tables:
        t = tables.pop()
        missing += [s.get_name() for s in t.get_symbols()
                    if s.is_referenced() and (s.is_global() or t is table) and s.get_name() not in defined]
        tables += t.get_children()
    return sorted(set(missing))


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_the_module_imports_every_helper_it_calls_and_no_other(path: Path):
    """The module imports from flowc.engines.prefect (its __all__) what it uses, and only that."""
    from flowc.engines import prefect as support

    files, _ = compiled(path)
    text = files["prefect_flow.py"].decode()
    assert unbound_names(text) == []
    tree = ast.parse(text)
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "flowc.engines.prefect"
             for a in n.names]
    assert names and set(names) <= set(support.__all__)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert [n for n in names if n not in used] == []


def test_the_engines_module_imports_neither_the_compiler_nor_the_targets():
    """What a compiled flow imports in Prefect's process: the standard library,
    Prefect and flowc's user API, never the compiler, libcst, jinja2 or the targets."""
    code = ("import sys, flowc.engines.prefect\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'jinja2')\n"
            "             or m.startswith(('flowc.compiler', 'flowc.targets'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_golden(path: Path, regen: bool):
    files, _ = compiled(path)
    folder = GOLDEN / "prefect" / corpus_id(path)
    check_golden(folder / "prefect_flow.py", files["prefect_flow.py"], regen)
    check_golden(folder / "prefect.yaml", files["prefect.yaml"], regen)


def test_golden_job_template(regen: bool):
    files, _ = compiled(EXAMPLE)
    check_golden(GOLDEN / "prefect" / "kubernetes-job-template.json", files["kubernetes-job-template.json"], regen)


EXAMPLE = REPO / "tests" / "flows" / "branch.py"


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_deterministic(path: Path):
    """The same bytes from two compiles of freshly analyzed flows."""
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        runs = [PrefectTarget({}, "warning").compile(load_flow(path.relative_to(REPO))).files for _ in range(2)]
    finally:
        os.chdir(cwd)
    assert runs[0] == runs[1]


def test_cli_output_is_deterministic_and_pure(tmp_path: Path):
    """`flowc compile` twice: identical files, and no path of this machine in them."""
    outs = []
    for i in range(2):
        out = tmp_path / f"out{i}"
        subprocess.run([sys.executable, "-m", "flowc", "compile", "examples/foreach_flow.py", "--target", "prefect",
                        "-o", str(out)], cwd=REPO, check=True, capture_output=True)
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]
    assert set(outs[0]) == {"prefect_flow.py", "prefect.yaml", "kubernetes-job-template.json"}
    for name, data in outs[0].items():
        assert str(REPO).encode() not in data and str(tmp_path).encode() not in data, name


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_output_parses(path: Path):
    files, _ = compiled(path)
    module = files["prefect_flow.py"].decode("utf-8")
    compile(module, "prefect_flow.py", "exec")
    doc = yaml.safe_load(files["prefect.yaml"])
    assert doc["deployments"][0]["entrypoint"].startswith("prefect_flow.py:")
    template = json.loads(files["kubernetes-job-template.json"])
    assert set(template) == {"job_configuration", "variables"}


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_one_task_per_step_each_pointing_at_its_line(path: Path):
    flow = load_ir(path)
    files, _ = compiled(path)
    tree = ast.parse(files["prefect_flow.py"])
    tasks = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "task":
                    kw = {k.arg: k.value for k in deco.keywords}
                    tasks[ast.literal_eval(kw["name"])] = node
    assert sorted(tasks) == sorted(s.name for s in flow.steps)
    text = files["prefect_flow.py"].decode("utf-8")
    for s in flow.steps:  # a step of a base class in another module: that module, as packaged
        assert f"# {s.name} ({os.path.relpath(s.span.file, os.path.dirname(flow.source.path))}:{s.span.line}):" in text


def test_output_size_does_not_grow_with_foreach_width(tmp_path: Path):
    """The foreach's width is data: a flow over 3 items and one over 30 000
    compile to files of the same size (only the source's hash differs)."""
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    sizes = []
    for folder, width in (("a", 3), ("b", 30000)):
        src = tmp_path / folder / "wide.py"
        src.parent.mkdir()
        src.write_text(
            "from flowc import FlowSpec, step\n\n\nclass WideFlow(FlowSpec):\n"
            "    @step\n    def start(self):\n"
            f"        self.items = list(range({width:5d}))\n"
            "        self.next(self.work, foreach='items')\n\n"
            "    @step\n    def work(self):\n        self.out = self.input\n        self.next(self.join)\n\n"
            "    @step\n    def join(self, inputs):\n        self.total = sum(i.out for i in inputs)\n"
            "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
        files = PrefectTarget({}).compile(load_flow(src)).files
        sizes.append({name: len(data) for name, data in files.items() if not name.endswith(".ir.json")})
    assert sizes[0] == sizes[1]


def test_targets_command_lists_prefect():
    out = subprocess.run([sys.executable, "-m", "flowc", "targets", "prefect"], capture_output=True, text=True,
                         check=True).stdout
    header, *rows = out.splitlines()
    assert "prefect" in header
    table = {r.split()[0]: r.split()[1] for r in rows if r and r.split()[0] in ("foreach", "packages", "switch")}
    assert table == {"foreach": "yes", "switch": "yes", "packages": "yes"}
    assert "work_pool" in out and "workdir" in out


# ------------------------------------------------------------------ options


def test_options_from_flags_and_pyproject(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowc]\nimage = "registry.example.com/flowc:7"\n\n'
        '[tool.flowc.prefect]\nwork_pool = "k8s-prod"\nnamespace = "data"\nmemory = 8192\n')
    flow = tmp_path / "flow.py"
    flow.write_text((REPO / "tests" / "flows" / "resources.py").read_text())
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "flowc", "compile", "flow.py", "--target", "prefect", "-o", str(out),
                    "--cpu", "4", "--work-queue", "nightly"], cwd=tmp_path, check=True, capture_output=True)
    doc = yaml.safe_load((out / "prefect.yaml").read_text())
    main, *steps = doc["deployments"]
    assert main["work_pool"]["name"] == "k8s-prod"
    assert main["work_pool"]["work_queue_name"] == "nightly"
    assert main["work_pool"]["job_variables"] == {
        "image": "registry.example.com/flowc:7", "namespace": "data", "cpu_request": "4",
        "memory_request": "8192Mi", "memory_limit": "8192Mi", "ephemeral_storage_request": "10240Mi"}
    # start asks for 2 CPUs and 20000 MB of disk: the disk alone now needs a container of its own
    assert [s["name"] for s in steps] == ["start", "train"]
    assert "disk 20000 MiB > the flow pod's 10240 MiB" in (out / "prefect.yaml").read_text()
    assert "CPUs 2" not in (out / "prefect.yaml").read_text()


def test_bad_option_is_an_error(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "flowc", "compile", str(EXAMPLE), "--target", "prefect",
                             "-o", str(tmp_path), "--memory", "lots"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "memory must be a whole number" in result.stderr


# ------------------------------------------------------------------ what cannot be expressed


def compile_source(tmp_path: Path, source: str, **options):
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    path = tmp_path / "flow.py"
    path.write_text(source)
    return PrefectTarget(options).compile(load_flow(path))


def diagnostics_of(tmp_path: Path, source: str) -> list[tuple[str, int, str]]:
    with pytest.raises(CompileError) as info:
        compile_source(tmp_path, source)
    return [(d.code, d.span.line, d.message) for d in info.value.diagnostics]


HEAD = "from flowc import FlowSpec, Parameter, batch, kubernetes, secrets, step\n\n\nclass F(FlowSpec):\n"
TAIL = "    @step\n    def end(self):\n        pass\n"


def test_batch_roles_have_no_kubernetes_counterpart(tmp_path: Path):
    src = HEAD + ("    @batch(iam_role='arn:aws:iam::1:role/x')\n    @step\n    def start(self):\n"
                  "        self.next(self.end)\n\n") + TAIL
    assert diagnostics_of(tmp_path, src) == [
        ("FC501", 5, "prefect: @batch(iam_role=...) of step 'start' has no Kubernetes counterpart")]


def test_prefect_placeholders_in_pod_options_are_refused(tmp_path: Path):
    """prefect deploy would substitute {{ x }} in job variables: refused, not mangled."""
    src = HEAD + ("    @kubernetes(labels={'team': '{{ prefect.variables.team }}'})\n    @step\n    def start(self):\n"
                  "        self.next(self.end)\n\n") + TAIL
    found = diagnostics_of(tmp_path, src)
    assert {(code, line) for code, line, _ in found} == {("FC501", 5)}
    assert any("prefect deploy would substitute" in message for _, _, message in found)
    # and, as on every pod target, it is not a label value Kubernetes accepts
    assert any("which Kubernetes does not accept" in message for _, _, message in found)


def test_labels_kubernetes_rejects_are_refused(tmp_path: Path):
    """The one pod check (targets/kubernetes.py check_pods), as on Argo and Airflow."""
    src = HEAD + ("    @kubernetes(labels={'team/x/y': 'ml'}, annotations={'-bad': 'x'})\n    @step\n"
                  "    def start(self):\n        self.next(self.end)\n\n") + TAIL
    found = diagnostics_of(tmp_path, src)
    assert [(code, line) for code, line, _ in found] == [("FC501", 5), ("FC501", 5)]
    messages = " | ".join(message for _, _, message in found)
    assert "label of step 'start' 'team/x/y' is not a valid Kubernetes key" in messages
    assert "annotation of step 'start' '-bad' is not a valid Kubernetes key" in messages


def test_secret_names_must_name_prefect_blocks(tmp_path: Path):
    src = HEAD + ("    @secrets(sources=['arn:aws:secretsmanager:eu-west-1:1:secret:db'])\n    @step\n    def start(self):\n"
                  "        self.next(self.end)\n\n") + TAIL
    [(code, line, message)] = diagnostics_of(tmp_path, src)
    assert (code, line) == ("FC501", 5) and "cannot name a Prefect Secret block" in message


def test_parameter_named_like_a_helper_is_refused(tmp_path: Path):
    src = HEAD + ("    chosen = Parameter('chosen', default=1)\n\n    @step\n    def start(self):\n"
                  "        self.next(self.end)\n\n") + TAIL
    [(code, line, message)] = diagnostics_of(tmp_path, src)
    assert (code, line) == ("FC501", 5) and "helper chosen()" in message


def test_unsupported_warn_compiles_and_reports(tmp_path: Path):
    from flowc.compiler import load_flow
    from flowc.targets.prefect import PrefectTarget

    path = tmp_path / "flow.py"
    path.write_text(HEAD + ("    @batch(iam_role='arn:aws:iam::1:role/x')\n    @step\n    def start(self):\n"
                            "        self.next(self.end)\n\n") + TAIL)
    out = PrefectTarget({}, unsupported_level="warning").compile(load_flow(path))
    assert [(d.code, d.severity, d.span.line) for d in out.diagnostics] == [("FC501", "warning", 5)]
    assert "prefect_flow.py" in out.files


def test_names_never_shadow_the_module(tmp_path: Path):
    """Steps named like the generated module's own names get another function
    name; the task keeps the step's name."""
    src = ("from flowc import FlowSpec, Parameter, step\n\n\nclass F(FlowSpec):\n"
           "    run_step_ = Parameter('params', default='p')\n\n"
           "    @step\n    def start(self):\n        self.next(self.finish)\n\n"
           "    @step\n    def finish(self):\n        self.next(self.json)\n\n"
           "    @step\n    def json(self):\n        self.next(self.end)\n\n" + TAIL)
    files = compile_source(tmp_path, src).files
    text = files["prefect_flow.py"].decode()
    assert "def finish_step(" in text and 'name="finish"' in text
    assert "def json_step(" in text and 'name="json"' in text
    assert "    params: str = \"p\",\n" in text
    assert "params_ = {" in text  # the body's own dict of parameters steps aside
    compile(text, "prefect_flow.py", "exec")
