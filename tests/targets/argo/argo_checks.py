"""Static checks of emitted Argo YAML (test code).

- ``validate_schemas``: Argo's published JSON schemas, strict variants
  (tests/data/argo, see its README): every object against
  ``workflow.schema.strict.json``, and every workflow spec against the
  CRD-derived ``workflow.schema.crd-strict.json``.
- ``round_trip``: each object through hera's typed models and back; any
  field the models do not know would be dropped, so the dump must equal
  the input.
- ``semantic_errors``: what no schema checks (Argo's own validator does it
  at submission, workflow/validate/validate.go): name lengths, cron lines
  and time zones; template references
  resolve; ``depends`` names tasks of the same DAG and has no cycle;
  templates call each other in a cycle only through a task guarded by
  ``when`` (a recursive switch); every ``{{...}}`` names an input, a
  workflow parameter, a global, an ancestor task's declared output, an item
  of a fan-out or the retry count of a template that retries; arguments
  match the inputs they feed.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

from tests.targets.argo.argo_expr import ExprError, member_paths, parse, tags

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO / "tests" / "data" / "argo"
DEF = "io.argoproj.workflow.v1alpha1."

GLOBALS = {"workflow.name", "workflow.namespace", "workflow.uid", "workflow.serviceAccountName",
           "workflow.mainEntrypoint", "workflow.creationTimestamp", "workflow.status", "workflow.duration"}


def load_documents(text: str | bytes) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


# ------------------------------------------------------------ schemas


@functools.lru_cache(maxsize=None)
def _validators():
    from jsonschema import Draft202012Validator

    strict = json.loads((SCHEMAS / "workflow.schema.strict.json").read_text())
    crd = json.loads((SCHEMAS / "workflow.schema.crd-strict.json").read_text())
    by_kind = {kind: Draft202012Validator({"definitions": strict["definitions"], "$ref": f"#/definitions/{DEF}{kind}"})
               for kind in ("Workflow", "WorkflowTemplate", "CronWorkflow")}
    return by_kind, Draft202012Validator(crd)


EVENTS_DEF = "io.argoproj.events.v1alpha1."
EVENTS_KINDS = {"Sensor": "argoproj.io_sensors.yaml", "EventSource": "argoproj.io_eventsources.yaml",
                "EventBus": "argoproj.io_eventbus.yaml"}


@functools.lru_cache(maxsize=None)
def _events_validators():
    """Argo Events' published JSON schema, closed (tests/data/argo/README.md),
    and its CRDs' openAPIV3Schema, per kind."""
    from jsonschema import Draft7Validator

    strict = json.loads((SCHEMAS / "argo-events.schema.strict.json").read_text())
    out = {}
    for kind, crd_file in EVENTS_KINDS.items():
        crd = yaml.safe_load((SCHEMAS / crd_file).read_text())
        (version,) = crd["spec"]["versions"]
        out[kind] = (Draft7Validator({"definitions": strict["definitions"], "$ref": f"#/definitions/{EVENTS_DEF}{kind}"}),
                     Draft7Validator(version["schema"]["openAPIV3Schema"]))
    return out


def events_schema_errors(doc: dict) -> list[str]:
    """A Sensor or EventSource against Argo Events' schemas; a Sensor's k8s
    trigger resources (free-form to Argo Events) that are Argo Workflows
    objects against Argo Workflows' schemas too."""
    kind = doc["kind"]
    strict, crd = _events_validators()[kind]
    errors = [f"Argo Events schema, {kind} at {'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in strict.iter_errors(doc)]
    errors += [f"Argo Events CRD, {kind} at {'/'.join(map(str, e.absolute_path))}: {e.message}"
               for e in crd.iter_errors(doc)]
    if kind == "Sensor":
        for i, trigger in enumerate(doc.get("spec", {}).get("triggers") or []):
            resource = (((trigger.get("template") or {}).get("k8s") or {}).get("source") or {}).get("resource")
            if isinstance(resource, dict) and resource.get("apiVersion") == "argoproj.io/v1alpha1":
                errors += [f"trigger {i} resource: {e}" for e in schema_errors(resource)]
    return errors


def schema_errors(doc: dict) -> list[str]:
    by_kind, crd = _validators()
    kind = doc.get("kind")
    if kind in EVENTS_KINDS:
        return events_schema_errors(doc)
    if kind not in by_kind:
        return [f"unknown kind {kind!r}"]
    errors = [f"strict schema, {kind} at {'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in by_kind[kind].iter_errors(doc)]
    spec = doc.get("spec", {})
    specs = [spec] if kind != "CronWorkflow" else [spec.get("workflowSpec", {})]
    for s in specs:
        as_workflow = {"apiVersion": doc["apiVersion"], "kind": "Workflow", "metadata": {}, "spec": s}
        errors += [f"CRD schema, {kind} spec at {'/'.join(map(str, e.absolute_path))}: {e.message}"
                   for e in crd.iter_errors(as_workflow)]
    return errors


# ------------------------------------------------------------ hera round trip


def round_trip_diff(doc: dict) -> list[str]:
    from hera.workflows import models as m

    if doc["kind"] in EVENTS_KINDS:  # hera's Argo Events models keep neither apiVersion/kind nor a
        return []                     # trigger's free-form resource: the schemas above check these
    cls = {"Workflow": m.Workflow, "WorkflowTemplate": m.WorkflowTemplate, "CronWorkflow": m.CronWorkflow}[doc["kind"]]
    back = cls.model_validate(doc).model_dump(by_alias=True, exclude_none=True, mode="json")
    return list(_diff(doc, back, ""))


def _diff(a: Any, b: Any, where: str) -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                yield f"{where}/{k}: dropped by hera's models"
            elif k not in a:
                yield f"{where}/{k}: added by hera's models"
            else:
                yield from _diff(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _diff(x, y, f"{where}/{i}")
    elif a != b or type(a) is not type(b):
        yield f"{where}: {a!r} became {b!r}"


# ------------------------------------------------------------ semantics

_DEPENDS_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z0-9][-A-Za-z0-9]*(\.[A-Za-z]+)?)")
RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}


def depends_tokens(expr: str) -> list[str]:
    """A ``depends`` expression's tokens (docs/enhanced-depends-logic.md):
    parentheses, ``&& || !``, and ``task`` or ``task.Result``."""
    out, pos = [], 0
    while pos < len(expr.rstrip()):
        m = _DEPENDS_TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read depends {expr!r} at {pos}")
        tok = m.group(1)
        pos = m.end()
        if tok not in ("(", ")", "&&", "||", "!") and tok.partition(".")[2] not in RESULTS | {""}:
            raise ValueError(f"depends {expr!r}: unknown task result {tok.partition('.')[2]!r}")
        out.append(tok)
    return out


def depends_names(expr: str) -> list[str]:
    """Task names in a ``depends`` expression, each once, in order."""
    names: list[str] = []
    for tok in depends_tokens(expr):
        name = tok.partition(".")[0]
        if tok not in ("(", ")", "&&", "||", "!") and name not in names:
            names.append(name)
    return names


def _strings(data: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, str):
        yield where, data
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _strings(v, f"{where}/{i}")
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, f"{where}/{k}")


def _references(text: str) -> Iterator[tuple[str, bool]]:
    """Variables a string reads: (dotted name, is an expression path)."""
    for tag in tags(text):
        if tag.startswith("="):
            try:
                tree = parse(tag[1:])
            except ExprError as exc:
                raise ValueError(f"expression {tag!r} does not parse: {exc}") from None
            for path, _ in member_paths(tree):
                yield path, True
        else:
            yield tag.strip(), False


def _expr_references(expr: str) -> Iterator[tuple[str, bool]]:
    for path, _ in member_paths(parse(expr)):
        yield path, True


def object_errors(doc: dict) -> list[str]:
    """Argo's checks of an object as a whole (workflow/validate/validate.go):
    name lengths (63; 52 for a CronWorkflow, whose runs get a timestamp
    appended), cron schedules and time zones; and the Kubernetes API's
    check of label keys and values."""
    import zoneinfo

    errors = []
    meta = doc.get("metadata", {})
    name = meta.get("name") or meta.get("generateName", "")
    limit = 52 if doc["kind"] == "CronWorkflow" else 63
    if len(name) > limit:
        errors.append(f"{doc['kind']} name {name!r} is longer than {limit}")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?-?", name or "-"):
        errors.append(f"{doc['kind']} name {name!r} is not a DNS-1123 name")
    for where, labels in _labels(doc):
        for key, value in labels.items():
            prefix, _, short = key.rpartition("/")
            if not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)", short) or len(short) > 63 or (
                    prefix and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", prefix)):
                errors.append(f"{where}: label key {key!r} is not valid in Kubernetes")
            if not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?", value) or len(value) > 63:
                errors.append(f"{where}: label {key}={value!r} is not valid in Kubernetes")
    if doc["kind"] == "CronWorkflow":
        spec = doc["spec"]
        if not spec.get("schedules"):
            errors.append("a CronWorkflow needs a schedule")
        for line in spec.get("schedules", []):
            if len(line.split()) != 5:
                errors.append(f"schedule {line!r} is not a standard five-field cron line")
        if spec.get("timezone"):
            try:
                zoneinfo.ZoneInfo(spec["timezone"])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors.append(f"unknown time zone {spec['timezone']!r}")
    return errors


def _labels(doc: dict) -> Iterator[tuple[str, dict]]:
    """Every label map of an object: its own, its runs', its pods'."""
    yield "metadata", doc.get("metadata", {}).get("labels") or {}
    spec = doc.get("spec", {})
    for s in (spec, spec.get("workflowSpec") or {}):
        yield "workflowMetadata", (s.get("workflowMetadata") or {}).get("labels") or {}
        for t in s.get("templates", []):
            yield f"templates/{t.get('name')}", (t.get("metadata") or {}).get("labels") or {}


def sensor_errors(doc: dict, template: dict | None) -> list[str]:
    """What Argo Events' validator checks of a Sensor (argo_events_harness
    validate_sensor), and that its trigger submits ``template`` with
    parameters that template declares, each set at an argument that exists."""
    from tests.targets.argo.argo_events_harness import validate_sensor
    from tests.targets.argo.argo_harness import HarnessError

    errors = object_errors(doc)
    try:
        validate_sensor(doc)
    except HarnessError as exc:
        return errors + [f"Sensor: {exc}"]
    for trigger in doc["spec"]["triggers"]:
        k8s = trigger["template"]["k8s"]
        workflow = k8s["source"]["resource"]
        if "workflowTemplateRef" not in workflow["spec"]:  # --kind workflow: the Workflow of the file itself
            if template is None or template["kind"] != "Workflow" or workflow["spec"] != template["spec"]:
                errors.append("Sensor trigger creates a Workflow that is not the one this file holds")
                continue
        ref = workflow["spec"].get("workflowTemplateRef", {}).get("name")
        if template is None or ref != template["metadata"].get("name", ref):
            errors.append(f"Sensor trigger submits WorkflowTemplate {ref!r}, which this file does not hold")
            continue
        declared = {p["name"] for p in (template["spec"].get("arguments") or {}).get("parameters", [])}
        given = [p["name"] for p in workflow["spec"].get("arguments", {}).get("parameters", [])]
        errors += [f"Sensor gives parameter {n!r}, which the WorkflowTemplate does not declare"
                   for n in given if n not in declared]
        for param in k8s.get("parameters") or []:
            m = re.fullmatch(r"spec\.arguments\.parameters\.(\d+)\.value", param["dest"])
            if not m or int(m.group(1)) >= len(given):
                errors.append(f"Sensor parameter destination {param['dest']!r} is no argument of the Workflow")
    return errors


def semantic_errors(doc: dict) -> list[str]:
    if doc["kind"] in ("EventSource", "EventBus"):
        return object_errors(doc)
    if doc["kind"] == "Sensor":
        return sensor_errors(doc, None)
    errors: list[str] = object_errors(doc)
    spec = doc["spec"] if doc["kind"] != "CronWorkflow" else doc["spec"]["workflowSpec"]
    if "workflowTemplateRef" in spec:
        return errors
    templates = {t["name"]: t for t in spec.get("templates", [])}
    if len(templates) != len(spec.get("templates", [])):
        errors.append("two templates share a name")
    if spec.get("entrypoint") not in templates:
        errors.append(f"entrypoint {spec.get('entrypoint')!r} is not a template")
    wf_params = {p["name"] for p in (spec.get("arguments") or {}).get("parameters", [])}
    calls: dict[str, set[tuple[str, bool]]] = {name: set() for name in templates}

    def known(path: str, tmpl: dict, inputs: set[str], task_scope: dict | None, ancestors: set[str],
              fanout: bool) -> str | None:
        parts = path.split(".")
        if path in GLOBALS:
            return None
        if parts[:2] == ["workflow", "parameters"] and len(parts) == 3:
            return None if parts[2] in wf_params else f"workflow parameter {parts[2]!r} is not declared"
        if parts[:2] == ["inputs", "parameters"] and len(parts) == 3:
            return None if parts[2] in inputs else f"input {parts[2]!r} is not declared by {tmpl['name']}"
        if path == "item":
            return None if fanout else "{{item}} outside withSequence/withParam"
        if path == "retries":
            return None if "retryStrategy" in tmpl else "{{retries}} in a template without retryStrategy"
        if parts[0] in ("sprig", "jsonpath", "toJson", "asInt", "asFloat") and len(parts) <= 2:
            return None
        if parts[0] == "tasks" and task_scope is not None and len(parts) >= 3:
            task = task_scope.get(parts[1])
            if task is None:
                return f"task {parts[1]!r} is not in {tmpl['name']}"
            if parts[1] not in ancestors:
                return f"task {parts[1]!r} is not an ancestor, so Argo has no value for {path}"
            if parts[2] == "status" and len(parts) == 3:
                return None
            if parts[2:4] == ["outputs", "parameters"] and len(parts) == 5:
                target = templates.get(task.get("template"), {})
                outs = {p["name"] for p in (target.get("outputs") or {}).get("parameters", [])}
                return None if parts[4] in outs else f"template {target.get('name')!r} has no output {parts[4]!r}"
        return f"unknown variable {path!r}"

    for name, tmpl in templates.items():
        inputs = {p["name"] for p in (tmpl.get("inputs") or {}).get("parameters", [])}
        if "container" in tmpl:
            for where, text in _strings({k: v for k, v in tmpl.items() if k != "outputs"}):
                for path, _ in _references(text):
                    problem = known(path, tmpl, inputs, None, set(), False)
                    if problem:
                        errors.append(f"{name}{where}: {problem}")
            continue
        if "dag" not in tmpl:
            errors.append(f"template {name} is neither a DAG nor a container")
            continue
        tasks = {t["name"]: t for t in tmpl["dag"]["tasks"]}
        if len(tasks) != len(tmpl["dag"]["tasks"]):
            errors.append(f"{name}: two tasks share a name")
        deps = {}
        for t in tasks.values():
            try:
                deps[t["name"]] = depends_names(t.get("depends", "")) if t.get("depends") else []
            except ValueError as exc:
                errors.append(f"{name}/{t['name']}: {exc}")
                deps[t["name"]] = []
            for d in deps[t["name"]]:
                if d not in tasks:
                    errors.append(f"{name}/{t['name']}: depends on {d!r}, which is not a task of {name}")
        cycle = _find_cycle({k: [d for d in v if d in tasks] for k, v in deps.items()})
        if cycle:
            errors.append(f"{name}: tasks depend on each other in a cycle: {' -> '.join(cycle)}")
        for t in tasks.values():
            ancestors = _ancestors(t["name"], deps)
            target = templates.get(t.get("template"))
            if target is None:
                errors.append(f"{name}/{t['name']}: template {t.get('template')!r} does not exist")
                continue
            calls[name].add((t["template"], bool(t.get("when"))))
            fanout = "withSequence" in t or "withParam" in t
            for where, text in _strings({k: v for k, v in t.items() if k != "depends"}):
                try:
                    refs = list(_references(text))
                except ValueError as exc:
                    errors.append(f"{name}/{t['name']}{where}: {exc}")
                    continue
                for path, _ in refs:
                    problem = known(path, tmpl, inputs, tasks, ancestors, fanout)
                    if problem:
                        errors.append(f"{name}/{t['name']}{where}: {problem}")
            given = [p["name"] for p in (t.get("arguments") or {}).get("parameters", [])]
            wanted = (target.get("inputs") or {}).get("parameters", [])
            for p in wanted:
                if p["name"] not in given and "value" not in p and "default" not in p:
                    errors.append(f"{name}/{t['name']}: input {p['name']!r} of {target['name']} is not supplied")
            for g in given:
                if g not in {p["name"] for p in wanted}:
                    errors.append(f"{name}/{t['name']}: argument {g!r} is not an input of {target['name']}")
        for p in (tmpl.get("outputs") or {}).get("parameters", []):
            expr = (p.get("valueFrom") or {}).get("expression")
            if expr:
                for path, _ in _expr_references(expr):
                    problem = known(path, tmpl, inputs, tasks, set(tasks), False)
                    if problem:
                        errors.append(f"{name}/outputs/{p['name']}: {problem}")
    for cycle in _template_cycles(calls):
        errors.append(f"templates call each other in a cycle without a `when`: {' -> '.join(cycle)}")
    return errors


def _ancestors(task: str, deps: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(deps.get(task, []))
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(deps.get(d, []))
    return seen


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in graph.get(n, []):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        path.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _template_cycles(calls: dict[str, set[tuple[str, bool]]]) -> list[list[str]]:
    """Cycles in the template call graph that are not a template calling
    itself from a task with a `when` (the only recursion flowc emits)."""
    graph = {t: sorted({c for c, guarded in cs if not (c == t and guarded)}) for t, cs in calls.items()}
    cycle = _find_cycle(graph)
    return [cycle] if cycle else []


def check_documents(text: str | bytes) -> list[str]:
    """Everything above, for every document of an emitted file."""
    problems = []
    docs = load_documents(text)
    template = next((d for d in docs if d["kind"] in ("WorkflowTemplate", "Workflow")), None)
    for doc in docs:
        problems += schema_errors(doc)
        problems += round_trip_diff(doc)
        problems += sensor_errors(doc, template) if doc["kind"] == "Sensor" else semantic_errors(doc)
    return problems
