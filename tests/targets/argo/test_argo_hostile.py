"""Hostile text comes out literally (property tests).

Parameter defaults, help texts and docstrings full of quotes, newlines,
backslashes, ``{{ }}``, ``${ }``, ``$.``, unicode and control characters:
the YAML parses back to exactly the values; the objects stay valid; and
after Argo's substitution passes (modelled by the harness) the start step
receives each value exactly, whether it is a default or given at
submission."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.compiler import load_flow
from flowc.targets.argo import writer as argo_yaml
from flowc.targets.argo import ArgoTarget
from flowc.targets.base import json_text
from tests.targets.argo.argo_checks import check_documents, load_documents
from tests.targets.argo.argo_harness import Harness
from tests.targets.argo.argo_support import requires_schemas

NASTY = ["{{workflow.name}}", "{{inputs.parameters.param-a}}", "{{=1+1}}", "{{pod.name}}", "{{retries}}", "}}",
         "{{", "${HOME}", "$(uname)", "`id`", "$.x", "\\", "\\u007b", '"', "'", "'''", '"""', "\n", "\r\n",
         "\t", "\x00", "\x85", "\u2028", "\ufeff", "ü", "日本", "✓", "#", ": ", "- ", "---", "...", "&a", "*a",
         "!tag", "%", "@", "{", "}", "[", "]", ",", "?", "|", ">", "~", "null", "true", "0x1", "1e3", " "]

hostile = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=8).map("".join)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(hostile)
def test_a_scalar_is_one_line_and_reads_back(text):
    out = argo_yaml.scalar(text)
    assert not any(b in out for b in "\n\r\x85\u2028\u2029")
    assert yaml.safe_load(f"key: {out}\n") == {"key": text}
    assert yaml.safe_load(f"- {out}\n") == [text]


@SETTINGS
@given(hostile)
def test_a_comment_cannot_break_out(text):
    lines = argo_yaml.comment_lines(text)
    assert all(line.startswith("#") and not any(b in line for b in "\n\r\x85\u2028\u2029") for line in lines)
    doc = argo_yaml.dump_documents([{"a": [argo_yaml.Commented({"b": text}, text)]}], header=text)
    assert yaml.safe_load(doc) == {"a": [{"b": text}]}


def flow_source(defaults: dict[str, object], helps: dict[str, str], doc: str) -> str:
    lines = [f"    {name} = Parameter({name!r}, default={value!r}, help={helps[name]!r})"
             for name, value in defaults.items()]
    return textwrap.dedent("""\
        from flowc import FlowSpec, Parameter, step


        class HostileGenFlow(FlowSpec):
            {doc}
        {params}

            @step
            def start(self):
                {doc}
                self.next(self.end)

            @step
            def end(self):
                pass
        """).format(doc=repr(doc), params="\n".join(lines))


def delivered(doc: dict, params: dict[str, str] | None = None) -> dict:
    """What the start step's --params holds once Argo has substituted it."""
    harness = Harness(doc, workdir=".", run_name="hostile-run", params=params)
    _, container = harness.render_pod(harness.templates["start"])
    args = container["args"]
    return json.loads(args[args.index("--params") + 1])


values = st.fixed_dictionaries({
    "a": hostile,
    "b": st.integers(-10**12, 10**12),
    "c": st.floats(allow_nan=False, allow_infinity=False, width=32),
    "d": st.booleans(),
})


@requires_schemas
@SETTINGS
@given(defaults=values, helps=st.fixed_dictionaries({k: hostile for k in "abcd"}), doc=hostile,
       override=hostile)
def test_defaults_help_and_docstrings_come_out_literally(tmp_path, defaults, helps, doc, override):
    path = tmp_path / "hostile_gen.py"
    path.write_text(flow_source(defaults, helps, doc), encoding="utf-8")
    flow = load_flow(path)
    out = ArgoTarget({}).compile(flow)
    (text,) = out.files.values()
    assert check_documents(text) == []
    (wt,) = load_documents(text)
    args = {p["name"]: p for p in wt["spec"]["arguments"]["parameters"]}
    for name, value in defaults.items():
        expected = value if isinstance(value, str) else json_text(flow.parameter(name).default)
        assert args[name]["value"] == expected
        assert args[name].get("description", "") == helps[name]
    assert wt["metadata"]["annotations"].get("workflows.argoproj.io/description", "") == (flow.docstring or "")
    # the start step gets every default, and every value given at submission, literally
    got = delivered(wt)
    assert got == {name: args[name]["value"] for name in defaults}
    assert delivered(wt, {"a": override})["a"] == override


def test_the_hostile_fixture(tmp_path):
    from tests.conftest import REPO

    flow = load_flow(REPO / "tests/flows/hostile.py")
    (wt,) = load_documents(next(iter(ArgoTarget({}).compile(flow).files.values())))
    got = delivered(wt)
    for p in flow.parameters:
        assert got[p.name] == (p.default if isinstance(p.default, str) else json_text(p.default))
    assert json.loads(got["payload"]) == {"k": 'v"q', "list": ["{{x}}", "$."]}


@pytest.mark.parametrize("value", ["", "{{workflow.name}}", "null"])
def test_an_optional_parameter_without_default(tmp_path, value):
    path = tmp_path / "opt.py"
    path.write_text(textwrap.dedent("""\
        from flowc import FlowSpec, Parameter, step


        class OptFlow(FlowSpec):
            limit = Parameter("limit", type=str, help="optional")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """))
    (wt,) = load_documents(next(iter(ArgoTarget({}).compile(load_flow(path)).files.values())))
    assert delivered(wt, {"limit": value})["limit"] == (None if value == "" else value)


@pytest.mark.parametrize("name", ["my-param", "UPPER_case", "x1", "index", "step"])
def test_parameter_names_argo_needs_to_quote(tmp_path, name):
    path = tmp_path / "names.py"
    path.write_text(textwrap.dedent(f"""\
        from flowc import FlowSpec, Parameter, step


        class NamesFlow(FlowSpec):
            value = Parameter({name!r}, default="{{{{workflow.name}}}}")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """))
    (text,) = ArgoTarget({}).compile(load_flow(path)).files.values()
    (wt,) = load_documents(text)
    assert delivered(wt) == {name: "{{workflow.name}}"}
    assert delivered(wt, {name: "{{=2}}"}) == {name: "{{=2}}"}
