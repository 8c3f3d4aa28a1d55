"""Hostile parameter names, defaults, help texts, environment values and
docstrings (quotes, newlines, backslashes, {{ }}, ${ }, $., unicode) come out
of the Airflow target literally: the DAG file still parses, has exactly the
structure it has for harmless values (so no text escaped its literal), and
Airflow itself reads back every value intact."""

from __future__ import annotations

import ast
import re

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.compiler import analyze_source

NASTY = ["{{ run_id }}", "{% raw %}", "{#", "${HOME}", "$.x", '"""', "'''", "\\", "\n", "\r\n", "\t", "\x00",
         "\u2028", "ünïcödé ✓", "日本", "`uname`", "$(rm -rf /)", "#", "%s", "}}", "\\N{BULLET}", "\\x41", "end.md"]
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)  # what a UTF-8 file can hold
texts = st.lists(st.one_of(st.sampled_from(NASTY), any_text), max_size=6).map("".join)
names = st.from_regex(r"[A-Za-zÀ-ÿ][A-Za-z0-9_\-À-ÿ]{0,12}", fullmatch=True).filter(
    lambda n: n[0].isalpha() and all(c.isalnum() or c in "_-" for c in n))  # what flowc accepts
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=6)

FLOW = '''from flowc import FlowSpec, JSONType, Parameter, environment, kubernetes, step


class HostileGenFlow(FlowSpec):
    {doc}

    first = Parameter({name!r}, default={default!r}, help={help!r})
    second = Parameter("payload", type=JSONType, default={payload!r}, help="json")

    @kubernetes(labels={{"team": {label!r}}})
    @environment(vars={{"HOSTILE": {env!r}}})
    @step
    def start(self):
        {step_doc}
        self.seen = self.first
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def flow_source(name, default, help_text, payload, env, label, doc, step_doc):
    import json

    return FLOW.format(name=name, default=default, help=help_text, payload=json.dumps(payload), env=env,
                       label=label, doc=repr(doc), step_doc=repr(step_doc))


def compile_source(source, tmp_path, **options):
    from flowc.targets.airflow import AirflowTarget

    path = tmp_path / "hostile_gen.py"
    path.write_text(source, encoding="utf-8")
    analysis = analyze_source(source, "hostile_gen.py", path)
    flow = analysis.flow()
    out = AirflowTarget(options).compile(flow)
    return flow, next(iter(out.files.values())).decode("utf-8")


class Shape(ast.NodeTransformer):
    """The AST with every constant blanked: what structure the code has."""

    def visit_Constant(self, node):
        return ast.Constant(value="_")

    def visit_JoinedStr(self, node):
        return ast.Constant(value="_")


def shape(text):
    return ast.dump(Shape().visit(ast.parse(text)))


def literal_args(text, func):
    """The literal arguments of every call to ``func`` in the file."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == func:
            found.append(([ast.literal_eval(a) for a in node.args],
                          {k.arg: ast.literal_eval(k.value) for k in node.keywords if _is_literal(k.value)}))
    return found


def _is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


JINJA = ("{{", "{%", "{#")


def benign(text):
    """A harmless string of the same shape: same length, same whitespace, and
    Jinja markers kept (text Jinja would change is wrapped in literal())."""
    out = "".join(ch if ch.isspace() else "x" for ch in text)
    return "{{" + out if any(m in text for m in JINJA) else out


def benign_json(value):
    if isinstance(value, str):
        return benign(value)
    if isinstance(value, list):
        return [benign_json(v) for v in value]
    if isinstance(value, dict):
        return {f"k{i}": benign_json(v) for i, v in enumerate(value.values())}
    return value


# label values Kubernetes accepts (targets/kubernetes.py check_pods refuses the rest, on every pod target)
labels = st.from_regex(r"\A([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?\Z")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(name=names, default=texts, help_text=texts, payload=json_values, env=texts, label=labels, doc=texts,
       step_doc=texts, version=st.sampled_from([3, 2]))
def test_hostile_text_is_carried_literally_and_changes_no_structure(tmp_path, name, default, help_text, payload, env,
                                                                    label, doc, step_doc, version):
    flow, text = compile_source(flow_source(name, default, help_text, payload, env, label, doc, step_doc), tmp_path,
                                airflow_version=version)
    harmless = flow_source("first", benign(default), benign(help_text), benign_json(payload), benign(env),
                           benign(label), benign(doc), benign(step_doc))
    _, harmless_text = compile_source(harmless, tmp_path, airflow_version=version)
    # the same code with other constants: no value escaped its literal
    assert shape(text) == shape(harmless_text)
    calls = literal_args(text, "Param")
    assert [c[0][0] for c in calls] == [default, payload]
    assert [c[1]["description"] for c in calls] == [help_text, "json"]
    params = next(node for node in ast.walk(ast.parse(text))
                  if isinstance(node, ast.keyword) and node.arg == "params").value
    assert [ast.literal_eval(k) for k in params.keys] == [name, "payload"]
    for line in text.splitlines():  # every comment stays one line of printable text
        if line.lstrip().startswith("#"):
            assert line.isprintable()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(name=names, default=texts, help_text=texts, payload=json_values, env=texts, label=labels, doc=texts)
def test_airflow_reads_every_hostile_value_back(airflow3, tmp_path, name, default, help_text, payload, env, label,
                                                 doc):
    import json

    source = flow_source(name, default, help_text, payload, env, label, doc, "step")
    flow, text = compile_source(source, tmp_path)
    dag_file = tmp_path / "dags" / "dag.py"
    dag_file.parent.mkdir(exist_ok=True)
    dag_file.write_text(text, encoding="utf-8")
    answer = airflow3.probe.ask(op="inspect", file=str(dag_file), dag_id="HostileGenFlow")
    assert answer["params"][name]["value"] == default
    assert answer["params"][name]["description"] == help_text
    assert answer["params"]["payload"]["value"] == payload
    assert (answer["doc_md"] or "").rstrip("\n") == (flow.docstring or "")
    pod = answer["tasks"]["start"]["pod"]
    container = pod["spec"]["containers"][0]
    assert {e["name"]: e["value"] for e in container["env"]} == {"HOSTILE": env}
    assert pod["metadata"]["labels"]["team"] == label
    command = container["command"]
    given = json.loads(command[command.index("--params") + 1])
    expected = {name: default, "payload": payload}
    assert given == {k: v for k, v in expected.items() if v is not None}  # a value left out is not passed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=texts.filter(lambda t: not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", t)))
def test_a_label_kubernetes_rejects_is_refused_before_anything_is_written(tmp_path, label):
    """As on every pod target (Argo, Prefect): FC501 naming the target, at the decorator."""
    from flowc.compiler.diagnostics import CompileError

    with pytest.raises(CompileError) as err:
        compile_source(flow_source("first", "", "", None, "", label, "", ""), tmp_path)
    assert any(d.code == "FC501" and "airflow" in d.message and "label" in d.message for d in err.value.diagnostics)
