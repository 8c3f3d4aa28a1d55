"""The Argo Workflows target.

``flowc compile FLOW.py --target argo`` writes a WorkflowTemplate (or, with
``--kind workflow``, a Workflow) and, when the flow has ``@schedule``, a
CronWorkflow beside it: one multi-document YAML file, or one file per
object with ``--split``. The objects are built as hera's typed models
(``hera.workflows.models``) and written by argo_yaml with a fixed key order
and comments that point each task back at ``flow.py:LINE``.

The lowering itself lives in argo_dag. This module holds what is Argo's own
around it: the capability table, the options, the checks that make a
construct Argo cannot express an error before anything is written (name
clashes, a second namespace, values Kubernetes would reject), the workflow
arguments, and the objects' metadata.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import argo_models as m

from flowc.compiler import ir
from flowc.compiler.spans import Span

from . import argo_yaml
from .argo_dag import SHARED, DagBuilder, dns_label, quote_expr
from .base import Option, Target, flow_file, json_text, no, source_ref, yes

API_VERSION = "argoproj.io/v1alpha1"
CRON_NAME_LIMIT = 52
POD_GC = ("", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\Z")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
_ARGO_PARAM = re.compile(r"[-a-zA-Z0-9_]+\Z")


def cron_name(name: str) -> str:
    """Argo appends a timestamp to the runs a CronWorkflow starts, so its name
    has at most 52 characters (workflow/validate: maxCharsInCronWorkflowName)."""
    return name if len(name) <= CRON_NAME_LIMIT else dns_label(name, CRON_NAME_LIMIT)


class ArgoTarget(Target):
    name = "argo"
    description = "Argo Workflows: WorkflowTemplate or Workflow YAML, and a CronWorkflow for @schedule"
    OUTPUT_KIND = "file"

    CAPABILITIES = {
        "branch": yes("DAG task dependencies"),
        "foreach": yes("withSequence over the count in OUT.json"),
        "nested_foreach": yes("nested DAG templates"),
        "foreach_body": yes("a DAG template per body"),
        "switch": yes("`when` on the case OUT.json chose"),
        "recursive_switch": yes("a template that calls itself"),
        "parameters": yes("workflow arguments"),
        "required_parameters": yes("arguments without a value"),
        "retry": yes("retryStrategy with backoff"),
        "timeout": yes("activeDeadlineSeconds (the runtime enforces @timeout too)"),
        "catch": yes("by the runtime"),
        "resources": yes("requests and limits"),
        "gpu": yes("nvidia.com/gpu (or gpu_vendor) limits"),
        "environment": yes("container env (the runtime sets them too)"),
        "secrets": yes("envFrom secretRef: Kubernetes secret names only"),
        "schedule": yes("a CronWorkflow"),
        "trigger": no("Argo Events sensors are not emitted"),
        "project": yes("name prefix and labels"),
        "image": yes(),
        "kubernetes": yes("one namespace per workflow"),
        "batch": no("AWS Batch placement; use @kubernetes"),
        "packages": yes("an image per environment (flowc environments --build), or --environments bootstrap"),
    }

    OPTIONS = (
        Option("kind", str, "workflowtemplate", "what to write: a WorkflowTemplate, or a Workflow to submit directly",
               choices=("workflowtemplate", "workflow")),
        Option("split", bool, False, "one file per object (with -o FOLDER) instead of one multi-document file"),
        Option("name", str, "", "the objects' name (default: from the flow's name, and its @project)"),
        Option("namespace", str, "",
               "Kubernetes namespace (default: from @kubernetes(namespace=), or the current one)"),
        Option("service_account", str, "", "service account the workflow's pods run as"),
        Option("parallelism", int, 0, "most pods running at once in one run (0: no limit); bounds a wide foreach"),
        Option("pod_gc", str, "", "when Argo deletes finished pods (podGC strategy)", choices=POD_GC),
        Option("ttl", int, 0, "seconds a finished run is kept before Argo deletes it (0: kept)"),
        Option("labels", dict, {}, "labels on the objects and on every run: key=value,key=value"),
        Option("annotations", dict, {}, "annotations on the objects and on every run: key=value,key=value"),
        Option("image_pull_policy", str, "", "imagePullPolicy of every container",
               choices=("", "Always", "IfNotPresent", "Never")),
    )

    # ------------------------------------------------------------ checks

    def check_capabilities(self, flow: ir.Flow) -> None:
        super().check_capabilities(flow)
        self.check_names(flow)
        self.check_kubernetes(flow)
        self.check_argo_tags(flow)
        self.check_options(flow)
        for p in flow.parameters:
            if not _ARGO_PARAM.match(p.name):
                self.unsupported(f"parameter name '{p.name}' is not a valid Argo parameter name", p.span,
                                 "use letters, digits, - and _")

    def check_names(self, flow: ir.Flow) -> None:
        """Every generated name is a valid DNS-1123 label, and no two clash."""
        if not dns_label(flow.name):
            self.error("FC503", f"flow name '{flow.name}' gives no valid Kubernetes name", flow.span,
                       "name the flow with ASCII letters, or pass --name")
            return
        project = flow.decorators.project
        if project is not None and project.branch and not dns_label(project.branch) and not self.option("name"):
            self.error("FC503", f"@project branch {project.branch!r} gives no part of a Kubernetes name: the "
                       "workflow would take the name of the project's default branch", project.span,
                       "use ASCII letters or digits in the branch, or pass --name")
        builder = DagBuilder(self, flow, dns_label(flow.name))
        templates: dict[str, str] = {dns_label(flow.name): f"the flow {flow.name}"}
        tasks: dict[tuple[tuple[str, ...], str], str] = {}

        def claim(table: dict, key: Any, what: str, span: Span) -> None:
            name = key[1] if isinstance(key, tuple) else key
            if key in table:
                self.error("FC503", f"{what} and {table[key]} would both be named '{name}' in Argo", span,
                           "rename one of them")
            else:
                table[key] = what

        for s in flow.ordered_steps():
            task = dns_label(s.name)
            claim(tasks, (s.foreach_stack, task), f"step '{s.name}'", s.span)
            if builder.own_template(s):
                claim(templates, task, f"step '{s.name}'", s.span)
            if s.kind == ir.FOREACH and not builder.direct_body(s.name):
                fan = builder.fanout(s.name)
                claim(tasks, (s.foreach_stack, fan), f"the foreach of step '{s.name}'", s.next_span or s.span)
                claim(templates, fan, f"the foreach of step '{s.name}'", s.next_span or s.span)
            if s.is_recursive:
                claim(templates, builder.loop(s.name), f"the loop of step '{s.name}'", s.next_span or s.span)
                if task == "again":
                    self.error("FC503", f"step '{s.name}' would be named 'again', the name of its own next "
                               "iteration in Argo", s.span, "rename the step")
        if not all(builder.own_template(s) for s in flow.steps):
            claim(templates, SHARED, "the shared step template", flow.span)

    def check_argo_tags(self, flow: ir.Flow) -> None:
        """Argo substitutes ``{{...}}`` in every string of a template (env values,
        image, node selector, service account, args) and has no escape for
        ``{{``: a decorator argument holding one would reach the pod expanded
        (``{{workflow.parameters.p}}``) or stop the workflow. Refused, once per
        decorator, rather than changed. (Parameter values take another road:
        see parameter_inputs.)"""
        if "{{" in flow_file(flow):  # it is in every step's command line
            self.unsupported(f"the flow file's name {flow_file(flow)!r} holds '{{{{': Argo would substitute it in the "
                             "step commands and has no escape for it", flow.span, "rename the file")
        owners = [(f"@{name}", deco) for name, deco in vars(flow.decorators).items() if deco is not None]
        for s in flow.ordered_steps():
            owners += [(f"@{name} of step '{s.name}'", deco) for name, deco in vars(s.decorators).items()
                       if deco is not None and name != "card"]  # a card's options stay in the IR
        for what, deco in owners:
            found = next((text for text in _texts(deco) if "{{" in text), None)
            if found is not None:
                self.unsupported(f"{what} holds {found!r}: Argo would substitute its '{{{{' and has no escape for it",
                                 deco.span, "remove the '{{' from the value (write '{ {' if it is not a placeholder)")

    def check_kubernetes(self, flow: ir.Flow) -> None:
        namespace, first = self.option("namespace"), None
        for s in flow.ordered_steps():
            k8s = s.decorators.kubernetes
            for secret in self.secret_names(flow, s):
                if not _DNS_SUBDOMAIN.match(secret) or len(secret) > 253:
                    span = (s.decorators.secrets or k8s or flow.decorators.secrets).span
                    self.unsupported(f"secret '{secret}' of step '{s.name}' is not a Kubernetes secret name", span,
                                     "Argo reads secrets from Kubernetes: name one by its DNS name")
            env = s.decorators.environment
            for key in env.vars if env else ():
                if not _ENV_NAME.match(key):
                    self.unsupported(f"@environment variable '{key}' is not a valid Kubernetes env name", env.span)
            if k8s is None:
                continue
            if k8s.namespace:
                if namespace and k8s.namespace != namespace:
                    where = "--namespace" if first is None else f"step '{first}'"
                    self.unsupported(f"step '{s.name}' asks for namespace '{k8s.namespace}', but {where} puts the "
                                     f"workflow in '{namespace}'; Argo runs a workflow's pods in one namespace",
                                     k8s.span, "use one namespace for the whole flow")
                elif not namespace:
                    namespace, first = k8s.namespace, s.name
            for key, value in k8s.labels.items():
                self.check_label(key, value, f"label of step '{s.name}'", k8s.span)
            for key, value in k8s.annotations.items():
                self.check_label(key, None, f"annotation of step '{s.name}'", k8s.span)
            if k8s.gpu_vendor and not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", k8s.gpu_vendor.lower()):
                self.unsupported(f"gpu_vendor '{k8s.gpu_vendor}' of step '{s.name}' is not a resource vendor name",
                                 k8s.span)
        self.namespace = namespace

    def check_label(self, key: str, value: str | None, what: str, span: Span, option: bool = False) -> None:
        """A label (or, without a value, an annotation) Kubernetes accepts: FC501
        for a decorator's, FC502 for an option's."""
        def report(message: str, hint: str | None = None) -> None:
            if option:
                self.error("FC502", message, span, hint)
            else:
                self.unsupported(message, span, hint)

        prefix, _, name = key.rpartition("/")
        if (prefix and (not _DNS_SUBDOMAIN.match(prefix) or len(prefix) > 253)) or not name or len(name) > 63 \
                or not _LABEL_NAME.match(name):
            report(f"{what} '{key}' is not a valid Kubernetes key")
        if value is not None and (len(value) > 63 or not _LABEL_NAME.match(value)):
            report(f"{what} '{key}' has the value {value!r}, which Kubernetes does not accept",
                   "label values are at most 63 letters, digits, '-', '_' or '.'")

    def check_options(self, flow: ir.Flow) -> None:
        given = self.option("name")
        if given and (len(given) > 63 or not _DNS_SUBDOMAIN.match(given) or "." in given):
            self.error("FC502", f"--name '{given}' is not a valid Kubernetes name (DNS-1123, at most 63)", flow.span)
        for key, value in self.text_map("labels").items():
            self.check_label(key, value, "--labels entry", flow.span, option=True)
        for key in self.text_map("annotations"):
            self.check_label(key, None, "--annotations entry", flow.span, option=True)
        for opt in ("parallelism", "ttl"):
            if self.option(opt) < 0:
                self.error("FC502", f"--{opt} must not be negative", flow.span)
        for opt in sorted(self.options):  # config values reach the templates too, where Argo substitutes
            value = self.options[opt]
            texts = [value] if isinstance(value, str) else list(self.text_map(opt).items()) \
                if isinstance(value, dict) else []
            if any("{{" in t for item in texts for t in (item if isinstance(item, tuple) else (item,))):
                self.error("FC502", f"--{opt.replace('_', '-')} holds '{{{{': Argo would substitute it and has no "
                           "escape for it", flow.span, "remove the '{{' from the option")

    # ------------------------------------------------------------ helpers the lowering uses

    def text_map(self, option: str) -> dict[str, str]:
        """A key=value option as text, sorted (TOML may give numbers or booleans)."""
        return {str(k): json_text(v) if not isinstance(v, str) else v
                for k, v in sorted(self.option(option).items(), key=lambda kv: str(kv[0]))}

    def secret_names(self, flow: ir.Flow, s: ir.Step | None) -> list[str]:
        """Secret names for a step (@secrets, then @kubernetes(secrets=)), each once."""
        names: list[str] = []
        sources = []
        if s is not None:
            d = s.decorators
            if d.secrets is not None:
                sources.append(d.secrets.sources)
            if d.kubernetes is not None:
                sources.append(d.kubernetes.secrets)
        for group in sources:
            for name in group:
                if name not in names:
                    names.append(name)
        return names

    def parameter_inputs(self, flow: ir.Flow) -> tuple[list[m.Parameter], str]:
        """How parameters reach the start step: one input per parameter whose
        value is an Argo expression giving the parameter as JSON text, with
        every ``{`` written as the JSON escape ``\\u007b``, and one ``--params``
        argument gathering them into a JSON object. The text Argo puts in the
        pod then holds no ``{{``, so no later substitution pass can touch a
        value, and the runtime's JSON parser gives back the exact text. An
        optional parameter without a default is ``null`` (no value) when empty."""
        inputs, fields = [], []
        for p in flow.parameters:
            ref = f"workflow.parameters.{p.name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p.name) \
                else f"workflow.parameters[{quote_expr(p.name)}]"
            value = f'sprig.replace("{{", "\\\\u007b", toJson({ref}))'
            if p.default is None and not p.required:
                value = f'{ref} == "" ? "null" : {value}'
            inputs.append(m.Parameter(name=f"param-{p.name}", value=f"{{{{={value}}}}}"))
            fields.append(f"{json.dumps(p.name)}:{{{{inputs.parameters.param-{p.name}}}}}")
        return inputs, "{" + ",".join(fields) + "}"

    # ------------------------------------------------------------ emission

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        if not hasattr(self, "namespace"):
            self.check_kubernetes(flow)
        name = self.object_name(flow)
        lowered = DagBuilder(self, flow, dns_label(flow.name)).build()
        spec = m.WorkflowSpec(
            entrypoint=dns_label(flow.name),
            arguments=self.arguments(flow),
            service_account_name=self.option("service_account") or None,
            parallelism=self.option("parallelism") or None,
            pod_gc=m.PodGC(strategy=self.option("pod_gc")) if self.option("pod_gc") else None,
            ttl_strategy=m.TTLStrategy(seconds_after_completion=self.option("ttl")) if self.option("ttl") else None,
            templates=lowered.templates,
        )
        labels, annotations = self.labels(flow), self.annotations(flow)
        user_labels, user_annotations = self.text_map("labels"), self.text_map("annotations")
        workflow = self.option("kind") == "workflow"
        if not workflow and (user_labels or user_annotations):
            spec.workflow_metadata = m.WorkflowMetadata(labels=user_labels or None,
                                                        annotations=user_annotations or None)
        meta = m.ObjectMeta(
            name=None if workflow else name, generate_name=f"{name}-" if workflow else None,
            namespace=self.namespace or None, labels=labels, annotations=annotations)
        cls = m.Workflow if workflow else m.WorkflowTemplate
        main = cls(api_version=API_VERSION, kind=cls.__name__, metadata=meta, spec=spec)
        documents = [self.with_comments(main.model_dump(by_alias=True, exclude_none=True, mode="json"), lowered)]
        schedule = flow.decorators.schedule
        if schedule is not None:
            cron_spec = m.CronWorkflowSpec(
                schedules=[schedule.cron], timezone=schedule.timezone,
                workflow_spec=spec if workflow else m.WorkflowSpec(workflow_template_ref=m.WorkflowTemplateRef(
                    name=name)),
                workflow_metadata=m.ObjectMeta(labels=user_labels or None, annotations=user_annotations or None)
                if (user_labels or user_annotations) else None)
            cron_meta = m.ObjectMeta(name=cron_name(name), namespace=self.namespace or None, labels=labels,
                                     annotations=annotations)
            cron = m.CronWorkflow(api_version=API_VERSION, kind="CronWorkflow", metadata=cron_meta, spec=cron_spec)
            data = cron.model_dump(by_alias=True, exclude_none=True, mode="json")
            documents.append(argo_yaml.Commented(
                self.with_comments(data, lowered),
                f"@schedule ({source_ref(flow, schedule.span)}): {schedule.cron}"
                + (f" ({schedule.timezone})" if schedule.timezone else "")))
        header = self.header(flow, name)
        if self.option("split"):
            kinds = [main.kind.lower(), "cronworkflow"]
            return {f"{name}.{kind}.yaml": argo_yaml.dump_documents([doc], header).encode()
                    for kind, doc in zip(kinds, documents)}
        return {f"{name}.yaml": argo_yaml.dump_documents(documents, header).encode()}

    def object_name(self, flow: ir.Flow) -> str:
        if self.option("name"):
            return self.option("name")
        project = flow.decorators.project
        parts = []
        if project is not None:
            parts.append(project.name)
            if project.production:
                parts.append("prod")
            if project.branch:
                parts.append(project.branch)
        return dns_label("-".join(parts + [dns_label(flow.name)]))

    def arguments(self, flow: ir.Flow) -> m.Arguments | None:
        params = []
        for p in flow.parameters:
            if p.required:
                value = None
            elif p.default is None:
                value = ""
            else:
                value = p.default if isinstance(p.default, str) and p.type == "str" else json_text(p.default)
            params.append(m.Parameter(name=p.name, value=value, description=p.help or None))
        return m.Arguments(parameters=params) if params else None

    def labels(self, flow: ir.Flow) -> dict[str, str]:
        labels = {"app.kubernetes.io/managed-by": "flowc"}
        if len(flow.name) <= 63 and _LABEL_NAME.match(flow.name):  # a Python name may hold non-ASCII letters
            labels["flowc/flow"] = flow.name
        project = flow.decorators.project
        if project is not None and _LABEL_NAME.match(project.name) and len(project.name) <= 63:
            labels["flowc/project"] = project.name
        labels.update(self.text_map("labels"))
        return dict(sorted(labels.items()))

    def annotations(self, flow: ir.Flow) -> dict[str, str]:
        out = {"flowc/source": flow_file(flow), "flowc/source-sha256": flow.source.sha256}
        if flow.docstring:
            out["workflows.argoproj.io/description"] = flow.docstring
        out.update(self.text_map("annotations"))
        return dict(sorted(out.items()))

    def header(self, flow: ir.Flow, name: str) -> str:
        source = flow_file(flow)
        params = "".join(f" -p {p.name}=..." for p in flow.parameters if p.required)
        scheduled = flow.decorators.schedule is not None
        if self.option("kind") == "workflow":
            how = [f"Run it: argo submit the Workflow{params}" + (
                "; `argo cron create` the CronWorkflow to run it on its schedule (--split writes them apart)."
                if scheduled else ".")]
        else:
            how = ["Install: kubectl apply -f this file" + (" (the CronWorkflow then runs it on its schedule)."
                                                           if scheduled else "."),
                   f"Run it: argo submit --from workflowtemplate/{name}{params}"]
        lines = [
            f"Argo Workflows objects for the flow {flow.name}, compiled by flowc from {source}.",
            f"To change them, edit {source} and compile it again.",
            *how,
            "Each step runs `python -m flowc.runtime step ...`; Argo passes it only the run id, foreach",
            "indices, attempts and the small OUT.json values (foreach counts, switch choices).",
        ]
        return "\n".join(lines)

    @staticmethod
    def with_comments(data: dict, lowered) -> dict:
        """Attach the lowering's comments to the dumped templates and tasks."""
        spec = data.get("spec", {})
        templates = spec.get("templates") or []
        for i, tmpl in enumerate(templates):
            tname = tmpl.get("name")
            for j, task in enumerate((tmpl.get("dag") or {}).get("tasks") or []):
                comment = lowered.task_comments.get((tname, task.get("name")))
                if comment:
                    tmpl["dag"]["tasks"][j] = argo_yaml.Commented(task, comment)
            if tname in lowered.comments:
                templates[i] = argo_yaml.Commented(tmpl, lowered.comments[tname])
        return data


def _texts(value: Any) -> list[str]:
    """Every string in a decorator's value (dataclass fields, lists, dicts, keys)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _texts(k) + _texts(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
        return [t for name in value.__dataclass_fields__ for t in _texts(getattr(value, name))]
    return []
