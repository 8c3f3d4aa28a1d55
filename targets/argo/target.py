"""The Argo Workflows target.

``flowc compile FLOW.py --target argo`` writes a WorkflowTemplate (or, with
``--kind workflow``, a Workflow) and, when the flow has ``@schedule``, a
CronWorkflow beside it, and with ``@trigger`` or ``@trigger_on_finish`` an
Argo Events Sensor (sensor.py): one multi-document YAML file, or one file per
object with ``--split``. The objects are built as hera's typed models
(models.py stands in for ``hera.workflows.models``) and written by
writer.py with a fixed key order and comments that point each task back at
``flow.py:LINE``.

This module holds the class: the capability table, the options, the order
of the checks (checks.py, and targets/kubernetes.py's for every pod), and
the objects around the lowered templates (dag.py): the workflow arguments,
names, labels and annotations.
"""

from __future__ import annotations

from flowc.compiler import ir

from ..base import Option, Target, flow_file, json_text, no, source_ref, yes
from ..kubernetes import LABEL_NAME, check_pods
from ..naming import project_branch
from . import models as m
from . import writer
from .checks import check_argo_tags, check_events, check_names, check_namespace, check_options, check_parameters
from .dag import lower_templates
from ..events import subscriptions
from .names import cron_name, dns_label, object_name
from .sensor import event_arguments, sensor_document

API_VERSION = "argoproj.io/v1alpha1"
POD_GC = ("", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")


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
        "trigger": yes("an Argo Events Sensor on the webhook EventSource"),
        "trigger_on_finish": yes("an Argo Events Sensor on the upstream run's end event"),
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
        Option("event_source", str, "argo-events-webhook",
               "the Argo Events webhook EventSource events arrive at (docs/targets/argo.md shows it)"),
        Option("webhook_event", str, "metaflow-event", "the EventSource's webhook event that receives them"),
        Option("event_bus", str, "default", "the Argo Events EventBus of the Sensor"),
        Option("events_url", str, "",
               "where steps POST the events they publish and the end event (FLOWC_EVENTS); default: the "
               "EventSource's Service, http://EVENT_SOURCE-eventsource-svc:12000/WEBHOOK_EVENT; 'none': "
               "events are kept with the tasks only"),
        Option("sensor_service_account", str, "",
               "service account of the Sensor's pod (it creates Workflows; default: the namespace's default)"),
    )

    # ------------------------------------------------------------ checks

    def check_capabilities(self, flow: ir.Flow) -> None:
        self._dag_builder = None  # a new compile: nothing shared with an earlier one (dag.builder_for)
        super().check_capabilities(flow)
        check_names(self, flow)
        check_pods(self, flow)
        self.namespace = check_namespace(self, flow)
        check_argo_tags(self, flow)
        check_options(self, flow)
        check_parameters(self, flow)
        check_events(self, flow)

    def text_map(self, option: str) -> dict[str, str]:
        """A key=value option as text, sorted (TOML may give numbers or booleans)."""
        return {str(k): json_text(v) if not isinstance(v, str) else v
                for k, v in sorted(self.option(option).items(), key=lambda kv: str(kv[0]))}

    # ------------------------------------------------------------ emission

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        name = self.object_name(flow)
        documents = self.documents(flow, name)
        header = self.header(flow, name)
        if self.option("split"):
            return {f"{name}.{_kind(doc).lower()}.yaml": writer.dump_documents([doc], header).encode()
                    for doc in documents}
        return {f"{name}.yaml": writer.dump_documents(documents, header).encode()}

    def documents(self, flow: ir.Flow, name: str) -> list:
        """The WorkflowTemplate (or Workflow) around the lowered templates, and
        the CronWorkflow of @schedule: plain data, with their comments."""
        if not hasattr(self, "namespace"):
            self.namespace = check_namespace(self, flow)
        lowered = lower_templates(self, flow)
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
            documents.append(writer.Commented(
                self.with_comments(data, lowered),
                f"@schedule ({source_ref(flow, schedule.span)}): {schedule.cron}"
                + (f" ({schedule.timezone})" if schedule.timezone else "")))
        if subscriptions(flow, self.option("user")):
            whole = main.model_dump(by_alias=True, exclude_none=True, mode="json") if workflow else None
            documents.append(sensor_document(self, flow, name, self.namespace, labels, annotations, whole))
        return documents

    def object_name(self, flow: ir.Flow) -> str:
        return object_name(flow, self.option("name"), self.option("user"))

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
        params += [m.Parameter(name=n, value="", description=d) for n, d in event_arguments(flow, self.option("user"))]
        return m.Arguments(parameters=params) if params else None

    def labels(self, flow: ir.Flow) -> dict[str, str]:
        labels = {"app.kubernetes.io/managed-by": "flowc"}
        if len(flow.name) <= 63 and LABEL_NAME.match(flow.name):  # a Python name may hold non-ASCII letters
            labels["flowc/flow"] = flow.name
        project = flow.decorators.project
        if project is not None:
            branch = project_branch(project, self.option("user"))  # Metaflow's current.branch_name
            for key, value in (("flowc/project", project.name), ("flowc/project-branch", branch)):
                if LABEL_NAME.match(value) and len(value) <= 63:
                    labels[key] = value
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
        triggered = bool(subscriptions(flow, self.option("user")))
        if self.option("kind") == "workflow":
            how = [f"Run it: argo submit the Workflow{params}" + (
                "; `argo cron create` the CronWorkflow to run it on its schedule (--split writes them apart)."
                if scheduled else ".")]
        else:
            how = ["Install: kubectl apply -f this file" + (" (the CronWorkflow then runs it on its schedule)."
                                                           if scheduled else "."),
                   f"Run it: argo submit --from workflowtemplate/{name}{params}"]
            if triggered:
                how.append(f"The Sensor {name} submits it when its events arrive at the Argo Events EventSource "
                           f"{self.option('event_source')} (docs/targets/argo.md, Events).")
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
                    tmpl["dag"]["tasks"][j] = writer.Commented(task, comment)
            if tname in lowered.comments:
                templates[i] = writer.Commented(tmpl, lowered.comments[tname])
        return data


def _kind(doc) -> str:
    return (doc.value if isinstance(doc, writer.Commented) else doc)["kind"]
