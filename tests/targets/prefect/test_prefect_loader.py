"""Prefect's own tooling accepts every emitted module: its flow loader (what a
worker runs), the parameter schema its UI renders the run form from (from the
loaded flow, and from the source alone as `prefect deploy` reads it), and
the tasks' settings. No server is needed here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import load_ir

from .conftest import write_files
from .test_prefect_compile import CORPUS, compiled, corpus_id

JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def words(text):
    return " ".join((text or "").split())


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Each corpus flow compiled and loaded by Prefect: (IR, plan, flow object, module folder)."""
    from flowc.targets.prefect import PrefectTarget
    from prefect.flows import load_flow_from_entrypoint

    out = {}
    for path in CORPUS:
        files, _ = compiled(path)
        folder = write_files(files, tmp_path_factory.mktemp(path.stem))
        flow = load_ir(path)
        plan = PrefectTarget({}, "warning").plan(flow)
        out[path] = (flow, plan, load_flow_from_entrypoint(f"{folder / 'prefect_flow.py'}:{plan.flow_func}"), folder)
    return out


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_prefect_loads_the_flow_and_its_run_form(path: Path, loaded):
    from prefect.utilities.callables import parameter_schema, parameter_schema_from_entrypoint

    flow, plan, prefect_flow, folder = loaded[path]
    assert prefect_flow.name == flow.name
    if flow.docstring is not None:
        assert prefect_flow.description == flow.docstring
    else:  # Prefect falls back on the flow function's docstring: a one-line summary and the parameters' help
        assert prefect_flow.description.startswith(f"The {flow.name} flow.")
        for p in flow.parameters:
            if p.help:
                assert p.help.split("\n")[0] in prefect_flow.description
    assert prefect_flow.task_runner._max_workers == 8  # the max_workers option's default bounds the threads
    schema = parameter_schema(prefect_flow).model_dump_for_openapi()
    from_source = parameter_schema_from_entrypoint(f"{folder / 'prefect_flow.py'}:{plan.flow_func}")
    assert from_source.model_dump_for_openapi() == schema  # what `prefect deploy` sends to the server
    props = schema["properties"]
    py_name = {p.name: p.py for p in plan.params}
    # a triggered flow also takes the events that started it (optional: a run by hand has none)
    assert set(props) == set(py_name.values()) | ({plan.trigger_param} if plan.trigger_param else set())
    assert set(schema.get("required", [])) == {p.py for p in plan.params if p.default is None}
    if plan.trigger_param:
        assert props[plan.trigger_param]["default"] is None
    for p in flow.parameters:
        prop = props[py_name[p.name]]
        if p.required:
            assert "default" not in prop
        else:
            assert prop["default"] == p.default, p.name
        if p.type in JSON_TYPES and p.default is not None:
            assert prop["type"] == JSON_TYPES[p.type]
        assert words(prop.get("description")) == words(p.help), p.name


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_one_prefect_task_per_step_with_its_retries_and_timeout(path: Path, loaded):
    import importlib
    import sys

    from prefect import Task

    flow, plan, prefect_flow, folder = loaded[path]
    module = sys.modules[prefect_flow.fn.__module__]
    tasks = {t.name: t for t in vars(module).values() if isinstance(t, Task)}
    assert set(tasks) == {s.name for s in flow.steps}
    for s in flow.steps:
        t = tasks[s.name]
        d = s.decorators
        assert t.retries == (d.retry.times if d.retry else 0)
        if d.retry:
            assert t.retry_delay_seconds == d.retry.minutes_between_retries * 60
        # targets/base.py's one rule: @timeout + 60 s, else Metaflow's 5 days
        assert t.timeout_seconds == (d.timeout.seconds + 60 if d.timeout else 5 * 24 * 3600)
        assert t.description == s.docstring
    importlib.invalidate_caches()


def test_job_template_extends_prefect_kubernetes_default():
    """Every variable and job setting of prefect-kubernetes' own default template
    is in ours, with the same meaning; ours adds GPUs, disk, placement, volumes."""
    from prefect_kubernetes.worker import KubernetesWorker

    files, _ = compiled(CORPUS[0])
    ours = json.loads(files["kubernetes-job-template.json"])
    default = KubernetesWorker.get_default_base_job_template()
    for key, value in default["job_configuration"].items():
        if key != "job_manifest":
            assert ours["job_configuration"][key] == value
    for name, schema in default["variables"]["properties"].items():
        assert ours["variables"]["properties"][name] == schema, name
    container = ours["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "{{ nvidia_gpu }}"
    assert container["resources"]["requests"]["ephemeral-storage"] == "{{ ephemeral_storage_request }}"
    default_container = default["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    for key in ("args", "env", "image", "imagePullPolicy", "name"):
        assert container[key] == default_container[key]


@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_prefect_yaml_is_what_prefect_reads(path: Path, loaded):
    """prefect.yaml parses with Prefect's own model of it; each deployment's
    parameters conform to the flow's run form, and its job variables to the
    work pool template's variables (what the server checks on deployment)."""
    import yaml
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools.validation import is_valid_schema, validate

    flow, plan, prefect_flow, folder = loaded[path]
    doc = yaml.safe_load((folder / "prefect.yaml").read_text(encoding="utf-8"))
    model = PrefectYamlModel.model_validate(doc)
    template = json.loads((folder / "kubernetes-job-template.json").read_text())
    is_valid_schema(template["variables"])
    schema = parameter_schema(prefect_flow).model_dump_for_openapi()
    entrypoints = {f"prefect_flow.py:{plan.flow_func}"}
    if plan.has_containers:
        entrypoints.add("prefect_flow.py:container_step")
    assert {d.entrypoint for d in model.deployments} == entrypoints
    for d in model.deployments:
        assert validate(d.work_pool.job_variables, template["variables"], raise_on_error=True) == []
        if d.entrypoint.endswith(plan.flow_func):
            assert validate(d.parameters, schema, raise_on_error=True, ignore_required=True) == []
    assert len(model.deployments) == 1 + sum(1 for t in plan.tasks if t.container)
