"""The Kubeflow Pipelines target: the flow as a KFP v2 pipeline package.

The PipelineSpec is written directly from the IR, never through kfp's DSL:
compiling needs no kfp (nor its protobuf and Kubernetes clients) installed,
takes a fraction of the time (benchmarks/kubeflow_bench.py), and every value
comes from the same shared lowerings as the other targets. The tests parse
each package into kfp's own PipelineSpec protobuf (unknown fields rejected)
and load it with kfp's own loader (tests/targets/kubeflow/).

    step              a container component running the runtime's one command
    branch / join     task dependencies
    foreach           ParallelFor over the split's output (its child indices)
    switch            triggerPolicy.condition on the switch's output (the chosen step)
    parameters        pipeline inputs, typed, with defaults; required ones optional=false
    @retry            retryPolicy (backoff: minutes_between_retries)
    @timeout          activeDeadlineSeconds in the platform spec (+ 60 s); the runtime stops the step itself
    @resources, GPUs  the container's resources and accelerator
    @kubernetes       node selector, tolerations, labels, PVCs... in the platform spec
    @secrets          each secret mounted as a folder; the runtime loads its keys as env
    @schedule         a recurring run spec beside the package (schedule.py)
    @project          the pipeline's name (targets/naming.py)
"""

from __future__ import annotations

from typing import Any

from flowc import __version__
from flowc.compiler import ir

from ..base import Option, Target, json_text, no, source_ref, yes
from ..kubernetes import check_pods
from ..naming import deployment_name
from . import executors, placeholders, schedule, spec_yaml
from .dag import Lowering
from .names import PARAM_NAME, kfp_name, parameter_name

SCHEMA_VERSION = "2.1.0"
PIPELINE_NAME_LIMIT = 128
_TYPES = {"str": "STRING", "int": "NUMBER_INTEGER", "float": "NUMBER_DOUBLE", "bool": "BOOLEAN", "json": "STRING"}


def pipeline_name(flow: ir.Flow, user: str = "") -> str:
    """The pipeline's name: the @project deployment name in KFP's characters
    (lowercase letters, digits, dashes), e.g. ``forecasting-test-nightly-forecastflow``."""
    name = deployment_name(flow, user, sep="-", allowed="a-z0-9", lower=True)
    return (name or kfp_name(flow.name))[:PIPELINE_NAME_LIMIT].strip("-")


def package_name(flow: ir.Flow) -> str:
    return f"{flow.name}.pipeline.yaml"


class KubeflowTarget(Target):
    name = "kubeflow"
    description = "Kubeflow Pipelines (KFP v2): a pipeline package (PipelineSpec YAML), and a recurring run for @schedule"
    OUTPUT_KIND = "file"

    CAPABILITIES = {
        "branch": yes("task dependencies"),
        "foreach": yes("ParallelFor over the split's children's index paths (an output parameter)"),
        "nested_foreach": yes("a ParallelFor inside the body's DAG component"),
        "foreach_body": yes("a DAG component per body"),
        "switch": yes("triggerPolicy.condition on the chosen step (an output parameter)"),
        "recursive_switch": no("a KFP v2 pipeline is acyclic and its DAGs cannot call themselves"),
        "parameters": yes("pipeline inputs, typed"),
        "required_parameters": yes("inputs without a default"),
        "retry": yes("retryPolicy with a constant backoff"),
        "timeout": yes("activeDeadlineSeconds (the runtime enforces @timeout too)"),
        "catch": yes("by the runtime, on the last attempt (--attempt auto)"),
        "resources": yes("container resources; disk= is refused (no ephemeral storage in KFP's spec)"),
        "gpu": yes("an accelerator: <vendor>.com/gpu and a count"),
        "environment": yes("container env"),
        "secrets": yes("each secret mounted as a folder (secretAsVolume); the runtime sets every key as a "
                       "variable before the step runs, as envFrom (FLOWC_SECRET_DIRS)"),
        "schedule": yes("a recurring run spec beside the package (UTC)"),
        "trigger": no("KFP has no event triggers; start runs from outside (kfp.Client().create_run_from_"
                      "pipeline_package), or compile for argo (Argo Events)"),
        "trigger_on_finish": no("KFP has no event triggers: a run cannot start when another flow finishes; "
                                "start it from the other flow's end step, or compile for argo"),
        "project": yes("the pipeline's name"),
        "image": yes(),
        "kubernetes": yes("platform spec: node selector, tolerations, labels, PVCs, secrets; no per-step "
                          "namespace, service account or disk"),
        "batch": no("AWS Batch placement; use @kubernetes"),
        "packages": yes("an image per environment (flowc environments --build), or --environments bootstrap"),
    }

    OPTIONS = (
        Option("name", str, "", "the pipeline's name (default: from the flow's name and its @project)"),
        Option("parallelism", int, 0, "most items of one foreach running at once (0: no limit)"),
        Option("max_concurrency", int, 1, "most runs of a @schedule's recurring run at once"),
    )

    # ---- checks

    def check_capabilities(self, flow: ir.Flow) -> None:
        super().check_capabilities(flow)
        check_pods(self, flow)
        for s in flow.steps:
            executors.check(self, s)
        schedule.check(self, flow)
        placeholders.check(self, flow)
        seen: dict[str, str] = {}
        for p in flow.parameters:
            key = parameter_name(p.name)
            if key in seen:
                self.unsupported(f"parameters '{seen[key]}' and '{p.name}' would both be the pipeline input "
                                 f"'{key}'", p.span, "rename one of them")
            seen[key] = p.name

    # ---- emission

    def pipeline_name(self, flow: ir.Flow) -> str:
        return self.option("name") or pipeline_name(flow, self.option("user"))

    def parameter_spec(self, p: ir.Parameter) -> dict[str, Any]:
        spec: dict[str, Any] = {"parameterType": _TYPES[p.type]}
        if p.help:
            spec["description"] = p.help
        if p.default is not None:
            spec["defaultValue"] = (p.default if isinstance(p.default, str) else json_text(p.default)) \
                if p.type == "json" else p.default
        if not p.required:
            spec["isOptional"] = True
            if p.default is None:  # null: "no value" (the start task is then given none: IfPresent)
                spec["defaultValue"] = None
        return spec

    def emit(self, flow: ir.Flow) -> dict[str, bytes]:
        params = {p.name: parameter_name(p.name) for p in flow.parameters}
        self.parameter_specs = {params[p.name]: self.parameter_spec(p) for p in flow.parameters}
        low = Lowering(self, flow, params)
        root: dict[str, Any] = {"dag": low.dag(())}
        if params:
            root["inputDefinitions"] = {"parameters": dict(sorted(self.parameter_specs.items()))}
        name = self.pipeline_name(flow)
        info: dict[str, Any] = {"name": name, "displayName": flow.name}
        if flow.docstring and flow.docstring.strip():
            info["description"] = flow.docstring.strip()
        spec = {"components": dict(sorted(low.components.items())),
                "deploymentSpec": {"executors": dict(sorted(low.executors.items()))},
                "pipelineInfo": info, "root": root, "schemaVersion": SCHEMA_VERSION,
                "sdkVersion": f"flowc-{__version__}"}
        platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": dict(sorted(low.platform.items()))}}}}
        header = ["PIPELINE DEFINITION", f"Name: {name}",
                  f"Flow: {flow.name} ({source_ref(flow, flow.span)}), compiled by flowc {__version__}",
                  "Every task runs `python -m flowc.runtime step`; artifacts stay in the datastore."]
        files = {package_name(flow): spec_yaml.package(header, spec, platform, low.comments)}
        if flow.decorators.schedule is not None:
            defaults = {params[p.name]: p.default for p in flow.parameters if p.default is not None}
            run = schedule.recurring_run(self, flow, name, defaults)
            files[f"{flow.name}.recurring-run.json"] = (json_text(run) + "\n").encode("utf-8")
        return files


__all__ = ["KubeflowTarget", "PARAM_NAME", "pipeline_name", "package_name"]
