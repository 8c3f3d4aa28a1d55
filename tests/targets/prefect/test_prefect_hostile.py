"""Hostile names, defaults, help texts and docstrings come out literally: the
emitted Python parses, holds them only as literals (no injected code) and
gives them back exactly; prefect.yaml round-trips them, or leaves out what
`prefect deploy` would substitute. Property-based, with hypothesis."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowc.compiler import CompileError, load_flow
from flowc.targets.prefect import PrefectTarget, py_docstring, py_literal, yaml_literal

from .conftest import write_files

NASTY = ["{{ x }}", "{{workflow.name}}", "{{ prefect.variables.v }}", "{{ $HOME }}", "${HOME}", "$(rm -rf /)",
         "$.path", '"""', "'''", "\\", "\\n", "\n", "\r\n", "\t", "{% raw %}", "{%", "#", "\u2028", "\x85", "\x00",
         "\x1b[31m", "ünïcödé", "日本", "✓", "\ufeff", "`uname`", "'", '"', "Args:", "Returns:", "    ", ": "]
hostile_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=8).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**12, max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=10)

FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


@FAST
@given(json_values)
def test_python_literals_are_exact(value):
    source = py_literal(value)
    assert ast.literal_eval(source) == value
    assert "\n" not in source and "\r" not in source  # one line, whatever the value


@FAST
@given(json_values)
def test_yaml_literals_are_exact(value):
    assert yaml.safe_load(f"key: {yaml_literal(value)}\n")["key"] == value


@FAST
@given(hostile_text)
def test_docstrings_are_exact(text):
    literal = py_docstring(text)
    assert ast.literal_eval(literal) == text
    tree = ast.parse(f"def f():\n    {py_docstring(text, indent='    ')}\n")
    assert [type(n) for n in tree.body[0].body] == [ast.Expr]


def flow_source(default, help_text, docstring, json_param: bool) -> str:
    ptype = ", type=JSONType" if json_param else ""
    return (
        "from flowc import FlowSpec, JSONType, Parameter, step\n\n\n"
        "class HostileGen(FlowSpec):\n"
        f"    {py_literal(docstring)}\n\n"
        f"    p = Parameter('p', default={default!r}{ptype}, help={help_text!r})\n\n"
        "    @step\n    def start(self):\n"
        f"        {py_literal(docstring)}\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")


def compile_generated(folder: Path, source: str):
    path = folder / "hostile_gen.py"
    path.write_text(source, encoding="utf-8")
    try:
        flow = load_flow(path)
    except CompileError:
        assume(False)  # not a flow the front end accepts: nothing to compile
    return flow, PrefectTarget({}).compile(flow).files


def shape(tree: ast.Module) -> list[str]:
    return [type(n).__name__ + (f":{n.name}" if hasattr(n, "name") else "") for n in tree.body]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    _, files = compile_generated(folder, flow_source("plain", "help", "doc", False))
    return shape(ast.parse(files["prefect_flow.py"]))


@SLOW
@given(default=st.one_of(hostile_text, json_values), help_text=hostile_text, docstring=hostile_text)
def test_hostile_parameters_and_docstrings_come_out_literally(tmp_path_factory, baseline, default, help_text,
                                                             docstring):
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    json_param = not isinstance(default, str)
    folder = tmp_path_factory.mktemp("gen")
    flow, files = compile_generated(folder, flow_source(default, help_text, docstring, json_param))
    (param,) = flow.parameters
    module = files["prefect_flow.py"].decode("utf-8")

    # Python: the same statements as for a benign flow, the values only in literals
    tree = ast.parse(module)
    assert shape(tree) == baseline
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "hostile_gen")
    if param.default is not None:
        assert ast.literal_eval(func.args.defaults[0]) == param.default
    first, *rest = ast.get_docstring(func, clean=False).split("\n")
    shown = "\n".join([first] + [line[4:] if line.startswith("    ") else line for line in rest])
    assert shown.startswith((flow.docstring or "The HostileGen flow.").strip())
    flow_deco = next(d for d in func.decorator_list if isinstance(d, ast.Call))
    description = {k.arg: k.value for k in flow_deco.keywords}.get("description")
    assert (ast.literal_eval(description) if description is not None else None) == flow.docstring

    # Prefect: the run form shows the default exactly, and the help text
    write_files(files, folder)
    schema = parameter_schema_from_entrypoint(f"{folder / 'prefect_flow.py'}:hostile_gen").model_dump_for_openapi()
    prop = schema["properties"]["p"]
    if param.default is not None:
        assert prop["default"] == param.default
    assert " ".join((prop.get("description") or "").split()) == " ".join((param.help or "").split())

    # prefect.yaml: the default exactly, or left out (with a note) when prefect deploy would substitute it
    doc = yaml.safe_load(files["prefect.yaml"])
    params = doc["deployments"][0].get("parameters") or {}
    if "p" in params:
        assert params["p"] == param.default
    else:
        assert "{{" in json.dumps(param.default, ensure_ascii=False)
        assert '# "p": default kept in the flow\'s signature' in files["prefect.yaml"].decode("utf-8")
