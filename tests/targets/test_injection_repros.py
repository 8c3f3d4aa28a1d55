"""The injections a review found, one named test each: a user string reached a
generated file as code or as an engine placeholder. Each must now come out as
data, or be refused with a diagnostic naming the target."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowc.compiler import CompileError, load_flow
from flowc.targets.registry import get as get_target

FLOW = '''from flowc import FlowSpec, step, kubernetes, project, schedule, environment


{decos}
class Hostile(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    {step_decos}
    @step
    def end(self):
        pass
'''


def compile_source(tmp_path: Path, target: str, decos: str = "", step_decos: str = "", file_name: str = "hostile.py"):
    path = tmp_path / file_name
    path.write_text(FLOW.format(decos=decos, step_decos=step_decos), encoding="utf-8")
    try:
        out = get_target(target)({}).compile(load_flow(path))
    except CompileError as exc:
        return {}, list(exc.diagnostics)
    return out.files, out.diagnostics


def run_module(folder: Path, name: str) -> subprocess.CompletedProcess:
    """Compile the generated module in a fresh interpreter and run its top level
    (ast only, so no engine is needed: an injected line would be a statement)."""
    return subprocess.run([sys.executable, "-c", f"import ast,sys; ast.parse(open({str(folder / name)!r}).read())"],
                          cwd=folder, capture_output=True, text=True)


def statements_outside_literals(source: str) -> list[str]:
    """Every call in the module whose callee names os or system: injected code."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and "system" in ast.unparse(node.func):
            hits.append(ast.unparse(node))
    return hits


def test_kubernetes_image_with_newline_is_data_in_prefect_module(tmp_path):
    image = "python:3.11\\nimport os; os.system('touch PWNED')\\n#"
    files, diags = compile_source(tmp_path, "prefect", step_decos=f'@kubernetes(image="{image}")')
    assert not [d for d in diags if d.severity == "error"], diags
    module = files["prefect_flow.py"].decode("utf-8")
    assert statements_outside_literals(module) == []
    for line in module.splitlines():  # the image only ever inside a literal or an escaped comment
        assert not line.startswith("import os; os.system")
    doc = yaml.safe_load(files["prefect.yaml"])
    images = [d["work_pool"]["job_variables"].get("image") for d in doc["deployments"]]
    assert "python:3.11\nimport os; os.system('touch PWNED')\n#" in images


def test_file_name_with_newline_is_data_in_prefect_outputs(tmp_path):
    bad = "flow\nimport os; os.system('touch PWNED')\n#.py"
    files, diags = compile_source(tmp_path, "prefect", decos="@schedule(daily=True)", file_name=bad)
    module = files["prefect_flow.py"].decode("utf-8")
    assert statements_outside_literals(module) == []
    doc = yaml.safe_load(files["prefect.yaml"])
    assert set(doc) == {"name", "build", "push", "pull", "deployments"}
    assert doc["pull"] == [{"prefect.deployments.steps.set_working_directory": {"directory": doc["pull"][0][
        "prefect.deployments.steps.set_working_directory"]["directory"]}}]
    assert all(line.startswith(("#", " ", "-")) or ":" in line or not line
               for line in files["prefect.yaml"].decode("utf-8").splitlines())
    for name in ("prefect_flow.py", "prefect_support.py"):
        if name in files:
            ast.parse(files[name].decode("utf-8"))


def _prefect_placeholders_diagnosed(tmp_path, decos):
    files, diags = compile_source(tmp_path, "prefect", decos=decos)
    errors = [d for d in diags if d.severity == "error"]
    assert errors, "a prefect deploy placeholder must be refused"
    assert all(d.code == "FC501" and "prefect" in d.message for d in errors)
    assert errors[0].span.line == 4  # the decorator's line
    return errors


def test_project_branch_with_prefect_placeholder_is_refused(tmp_path):
    _prefect_placeholders_diagnosed(tmp_path, '@project(name="p", branch="{{ $AWS_SECRET_ACCESS_KEY }}")')


def test_schedule_timezone_with_prefect_placeholder_is_refused(tmp_path):
    _prefect_placeholders_diagnosed(tmp_path, '@schedule(daily=True, timezone="{{ prefect.variables.x }}")')


def test_argo_env_var_with_argo_expression_is_refused(tmp_path):
    """Argo has no escape for '{{': the value cannot reach the pod literally, so
    the compile refuses it at the decorator rather than let Argo expand it."""
    files, diags = compile_source(tmp_path, "argo", step_decos='@environment(vars={"X": "{{workflow.parameters.p}}"})')
    errors = [d for d in diags if d.severity == "error"]
    assert [(d.code, d.span.line) for d in errors] == [("FC501", 10)]
    assert errors[0].message.startswith("argo: ") and "{{workflow.parameters.p}}" in errors[0].message
    assert files == {}


def test_argo_kubernetes_strings_with_argo_tags_are_refused(tmp_path):
    for arg in ('image="img:{{workflow.name}}"', 'node_selector={"a": "{{=1}}"}', 'service_account="{{x}}"'):
        _files, diags = compile_source(tmp_path, "argo", step_decos=f"@kubernetes({arg})")
        errors = [d for d in diags if d.severity == "error"]
        assert errors and all(d.code == "FC501" and d.span.line == 10 for d in errors), (arg, diags)


def test_argo_file_name_with_argo_tag_is_refused(tmp_path):
    """The file name is in every step's command line, where Argo substitutes."""
    _files, diags = compile_source(tmp_path, "argo", file_name="{{workflow.parameters.p}}.py")
    errors = [d for d in diags if d.severity == "error"]
    assert [d.code for d in errors] == ["FC501"] and "file" in errors[0].message


def test_prefect_option_with_placeholder_is_an_option_error(tmp_path):
    """An option that reaches prefect.yaml with {{ }} is named as the bad option (FC502)."""
    path = tmp_path / "hostile.py"
    path.write_text(FLOW.format(decos="", step_decos=""), encoding="utf-8")
    with pytest.raises(CompileError) as err:
        get_target("prefect")({"work_pool": "{{ $AWS_SECRET_ACCESS_KEY }}"}).compile(load_flow(path))
    errors = [d for d in err.value.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == ["FC502"] and "--work-pool" in errors[0].message
