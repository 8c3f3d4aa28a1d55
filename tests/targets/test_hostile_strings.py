"""Every user-controlled string is data in every output, for every target.

Hypothesis puts one hostile string (quotes, newlines, NUL, U+2028, U+0085,
Jinja and engine placeholders, shell and YAML markers) in one place of a
flow (docstrings, the file name, a Parameter's default and help, each string
decorator argument) and compiles it for one target. Either the compile
refuses it with a diagnostic that names the target and points into the flow
file, or the output, read by the engine's own loader and templating:

- has the structure it has for a harmless string (Python: the AST with
  constants blanked; YAML/JSON: the engine's placeholders and `.$` paths),
  so nothing the user wrote became code, a key or an expression;
- holds the string exactly, somewhere, as a value;
- keeps it through the engine's substitution: Airflow's Jinja on the
  template_fields of the pod operator, Prefect's apply_values and
  find_placeholders on prefect.yaml, Argo's tag rules (tests/targets/argo),
  the Step Functions `.$` rules (ASL paths and intrinsic functions), KFP's
  placeholders (in the executors and the platform spec, no `{{` but flowc's
  own `{{$.…}}`: targets/kubeflow/placeholders.py).

The budget is fixed (EXAMPLES per target) so `make test` stays fast."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowc.compiler import load_flow
from flowc.compiler.diagnostics import CODES, CompileError
from flowc.targets import registry

from .argo.argo_expr import tags as argo_tags

TARGETS = ("argo", "airflow", "prefect", "stepfunctions", "kubeflow")
EXAMPLES = 10  # per target and place (52 pairs): the whole file runs in well under a minute

NASTY = ['"', "'", "\\", "\n", "\r\n", "\x00", "\u2028", "\x85", "\t", "{{ x }}", "{{workflow.parameters.p}}",
         "{{ $AWS_SECRET_ACCESS_KEY }}", "{{ prefect.variables.x }}", "{% raw %}", "{#", "$(touch PWNED)",
         "${HOME}", "`id`", "$.a", "States.Format('{}', $.x)", "- ", ": ", "#", "&a", "*a", "!!python/object:os.system",
         "---", "'''", '"""', "ünï ✓ 日本", "\ufeff"]
hostile = st.lists(st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)),
                   min_size=1, max_size=4).map("".join).filter(bool)

# Each place: how a text goes into the flow source. {k8s} is @kubernetes or,
# for Step Functions, @batch (Batch jobs are where its container options go).
PLACES = {
    "flow_doc": lambda t: {"flow_doc": repr(t)},
    "step_doc": lambda t: {"step_doc": repr(t)},
    "param_default": lambda t: {"default": repr(t)},
    "param_help": lambda t: {"help": repr(t)},
    "env_value": lambda t: {"env": f"{{'HOSTILE': {t!r}}}"},
    "image": lambda t: {"k8s_args": f"image={t!r}"},
    "node_selector": lambda t: {"k8s_args": f"node_selector={{'disk': {t!r}}}"},
    "service_account": lambda t: {"k8s_args": f"service_account={t!r}"},
    "label": lambda t: {"k8s_args": f"labels={{'team': {t!r}}}"},
    "secret": lambda t: {"k8s_args": f"secrets=[{t!r}]"},
    "project_branch": lambda t: {"project": f"@project(name='demo', branch={t!r})"},
    "timezone": lambda t: {"schedule": f"@schedule(daily=True, timezone={t!r})"},
    "file_name": lambda t: {"file": t},
}

FLOW = '''from flowc import FlowSpec, Parameter, environment, kubernetes, batch, project, retry, resources, schedule, step


{project}
{schedule}
class HostileFlow(FlowSpec):
    {flow_doc}

    text = Parameter("text", default={default}, help={help})

    @{k8s}({k8s_args})
    @environment(vars={env})
    @resources(cpu=1, memory=512)
    @retry(times=2)
    @step
    def start(self):
        {step_doc}
        self.value = self.text
        self.next(self.end)

    @step
    def end(self):
        pass
'''
DEFAULTS = {"flow_doc": "'Doc.'", "step_doc": "'Doc.'", "default": "'plain'", "help": "'help'",
            "env": "{'HOSTILE': 'plain'}", "k8s_args": "", "project": "", "schedule": "", "file": "hostile"}


def harmless(text: str) -> str:
    """A string of the same shape that no engine treats specially."""
    return f"harmless{len(text)}z"


def compile_place(folder: Path, target: str, place: str, text: str):
    """(flow, files, diagnostics) or (None, None, diagnostics) when the front end refuses."""
    fields = {**DEFAULTS, **PLACES[place](text)}
    file_stem = fields.pop("file").replace("/", "_").replace("\x00", "_")[:100] or "_"
    fields["k8s"] = "batch" if target == "stepfunctions" else "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_stem}.py"
    path.write_text(FLOW.format(**fields), encoding="utf-8")
    try:
        flow = load_flow(path)
    except CompileError as err:
        return None, None, err.diagnostics
    try:
        out = registry.get(target)({}).compile(flow)
    except CompileError as err:
        return flow, None, err.diagnostics
    errors = [d for d in out.diagnostics if d.is_error]
    return flow, (None if errors else out.files), out.diagnostics


def check_diagnostics(diagnostics, target: str | None) -> None:
    """A refusal is a proper diagnostic: a known code, a place in the flow file,
    and, from a target, the target's name."""
    errors = [d for d in diagnostics if d.is_error]
    assert errors
    for d in errors:
        assert d.code in CODES and d.span.line >= 1 and d.span.col >= 1, d
        if target and d.code.startswith("FC5"):
            assert d.message.startswith(f"{target}: "), d.message


# ------------------------------------------------------------------ reading the outputs

class _Blank(ast.NodeTransformer):
    def visit_Call(self, node):
        if getattr(node.func, "id", None) == "literal":  # Airflow's "do not render": a value, as data
            return ast.Constant(value="_")
        return self.generic_visit(node)

    def visit_Constant(self, node):
        return ast.Constant(value="_")

    def visit_JoinedStr(self, node):
        return ast.Constant(value="_")


def py_shape(source: str) -> str:
    return ast.dump(_Blank().visit(ast.parse(source)))


def py_strings(source: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def data_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in data_strings(k) + data_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in data_strings(v)]
    return []


def loaded(files: dict[str, bytes]) -> dict[str, Any]:
    """Each output read by its format's loader (Python as an AST dump)."""
    out = {}
    for name, data in files.items():
        text = data.decode("utf-8")
        if name.endswith(".py"):
            out[name] = text
        elif name.endswith((".yaml", ".yml")):
            out[name] = list(yaml.safe_load_all(text))
        elif name.endswith(".json"):
            out[name] = json.loads(text)
    return out


def all_strings(docs: dict[str, Any]) -> list[str]:
    return [s for name, doc in docs.items()
            for s in (py_strings(doc) if name.endswith(".py") else data_strings(doc))]


def shape(name: str, doc: Any) -> Any:
    """What must not change when a value does: code structure, and the places
    where the engine substitutes or evaluates."""
    if name.endswith(".py"):
        return py_shape(doc)
    if name.endswith((".yaml", ".yml")) and all(isinstance(d, dict) and "kind" in d for d in doc):  # Argo
        # metadata is not substituted (the UI shows the description), nor are the workflow's argument
        # values (parameters: test_argo_hostile runs them through the harness)
        doc = [_argo_templated(d.get("spec") or {}) for d in doc]
    strings = data_strings(doc)
    if name.endswith(".pipeline.yaml"):  # Kubeflow: what KFP resolves placeholders in
        doc = [doc[0]["deploymentSpec"], *doc[1:]]  # the executors and the platform spec, not descriptions
        strings = data_strings(doc)
    if name.endswith(".json") and not name.startswith("kubernetes-job-template"):  # Step Functions
        return Counter((k, asl_shape(v)) for k, v in _dollar_pairs(doc))
    return Counter(tag for s in strings for tag in argo_tags(s)) if name.endswith((".yaml", ".yml")) else None


_ASL_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")


def asl_shape(value: str) -> str:
    """A `.$` value with the string literals of its intrinsic functions blanked
    (ASL: '...' with backslash escapes): paths and calls must not change."""
    return _ASL_STRING.sub("''", value)


def _argo_templated(spec: dict) -> dict:
    spec = {k: v for k, v in spec.items() if k != "arguments"}
    if "workflowSpec" in spec:
        spec["workflowSpec"] = _argo_templated(spec["workflowSpec"])
    return spec


def _dollar_pairs(value: Any):
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and k.endswith(".$"):
                yield k, v if isinstance(v, str) else json.dumps(v)
            yield from _dollar_pairs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dollar_pairs(v)


# ------------------------------------------------------------------ engine templating

def airflow_rendered(source: str, text: str) -> list[tuple[str, str]]:
    """(value, what Airflow's Jinja makes of it) for every string in a
    template_field of the pod operator that is not wrapped in literal()."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk.definitions._internal.templater import SandboxedEnvironment

    env = SandboxedEnvironment()
    fields = set(KubernetesPodOperator.template_fields)
    found = []

    def walk(node):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "literal":
            return  # airflow.sdk.literal: never rendered
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        for child in ast.iter_child_nodes(node):
            walk(child)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "KubernetesPodOperator":
            for kw in node.keywords:
                if kw.arg in fields:
                    walk(kw.value)
    context = {"run_id": "RUN", "ti": None, "params": {}, "dag_run": None}
    return [(v, env.from_string(v).render(**context)) for v in found if text in v]


def check_engine_templating(target: str, docs: dict[str, Any], text: str) -> None:
    if target == "airflow":
        (module,) = [d for n, d in docs.items() if n.endswith(".py")]
        for value, rendered in airflow_rendered(module, text):
            assert rendered == value, (value, rendered)
    elif target == "prefect":
        from prefect.utilities.templating import apply_values, find_placeholders

        (doc,) = docs["prefect.yaml"]
        doc = _without_none(doc)  # apply_values takes no nulls (prefect deploy skips them)
        assert not find_placeholders(doc), find_placeholders(doc)
        assert apply_values(doc, {"x": "SUBSTITUTED"}) == doc
    elif target == "argo":
        for name, doc in docs.items():
            for s in data_strings(doc):
                if text in s and "{{" not in text:
                    assert not argo_tags(s) or all(t not in text for t in argo_tags(s)), s
    elif target == "kubeflow":  # every {{...}} where KFP resolves placeholders is flowc's own {{$.…}}
        for name, doc in docs.items():
            if name.endswith(".pipeline.yaml"):
                for s in data_strings([doc[0]["deploymentSpec"], *doc[1:]]):
                    assert all(t.startswith("$.") for t in argo_tags(s)), s
    elif target == "stepfunctions":
        for name, doc in docs.items():
            if name.endswith(".json"):
                for key, value in _dollar_pairs(doc):  # outside its string literals, no user text in a `.$` value
                    assert len(text) < 3 or text not in asl_shape(value), (key, value)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


# ------------------------------------------------------------------ the property

@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    cache: dict[tuple, Any] = {}

    def get(target: str, place: str, text: str):
        key = (target, place, harmless(text))
        if key not in cache:
            folder = tmp_path_factory.mktemp("baseline")
            _, files, _ = compile_place(folder, target, place, harmless(text))
            docs = None if files is None else loaded(files)
            cache[key] = None if docs is None else (
                {n: shape(n, d) for n, d in docs.items()}, any(harmless(text) in s for s in all_strings(docs)))
        return cache[key]

    return get


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("target", TARGETS)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=hostile)
def test_hostile_string_is_data_or_refused(tmp_path_factory, baselines, target, place, text):
    folder = tmp_path_factory.mktemp("hostile")
    flow, files, diagnostics = compile_place(folder, target, place, text)
    if files is None:
        event("refused")
        check_diagnostics(diagnostics, target if flow is not None else None)
        return
    event("compiled")
    assert not (folder / "PWNED").exists()
    docs = loaded(files)
    base, carried = baselines(target, place, text) or (None, False)
    expected = {"flow_doc": flow.docstring, "step_doc": flow.steps["start"].docstring if isinstance(flow.steps, dict)
                else next(st_.docstring for st_ in flow.steps if st_.name == "start")}.get(place, text)
    if base is not None and expected:  # (a blank docstring is no docstring)
        for name, doc in docs.items():
            if name in base:
                assert shape(name, doc) == base[name], f"{name}: the structure changed for {text!r} in {place}"
    if target in ("argo", "stepfunctions", "kubeflow") and place == "project_branch":
        expected = None  # only a part of an object name there (Kubernetes, AWS, a KFP pipeline), made legal
    if carried and expected and place != "file_name":  # what the target writes at all (a file name is shortened)
        shown = [expected, json.dumps(expected, ensure_ascii=False), json.dumps(expected)]  # or as JSON text
        if place.endswith("_doc") and expected.strip():  # a Comment may show a docstring trimmed, or its first line
            shown += [expected.strip(), expected.strip().splitlines()[0]]
        assert any(form in s for s in all_strings(docs) for form in shown), \
            f"{expected!r} ({place}) is in no value of the output"
    check_engine_templating(target, docs, text)
