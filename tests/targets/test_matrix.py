"""The conformance matrix: every corpus flow (examples/ and tests/flows/)
against every registered target, and every engine (sqlglot's validate_all
idea: one flow, all its outputs, read together).

- It compiles, or is refused with FC501 exactly as the target's capability
  table says (targets/base.py ``uses`` and ``CAPABILITIES``).
- Two compiles give the same bytes.
- Every step points back at its flow.py:LINE (targets/base.py ``source_ref``).
- The output does not grow with the width of a foreach (the items are data).
- The same flow means the same thing on every target: memory, CPU, GPU,
  default requests, the @project deployment name, timeouts, retries and
  parameter defaults, read from each target's own files by a small reader.
- On every engine (tests/support/engines.py), a run leaves the same
  artifacts at every task as `flowc run`.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowc.targets import registry
from flowc.targets.base import carried_options, source_ref, uses
from flowc.targets.resources import asked_of as resources_of
from tests.conftest import ALL_FLOWS, flow_id, load_ir
from tests.support import engines
from tests.support.artifacts import run_artifacts
from tests.support.corpus import refusal

TARGETS = registry.names()
CASES = [(target, path) for path in ALL_FLOWS for target in TARGETS]


def case_id(case) -> str:
    target, path = case
    return f"{target}-{flow_id(path)}"


def compile_files(target: str, path: Path, **options: Any) -> dict[str, bytes]:
    return registry.get(target)(options).compile(load_ir(path)).files


def compiles(target: str, path: Path) -> bool:
    return not refusal(target, path)


# ------------------------------------------------------------ capabilities


@pytest.mark.parametrize("target, path", CASES, ids=[case_id(c) for c in CASES])
def test_compiles_or_is_refused_as_the_capability_table_says(target, path):
    """A construct the table says no to is refused with FC501 at its line,
    naming the target and the construct; a flow using none compiles, unless
    the target names a value it cannot express (FC501 at the decorator that
    holds it, e.g. a secret name that is not a Kubernetes name)."""
    flow = load_ir(path)
    table = registry.get(target).CAPABILITIES
    assert set(table) >= {construct for construct, _, _ in uses(flow)}, "the table lacks a construct"
    expected = [(span.line, f"{target}: {what} cannot be expressed") for construct, span, what in uses(flow)
                if not table[construct].supported]
    errors = refusal(target, path)
    for line, message in expected:
        assert any(d.span.line == line and d.message.startswith(message) for d in errors), (line, message, errors)
    for d in errors:
        assert d.code == "FC501" and d.message.startswith(f"{target}: ") and d.span.file == flow.source.path, d
    # refusals beyond the table point at a construct or carried option the flow uses
    at = {span.line for _, span, _ in uses(flow)} | {span.line for *_, span, _ in carried_options(flow)}
    assert {d.span.line for d in errors} <= at, errors
    if not errors:
        assert compile_files(target, path)


# ------------------------------------------------------------ determinism and source lines

COMPILED = [(t, p) for t, p in CASES if compiles(t, p)]


@pytest.mark.parametrize("target, path", COMPILED, ids=[case_id(c) for c in COMPILED])
def test_two_compiles_give_the_same_bytes(target, path):
    from flowc.compiler import load_flow
    from tests.conftest import REPO

    import os

    cwd = os.getcwd()
    os.chdir(REPO)
    try:  # each from a fresh analysis of the source
        first = registry.get(target)({}).compile(load_flow(path.relative_to(REPO))).files
        second = registry.get(target)({}).compile(load_flow(path.relative_to(REPO))).files
    finally:
        os.chdir(cwd)
    assert first == second


# Libraries that change process-wide state at import (hera replaces SafeDumper's str representer)
ENGINE_LIBRARIES = "import hera.workflows.models, prefect, yaml"


@pytest.mark.parametrize("target", TARGETS)
def test_same_bytes_whatever_else_the_process_imported(target):
    """A compile in a fresh process, and in one that imported the engines' own
    libraries first (a CI job, a test session, a DAG processor), writes the same bytes."""
    import hashlib
    import subprocess
    import sys

    from tests.conftest import REPO

    script = ("import hashlib, sys\n{pre}\n"
              "from flowc.compiler import load_flow\nfrom flowc.targets import registry\n"
              "for path in sys.argv[1:]:\n"
              "    files = registry.get({target!r})({{}}).compile(load_flow(path)).files\n"
              "    for name in sorted(files):\n"
              "        print(path, name, hashlib.sha256(files[name]).hexdigest())\n")
    paths = [str(p.relative_to(REPO)) for t, p in COMPILED if t == target][:12]
    outs = []
    for pre in ("", ENGINE_LIBRARIES):
        run = subprocess.run([sys.executable, "-c", script.format(pre=pre, target=target), *paths], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        outs.append(run.stdout)
    assert outs[0] == outs[1] and outs[0]


@pytest.mark.parametrize("target, path", COMPILED, ids=[case_id(c) for c in COMPILED])
def test_every_step_points_back_at_its_line(target, path):
    flow = load_ir(path)
    text = "\n".join(data.decode("utf-8") for data in compile_files(target, path).values())
    missing = [s.name for s in flow.steps if source_ref(flow, s.span) not in text]
    assert not missing, f"no {', '.join(source_ref(flow, s.span) for s in flow.steps if s.name in missing)}"


WIDTH_FLOW = '''from flowc import FlowSpec, step


class WidthFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [{rows}]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.cells = list(range(self.input))
        self.next(self.cell, foreach="cells")

    @step
    def cell(self):
        self.double = self.input * 2
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.total = sum(i.double for i in inputs)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.total for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("target", TARGETS)
def test_output_size_is_flat_in_foreach_width(target, tmp_path):
    """A foreach over 2 items and one over 20,000 (nested): the same output
    size, byte for byte but for the source's hash."""
    from flowc.compiler import load_flow

    outputs = []
    path = tmp_path / "width.py"
    for rows in (2, 20_000):
        path.write_text(WIDTH_FLOW.format(rows=", ".join(str(i % 7) for i in range(rows))))
        files = registry.get(target)({}).compile(load_flow(path)).files
        outputs.append({name: re.sub(rb"[0-9a-f]{12,64}", b"<sha>", data) for name, data in files.items()})
    assert {k: len(v) for k, v in outputs[0].items()} == {k: len(v) for k, v in outputs[1].items()}
    assert outputs[0] == outputs[1]


# ------------------------------------------------------------ cross-target readers
#
# Each reader gives, from a target's own files: {"deployment": name,
# "params": {name: default}, "steps": {step: {"cpu", "memory" (MiB),
# "gpu", "retries", "timeout" (seconds)}}}; None where the output says nothing.

_UNITS = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9,
          "T": 10 ** 12, "": 1}


def mib(quantity: Any) -> float | None:
    """A Kubernetes memory quantity in MiB ("16000Mi", "16000M", "1Gi")."""
    if quantity is None:
        return None
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity)).groups()
    return round(float(number) * _UNITS[unit] / 2 ** 20, 3)


def cpus(quantity: Any) -> float | None:
    if quantity is None:
        return None
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def pod_facts(requests: dict, limits: dict, retries: Any, timeout: Any) -> dict:
    both = {**(limits or {}), **(requests or {})}
    gpus = [int(v) for k, v in {**(requests or {}), **(limits or {})}.items() if "gpu" in k]
    return {"cpu": cpus(both.get("cpu")), "memory": mib(both.get("memory")), "gpu": sum(gpus) if gpus else None,
            "retries": int(retries) if retries else 0, "timeout": int(timeout) if timeout else None}


def default_value(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def read_argo(flow, files: dict[str, bytes]) -> dict:
    (data,) = files.values()
    doc = next(d for d in yaml.safe_load_all(data) if d)
    spec = doc["spec"].get("workflowSpec", doc["spec"])
    templates = {t["name"]: t for t in spec["templates"]}
    by_step = {}
    for t in templates.values():
        if "container" in t:
            argv = t["container"].get("command", []) + t["container"].get("args", [])
            if "--step" in argv:
                by_step[argv[argv.index("--step") + 1]] = t
    steps = {}
    for s in flow.steps:
        t = by_step.get(s.name, templates.get("run-step"))
        res = t["container"].get("resources", {})
        steps[s.name] = pod_facts(res.get("requests"), res.get("limits"), t.get("retryStrategy", {}).get("limit"),
                                  t.get("activeDeadlineSeconds"))
    # no default is an empty value (the target's tasks read "" as null)
    params = {p["name"]: default_value(p.get("value")) if p.get("value") != "" else None
              for p in spec.get("arguments", {}).get("parameters", [])}
    return {"deployment": doc["metadata"]["name"], "params": params, "steps": steps}


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def read_airflow(flow, files: dict[str, bytes]) -> dict:
    (data,) = files.values()
    tree = ast.parse(data)
    tasks, deployment, params = {}, None, {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        if getattr(node.func, "id", None) == "DAG":
            deployment = _literal(kw["dag_id"])
            if isinstance(kw.get("params"), ast.Dict):
                params = {_literal(k): _literal(v.args[0]) if isinstance(v, ast.Call) and v.args else None
                          for k, v in zip(kw["params"].keys, kw["params"].values)}
        elif "task_id" in kw and _literal(kw["task_id"]) in flow.steps_by_name:
            requests = limits = {}
            res = kw.get("container_resources")
            if isinstance(res, ast.Call):
                rk = {k.arg: k.value for k in res.keywords}
                requests, limits = _literal(rk.get("requests")) or {}, _literal(rk.get("limits")) or {}
            overrides = kw.get("container_overrides")
            if isinstance(overrides, ast.Dict):  # AWS Batch: its resourceRequirements
                fields = {_literal(k): v for k, v in zip(overrides.keys, overrides.values)}
                req = {r["type"]: r["value"] for r in _literal(fields.get("resourceRequirements", ast.List([])))}
                requests = {"cpu": req.get("VCPU"), "memory": f"{req['MEMORY']}Mi" if "MEMORY" in req else None,
                            "gpu": req.get("GPU")}
                requests = {k: v for k, v in requests.items() if v is not None}
            timeout = None
            if isinstance(kw.get("execution_timeout"), ast.Call):
                timeout = timedelta_seconds(kw["execution_timeout"])
            tasks[_literal(kw["task_id"])] = pod_facts(requests, limits, _literal(kw.get("retries", ast.Constant(0))),
                                                       timeout)
    return {"deployment": deployment, "params": params, "steps": tasks}


def timedelta_seconds(call: ast.Call) -> int:
    scale = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
    return int(sum(_literal(k.value) * scale[k.arg] for k in call.keywords))


def read_prefect(flow, files: dict[str, bytes]) -> dict:
    doc = yaml.safe_load(files["prefect.yaml"])
    flow_pod, *step_pods = doc["deployments"]
    own = {d["name"].rsplit(".", 1)[-1]: d["work_pool"]["job_variables"] for d in step_pods}
    tree = ast.parse(files["prefect_flow.py"])
    tasks, params = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "task":
                    kw = {k.arg: _literal(k.value) for k in deco.keywords}
                    tasks[kw["name"]] = kw
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "flow":
                    # the defaults are the flow function's (prefect.yaml repeats those it can hold)
                    args = node.args.args
                    for arg, default in zip(args[len(args) - len(node.args.defaults):], node.args.defaults):
                        params[arg.arg] = _literal(default)
    steps = {}
    for s in flow.steps:
        jv = own.get(s.name, flow_pod["work_pool"]["job_variables"])
        gpu = {k: v for k, v in jv.items() if "gpu" in k}
        requests = {"cpu": jv.get("cpu_request"), "memory": jv.get("memory_request"), **gpu}
        limits = {"cpu": jv.get("cpu_limit"), "memory": jv.get("memory_limit")}
        task = tasks.get(s.name, {})
        steps[s.name] = pod_facts({k: v for k, v in requests.items() if v is not None},
                                  {k: v for k, v in limits.items() if v is not None},
                                  task.get("retries"), task.get("timeout_seconds"))
        steps[s.name]["shared_pod"] = s.name not in own  # runs in the flow run's own pod
    return {"deployment": flow_pod["name"], "params": params, "steps": steps}


def read_stepfunctions(flow, files: dict[str, bytes]) -> dict:
    asl = json.loads(files[f"{flow.name}.asl.json"])
    jobs = json.loads(files[f"{flow.name}.batch-jobs.json"])
    template = json.loads(files[f"{flow.name}.template.json"])
    by_name = {}
    for job in jobs:
        argv = job["containerProperties"]["command"]
        by_name[job["jobDefinitionName"]] = (argv[argv.index("--step") + 1], job)
    steps = {}

    def walk(states: dict) -> None:
        for state in states["States"].values():
            definition = (state.get("Parameters") or {}).get("JobDefinition")
            if state["Type"] == "Task" and definition in by_name:
                step, job = by_name[definition]
                req = {r["type"]: r["value"] for r in job["containerProperties"].get("resourceRequirements", [])}
                retry = max((r.get("MaxAttempts", 3) for r in state.get("Retry", [])), default=0)
                steps[step] = {"cpu": cpus(req.get("VCPU")), "memory": float(req["MEMORY"]) if "MEMORY" in req else None,
                               "gpu": int(req["GPU"]) if "GPU" in req else None, "retries": retry,
                               "timeout": state.get("TimeoutSeconds")}
            for branch in state.get("Branches", []):
                walk(branch)
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    walk(state[key])

    walk(asl)
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    # the state machine holds no parameter defaults: the runtime applies them from the IR
    return {"deployment": machine["Properties"]["StateMachineName"], "params": None, "steps": steps}


def read_kubeflow(flow, files: dict[str, bytes]) -> dict:
    from flowc.targets.kubeflow import package_name

    spec, *platform = [d for d in yaml.safe_load_all(files[package_name(flow)]) if d]
    executors = spec["deploymentSpec"]["executors"]
    k8s = platform[0]["platforms"]["kubernetes"]["deploymentSpec"]["executors"] if platform else {}
    retries = {}

    def walk(dag: dict) -> None:
        for task in dag["tasks"].values():
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                walk(component["dag"])
            else:
                retries[component["executorLabel"]] = task.get("retryPolicy", {}).get("maxRetryCount", 0)

    walk(spec["root"]["dag"])
    steps = {}
    for label, executor in executors.items():
        argv = executor["container"]["command"]
        res = executor["container"].get("resources", {})
        requests = {"cpu": res.get("resourceCpuRequest"), "memory": res.get("resourceMemoryRequest")}
        limits = {"cpu": res.get("resourceCpuLimit"), "memory": res.get("resourceMemoryLimit")}
        if "accelerator" in res:
            limits[res["accelerator"]["resourceType"]] = res["accelerator"]["resourceCount"]
        steps[argv[argv.index("--step") + 1]] = pod_facts(
            {k: v for k, v in requests.items() if v is not None}, {k: v for k, v in limits.items() if v is not None},
            retries.get(label), k8s.get(label, {}).get("activeDeadlineSeconds"))
    inputs = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    # a JSON parameter is a STRING input holding its JSON text
    params = {name: default_value(p["defaultValue"]) if p["parameterType"] == "STRING" else p["defaultValue"]
              for name, p in inputs.items() if "defaultValue" in p}
    params.update({name: None for name, p in inputs.items() if "defaultValue" not in p})
    return {"deployment": spec["pipelineInfo"]["name"], "params": params, "steps": steps}


READERS = {"argo": read_argo, "airflow": read_airflow, "prefect": read_prefect, "stepfunctions": read_stepfunctions,
           "kubeflow": read_kubeflow}


def test_every_target_has_a_reader():
    assert set(READERS) == set(TARGETS)


_FACTS: dict[Path, dict[str, dict]] = {}


def facts(path: Path) -> dict[str, dict]:
    """{target: what its reader found} for every target that compiles the flow."""
    if path not in _FACTS:
        flow = load_ir(path)
        _FACTS[path] = {t: READERS[t](flow, compile_files(t, path)) for t in TARGETS if compiles(t, path)}
    return _FACTS[path]


def disagreements(fact: str, wanted, at_least_on_shared_pods: bool = False) -> list[str]:
    """Where the targets that compile a flow read differently: 'flow step: {target: value}'.
    ``at_least_on_shared_pods``: a Prefect step that asks for no more than the flow
    run's own pod runs in that pod (docs/targets/prefect.md), which has at least
    what the step asked: it agrees when its value is no smaller."""
    out = []
    for path in ALL_FLOWS:
        flow = load_ir(path)
        per_target = facts(path)
        if len(per_target) < 2:
            continue
        for s in flow.steps:
            if not wanted(s):
                continue
            seen = {t: f["steps"].get(s.name, {}).get(fact) for t, f in per_target.items()}
            shared = {t for t, f in per_target.items() if f["steps"].get(s.name, {}).get("shared_pod")}
            if at_least_on_shared_pods and shared:
                others = {repr(v): v for t, v in seen.items() if t not in shared}
                if len(others) == 1:
                    (value,) = others.values()
                    seen = {t: (value if t in shared and v is not None and value is not None and v >= value else v)
                            for t, v in seen.items()}
            if len(set(map(repr, seen.values()))) > 1:
                out.append(f"{flow_id(path)} {s.name}: {seen}")
    return out


def _has(key):
    return lambda step: key in resources_of(step)


def test_same_memory_on_every_target():
    """@resources(memory=16000) is 16000 MiB: 16000Mi on a pod, MEMORY 16000 on AWS Batch."""
    assert disagreements("memory", _has("memory"), at_least_on_shared_pods=True) == []


def test_same_cpu_on_every_target():
    assert disagreements("cpu", _has("cpu")) == []


def test_same_gpu_on_every_target():
    assert disagreements("gpu", _has("gpu")) == []


def test_same_retries_on_every_target():
    assert disagreements("retries", lambda step: True) == []


def test_same_timeouts_on_every_target():
    """A step's @timeout, and the margin the orchestrator's own backstop leaves after it."""
    assert disagreements("timeout", lambda step: True) == []


@pytest.mark.parametrize("target", TARGETS)
def test_default_requests_for_steps_without_resources(target):
    """A step that asks for nothing runs with 1 CPU and 4096 MiB on every pod and Batch job."""
    wrong = []
    for path in ALL_FLOWS:
        if not compiles(target, path):
            continue
        flow = load_ir(path)
        got = facts(path)[target]["steps"]
        for s in flow.steps:
            if not resources_of(s) and s.name in got and (got[s.name]["cpu"], got[s.name]["memory"]) != (1.0, 4096.0):
                wrong.append(f"{flow_id(path)} {s.name}: cpu {got[s.name]['cpu']}, memory {got[s.name]['memory']}")
    assert wrong == []


def test_same_deployment_name_under_project():
    """Metaflow's rule (PROJECT.prod / PROJECT.test.BRANCH / PROJECT.user.NAME, then the flow's name),
    each target joining the parts with the characters it allows."""
    out = []
    for path in ALL_FLOWS:
        if load_ir(path).decorators.project is None:
            continue
        names = {t: f["deployment"] for t, f in facts(path).items()}
        if len({re.sub(r"[^a-z0-9]", "", n.lower()) for n in names.values()}) > 1:
            out.append(f"{flow_id(path)}: {names}")
    assert out == []


def _bare(name: str) -> str:
    """A parameter's name without the characters targets replace ('max-rows', 'max_rows', 'class_')."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def test_same_parameter_defaults_on_every_target():
    """Each parameter's default, as the deployment shows it (Step Functions' runtime applies
    them from the IR: its state machine holds none)."""
    out = []
    for path in ALL_FLOWS:
        flow = load_ir(path)
        per_target = {t: f["params"] for t, f in facts(path).items() if f["params"] is not None}
        for p in flow.parameters:
            if p.required:
                continue
            seen = {}
            for t, params in per_target.items():
                key = next((k for k in params if _bare(k) == _bare(p.name)), None)
                seen[t] = params.get(key) if key is not None else "<absent>"
            if len(set(json.dumps(v, sort_keys=True) for v in seen.values())) > 1:
                out.append(f"{flow_id(path)} {p.name}: {seen}")
    assert out == []


# ------------------------------------------------------------ engines

ENGINES = [name for name in engines.ENGINE_NAMES if name != "local"]  # `flowc run` is the reference


def engine_cases():
    for name in ENGINES:
        target = engines.engine(name).target
        for path in ALL_FLOWS:
            if compiles(target, path):  # a flow the target refuses does not run there (the table says so)
                yield pytest.param(name, path, id=f"{name}-{flow_id(path)}", marks=pytest.mark.engine)


ENGINE_CASES = list(engine_cases())


@pytest.fixture(scope="session")
def deployed(request):
    """Each engine with every flow of this session's cases deployed (once), and the runs of engines
    that run several at once started."""
    selected: dict[str, list[Path]] = {}
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if spec and item.originalname == "test_same_artifacts_as_flowc_run":
            selected.setdefault(spec.params["name"], []).append(spec.params["path"])
    done = set()

    def get(name: str):
        engine = engines.engine(name)
        datastore = engines.datastore_of(name)
        if name not in done:
            assert engine.available(), f"{name} is not installed: `make test` installs every engine"
            engine.deploy(selected.get(name, []), datastore)
            engine.prefetch(selected.get(name, []), datastore)
            done.add(name)
        return engine, datastore

    return get


_REFERENCE: dict[Path, tuple[bool, dict]] = {}


def reference(path: Path) -> tuple[bool, dict]:
    """(succeeded, artifacts) of `flowc run` of the flow, with the engines' parameters."""
    if path not in _REFERENCE:
        local = engines.engine("local")
        datastore = engines.datastore_of("local")
        run_id, ok = local.run_once(path, datastore)
        _REFERENCE[path] = ok, run_artifacts(str(datastore), load_ir(path).name, run_id)
    return _REFERENCE[path]


@pytest.mark.parametrize("name, path", ENGINE_CASES)
def test_same_artifacts_as_flowc_run(name, path, deployed):
    engine, datastore = deployed(name)
    flow = load_ir(path)
    run_id, ok = engine.run_once(path, datastore)
    local_ok, expected = reference(path)
    got = run_artifacts(str(datastore), flow.name, run_id)
    assert ok == local_ok, f"{name}: the run {'succeeded' if ok else 'failed'}, flowc run's did not"
    assert got == expected
    if ok:
        assert {flow.start, flow.end} <= set(got)
