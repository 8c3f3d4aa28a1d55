"""Run emitted Argo YAML here, the way the Argo controller would (test code).

No Argo controller can run on this machine, so this walks a Workflow(Template)
as the controller does for the constructs flowc emits, and runs each
container's command as a local process against a local datastore. It is
deliberately small and strict: anything outside that subset is an error,
not a guess. Each rule follows Argo's documentation (docs/ in
argo-workflows v4.1.2), and the controller's code where the docs are silent:

- Templates and arguments (docs/walk-through/parameters.md,
  workflow/common/util.go ProcessArgs): an input takes the task's argument,
  else its ``value``/``default``; a missing one is an error.
- Substitution (docs/variables.md; util.go SubstituteParams,
  workflowpod.go substitutePodParams): a template is substituted with the
  globals and locals (``{{retries}}``, docs/retries.md), then again with its
  inputs added, and a pod's spec once more with ``{{pod.name}}``: three passes
  over a container's strings, each a single fasttemplate scan (argo_expr).
- DAG (docs/walk-through/dag.md, docs/enhanced-depends-logic.md,
  controller/dag.go): a task waits until every task named in ``depends`` is
  fulfilled, then runs if the expression holds (``A.Succeeded``...; a bare
  name means Succeeded || Skipped || Daemoned; ``-`` in names reads as
  ``_``), else it is Omitted. Only ancestors' statuses and outputs are in
  scope, references to ``tasks.*`` must resolve (else the controller
  requeues forever: an error here), and a failed task stops the DAG from
  starting new tasks (failFast). Skipped or omitted tasks' declared outputs
  are present but nil.
- Conditionals (docs/walk-through/conditionals.md; steps.go shouldExecute):
  ``when`` is substituted, then evaluated; false means Skipped.
- Loops (docs/walk-through/loops.md; dag.go expandTask): ``withSequence``
  count N makes tasks for items ``0..N-1`` with ``{{item}}`` replaced; a task
  with no items is Skipped; the group fails if any item fails.
- Recursion (docs/walk-through/recursion.md): a template may call itself.
- Outputs (docs/walk-through/output-parameters.md,
  docs/conditional-artifacts-parameters.md): ``valueFrom.path`` reads a
  file of the pod (each pod has its own filesystem: here its own folder);
  a DAG's ``valueFrom.expression`` is evaluated over its tasks.
- Retries (docs/retries.md): ``retryStrategy.limit`` N gives up to N+1
  attempts, ``{{retries}}`` is the attempt number from 0; ``retryPolicy``
  Always retries failures and errors; backoff durations are recorded, not
  slept.
- ``activeDeadlineSeconds`` (docs/fields.md, Template): the pod is killed
  after that many seconds (the node fails).
- Secrets in ``envFrom`` come from a dict the test gives (Kubernetes would
  read the Secret objects); a missing secret fails the pod, as
  CreateContainerConfigError does.
- The cluster's network: pods reach Services through argo_network's proxy
  (the test registers the ones it stands in for, e.g. the Argo Events
  webhook); any other host is refused, as an unknown name is in a cluster.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tests.targets.argo.argo_checks import depends_names, depends_tokens
from tests.targets.argo.argo_expr import ExprError, Unresolved, eval_text, substitute, substitute_all
from tests.targets.argo.argo_network import ClusterNetwork

FULFILLED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
MODELLED_TASK_FIELDS = {"name", "template", "arguments", "depends", "when", "withSequence"}
STRICT = ("tasks", "steps")


class HarnessError(Exception):
    """The YAML asks for something Argo would reject, hang on, or that this
    harness does not model."""


@dataclass
class Node:
    phase: str
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass
class Pod:
    template: str
    argv: list[str]
    env: dict[str, str]
    attempt: int
    image: str
    returncode: int | None
    stderr: str = ""


class Harness:
    def __init__(self, doc: dict, *, workdir: str, run_name: str, params: dict[str, str] | None = None,
                 secrets: dict[str, dict[str, str]] | None = None, max_depth: int = 60, keep_env: bool = True,
                 network: ClusterNetwork | None = None):
        if doc.get("kind") not in ("Workflow", "WorkflowTemplate"):
            raise HarnessError(f"cannot run a {doc.get('kind')}")
        spec = doc["spec"]
        self.templates = {t["name"]: t for t in spec["templates"]}
        self.entry = spec["entrypoint"]
        self.workdir = workdir
        self.secrets = secrets or {}
        self.max_depth = max_depth
        self.pods: list[Pod] = []
        self.fanout_workers = 4
        self._lock = threading.Lock()
        self.backoffs: list[str] = []
        self.keep_env = keep_env
        self.network = network
        # docs/variables.md, Global: workflow.* and workflow.parameters.*
        self.globals: dict[str, Any] = {
            "workflow.name": run_name, "workflow.namespace": doc["metadata"].get("namespace", "argo"),
            "workflow.uid": "00000000-0000-0000-0000-000000000000", "workflow.mainEntrypoint": self.entry,
            "workflow.serviceAccountName": spec.get("serviceAccountName", "default"),
        }
        given = dict(params or {})
        for p in (spec.get("arguments") or {}).get("parameters", []):
            value = given.pop(p["name"], p.get("value"))
            if value is None:  # argo submit: a parameter without a value must be given
                raise HarnessError(f"spec.arguments.parameters.{p['name']}.value is required")
            self.globals[f"workflow.parameters.{p['name']}"] = value
        if given:
            raise HarnessError(f"unknown workflow parameters {sorted(given)}")

    # ------------------------------------------------------------ templates

    def run(self) -> Node:
        if self.network is not None:
            return self.execute(self.entry, {}, 0)
        with ClusterNetwork() as self.network:  # a cluster with none of the Services a test stands in for
            try:
                return self.execute(self.entry, {}, 0)
            finally:
                self.network = None

    def execute(self, name: str, args: dict[str, str], depth: int) -> Node:
        if depth > self.max_depth:
            raise HarnessError(f"templates nested deeper than {self.max_depth}")
        if name not in self.templates:
            raise HarnessError(f"template {name!r} does not exist")
        tmpl = copy.deepcopy(self.templates[name])
        for p in (tmpl.get("inputs") or {}).get("parameters", []):
            if p["name"] in args:
                p["value"] = args.pop(p["name"])
            elif "value" not in p:
                if "default" not in p:
                    raise HarnessError(f"{name}: inputs.parameters.{p['name']} was not supplied")
                p["value"] = p["default"]
        if args:
            raise HarnessError(f"{name}: arguments {sorted(args)} are not inputs of the template")
        if "dag" in tmpl:
            tmpl, values = self.substitute_params(tmpl, {})
            return self.run_dag(tmpl, values, depth)
        if "container" in tmpl:
            return self.run_container(tmpl)
        raise HarnessError(f"{name}: only dag and container templates are modelled")

    def substitute_params(self, tmpl: dict, local: dict[str, str]) -> tuple[dict, dict]:
        """SubstituteParams: globals and locals, then again with the inputs."""
        values = {**self.globals, **local}
        tmpl = substitute_all(tmpl, values)
        for p in (tmpl.get("inputs") or {}).get("parameters", []):
            values[f"inputs.parameters.{p['name']}"] = p["value"]
        for p in (tmpl.get("outputs") or {}).get("parameters", []):
            if (p.get("valueFrom") or {}).get("path"):
                values[f"outputs.parameters.{p['name']}.path"] = p["valueFrom"]["path"]
        return substitute_all(tmpl, values), values

    # ------------------------------------------------------------ DAG

    def run_dag(self, tmpl: dict, values: dict, depth: int) -> Node:
        tasks = {t["name"]: t for t in tmpl["dag"]["tasks"]}
        deps = {n: depends_names(t["depends"]) if t.get("depends") else [] for n, t in tasks.items()}
        results: dict[str, Node] = {}
        failed = False
        pending = list(tasks)
        while pending:
            ready = [n for n in pending if all(d in results for d in deps[n])]
            if not ready:
                raise HarnessError(f"{tmpl['name']}: tasks wait on each other: {pending}")
            for n in ready:
                pending.remove(n)
                if failed:  # failFast: no new task starts after a failure
                    continue
                results[n] = self.run_task(tasks[n], tasks, deps, results, values, depth)
                if results[n].phase in ("Failed", "Error"):
                    failed = True
        if failed:
            bad = [f"{n}: {r.message}" for n, r in results.items() if r.phase in ("Failed", "Error")]
            return Node("Failed", message="; ".join(bad))
        outputs = {}
        scope = dict(values)
        for n, r in results.items():
            self.add_task_scope(scope, n, r, tasks[n])
        for p in (tmpl.get("outputs") or {}).get("parameters", []):
            vf = p.get("valueFrom") or {}
            if "expression" in vf:
                value = eval_text(vf["expression"], scope, STRICT)
            elif "parameter" in vf:
                value = substitute(vf["parameter"], scope, STRICT)
            else:
                raise HarnessError(f"{tmpl['name']}: output {p['name']} has no expression or parameter")
            if value is None:
                raise HarnessError(f"{tmpl['name']}: output {p['name']} evaluated to nil")
            outputs[p["name"]] = value if isinstance(value, str) else str(value)
        return Node("Succeeded", outputs)

    def add_task_scope(self, scope: dict, name: str, node: Node, task: dict) -> None:
        scope[f"tasks.{name}.status"] = node.phase
        declared = (self.templates.get(task.get("template"), {}).get("outputs") or {}).get("parameters", [])
        for p in declared:
            scope[f"tasks.{name}.outputs.parameters.{p['name']}"] = node.outputs.get(p["name"])

    def run_task(self, task: dict, tasks: dict[str, dict], deps: dict[str, list[str]], results: dict[str, Node],
                 values: dict, depth: int) -> Node:
        name = task["name"]
        unknown = set(task) - MODELLED_TASK_FIELDS
        if unknown:
            raise HarnessError(f"task {name}: {sorted(unknown)} are not modelled")
        if task.get("depends") and not self.depends_holds(task["depends"], results):
            return Node("Omitted", message="omitted: depends condition not met")
        scope = dict(values)
        for a in ancestors(name, deps):
            self.add_task_scope(scope, a, results[a], tasks[a])
        body = {k: v for k, v in task.items() if k not in ("depends", "when")}
        try:
            if task.get("when"):
                when = substitute(task["when"], scope, STRICT)
                if not govaluate_bool(when):
                    return Node("Skipped", message=f"when '{when}' evaluated false")
            body = substitute_all(body, scope, STRICT)
        except Unresolved as exc:
            raise HarnessError(f"task {name}: {exc}: the controller would requeue it forever") from None
        except ExprError as exc:
            raise HarnessError(f"task {name}: {exc}") from None
        if "withSequence" in body:
            count = int(body["withSequence"]["count"])
            if count == 0:
                return Node("Skipped", message="Skipped, empty params")
            items = [substitute_all({k: v for k, v in body.items() if k != "withSequence"}, {"item": str(i)})
                     for i in range(count)]
            with ThreadPoolExecutor(max_workers=min(count, self.fanout_workers)) as pool:  # items run at once
                children = list(pool.map(lambda one: self.execute(one["template"], arguments(one), depth + 1), items))
            bad = [c for c in children if c.phase in ("Failed", "Error")]
            return Node(bad[0].phase if bad else "Succeeded", message="; ".join(c.message for c in bad))
        return self.execute(body["template"], arguments(body), depth + 1)

    @staticmethod
    def depends_holds(expr: str, results: dict[str, Node]) -> bool:
        """Each ``task.Result`` becomes true or false from the task's phase,
        then the boolean expression is evaluated."""
        words = []
        for tok in depends_tokens(expr):
            if tok in ("(", ")", "&&", "||", "!"):
                words.append(tok)
                continue
            name, _, result = tok.partition(".")
            phase = results[name].phase
            if not result:  # a bare name
                holds = phase in ("Succeeded", "Skipped")
            elif result == "Errored":
                holds = phase == "Error"
            elif result in ("AnySucceeded", "AllFailed", "Daemoned"):
                raise HarnessError(f"depends {expr!r}: {result} is not modelled")
            else:
                holds = phase == result
            words.append("true" if holds else "false")
        try:
            return bool(eval_text(" ".join(words), {}))
        except ExprError as exc:
            raise HarnessError(f"depends {expr!r}: {exc}") from None

    # ------------------------------------------------------------ containers

    def run_container(self, tmpl: dict) -> Node:
        retry = tmpl.get("retryStrategy")
        limit = int(retry.get("limit", 0)) if retry else 0
        if retry and retry.get("retryPolicy", "OnFailure") not in ("Always", "OnFailure", "OnError"):
            raise HarnessError(f"{tmpl['name']}: retryPolicy {retry['retryPolicy']} is not modelled")
        node = Node("Failed")
        for attempt in range(limit + 1):
            done, container = self.render_pod(tmpl, attempt)
            node = self.run_pod(done, container, attempt)
            if node.phase == "Succeeded":
                return node
            if retry and attempt < limit and (retry.get("backoff") or {}).get("duration"):
                with self._lock:
                    self.backoffs.append(retry["backoff"]["duration"])
        return node

    def render_pod(self, tmpl: dict, attempt: int = 0) -> tuple[dict, dict]:
        """A container template (inputs set) as its pod would hold it: the
        template substituted (SubstituteParams), then the pod spec once more
        with {{pod.name}} (substitutePodParams)."""
        local = {"retries": str(attempt)} if tmpl.get("retryStrategy") else {}
        done, _ = self.substitute_params(copy.deepcopy(tmpl), local)
        pod_values = {**self.globals, "pod.name": f"{self.globals['workflow.name']}-{done['name']}-{len(self.pods)}"}
        for p in (done.get("inputs") or {}).get("parameters", []):
            pod_values[f"inputs.parameters.{p['name']}"] = p["value"]
        return done, substitute_all(done["container"], pod_values)

    def record(self, pod: Pod) -> None:
        with self._lock:
            self.pods.append(pod)

    def run_pod(self, tmpl: dict, container: dict, attempt: int) -> Node:
        root = tempfile.mkdtemp(prefix="pod-")
        try:
            outputs = {p["name"]: p["valueFrom"]["path"] for p in (tmpl.get("outputs") or {}).get("parameters", [])}
            paths = {path: os.path.join(root, path.lstrip("/")) for path in outputs.values()}
            argv = [paths.get(a, a) for a in container.get("command", []) + container.get("args", [])]
            if argv and argv[0] in ("python", "python3"):
                argv[0] = sys.executable  # the image's interpreter: here, ours
            env = dict(os.environ) if self.keep_env else {"PATH": os.environ.get("PATH", "")}
            env.update(self.network.pod_env())
            for e in container.get("env", []):
                env[e["name"]] = e["value"]
            for source in container.get("envFrom", []):
                secret = source["secretRef"]["name"]
                if secret not in self.secrets:
                    self.record(Pod(tmpl["name"], argv, env, attempt, container.get("image", ""), None))
                    return Node("Error", message=f"CreateContainerConfigError: secret {secret!r} not found")
                env.update(self.secrets[secret])
            deadline = tmpl.get("activeDeadlineSeconds")
            try:
                proc = subprocess.run(argv, cwd=self.workdir, env=env, capture_output=True, text=True,
                                      timeout=int(deadline) if deadline is not None else 600)
                code, err = proc.returncode, proc.stderr
            except subprocess.TimeoutExpired:
                code, err = None, "DeadlineExceeded"
            self.record(Pod(tmpl["name"], argv, env, attempt, container.get("image", ""), code, err))
            if code != 0:
                return Node("Failed", message=f"{tmpl['name']} exited {code}: {err[-2000:]}")
            values = {}
            for name, path in outputs.items():
                try:
                    with open(paths[path], encoding="utf-8") as f:
                        values[name] = f.read()
                except OSError as exc:
                    return Node("Error", message=f"{tmpl['name']}: output {name}: {exc}")
            return Node("Succeeded", values)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def arguments(task: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in (task.get("arguments") or {}).get("parameters", [])}


def ancestors(task: str, deps: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(deps.get(task, []))
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(deps.get(d, []))
    return seen


def govaluate_bool(text: str) -> bool:
    """``when`` after substitution, for the forms flowc emits: a boolean
    literal, or ``a == b`` / ``a != b`` (bare words compare as strings)."""
    s = text.strip()
    if s in ("true", "false"):
        return s == "true"
    for op in ("==", "!="):
        if op in s:
            left, right = (x.strip().strip("'\"") for x in s.split(op, 1))
            return (left == right) if op == "==" else (left != right)
    raise HarnessError(f"when {text!r} is not a form this harness models")
