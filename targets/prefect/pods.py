"""Where a step runs: the flow's own pod, or a container of its own (a
deployment of the Kubernetes work pool), and the job variables of each."""

from __future__ import annotations

from typing import Any, Optional

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..kubernetes import Pod, pod_of
from ..resources import asked_of as resources_of
from ..resources import cpu_text, mebibytes
from ..base import Target  # the target, as its lowering sees it
from .plan import Container
from .yamltext import has_placeholder


# the job template's variables for a pod's resources (kubernetes-job-template.json)
RESOURCE_VARIABLES = {("requests", "cpu"): "cpu_request", ("requests", "memory"): "memory_request",
                      ("requests", "ephemeral-storage"): "ephemeral_storage_request",
                      ("limits", "cpu"): "cpu_limit", ("limits", "memory"): "memory_limit",
                      ("limits", "nvidia.com/gpu"): "nvidia_gpu", ("limits", "amd.com/gpu"): "amd_gpu"}
GPU_VENDORS = ("nvidia", "amd")


def pod_variables(target: Target) -> dict[str, Any]:
    """Job variables of the flow's own pod (its deployment): the options' CPU,
    memory (its limit too) and disk, in targets/resources.py's units."""
    memory = mebibytes(target.option("memory"))
    out: dict[str, Any] = {"image": target.option("image"), "namespace": target.option("namespace"),
                           "cpu_request": cpu_text(target.option("cpu")), "memory_request": memory,
                           "memory_limit": memory}
    if target.option("disk"):
        out["ephemeral_storage_request"] = mebibytes(target.option("disk"))
    return out


def reasons_for_container(target: Target, s: ir.Step) -> list[str]:
    """Why a step runs in a container of its own, or [] when it runs in the flow's pod."""
    d = s.decorators
    res = resources_of(s)
    reasons: list[str] = []
    if d.kubernetes is not None:
        reasons.append("@kubernetes")
    if d.batch is not None:
        reasons.append("@batch")
    image = target.image_for(s)
    env = target.step_environment(s)
    if image != target.option("image"):
        from_env = env is not None and env.manager != "none" and target.option("environments") == "image"
        reasons.append(f"its @{env.manager} environment's image {image}" if from_env else f"its own image {image}")
    if res.get("gpu"):
        reasons.append(f"{res['gpu']} GPU" + ("s" if res["gpu"] > 1 else ""))
    for key, unit, label in (("cpu", "", "CPUs"), ("memory", " MiB", "memory"), ("disk", " MiB", "disk")):
        if res.get(key) is not None and res[key] > target.option(key):
            reasons.append(f"{label} {number_text(res[key])}{unit} > the flow pod's "
                           f"{number_text(target.option(key))}{unit}")
    if res.get("shared_memory"):
        reasons.append(f"{res['shared_memory']} MiB shared memory")
    return reasons


def container_steps(target: Target, flow: ir.Flow) -> list[ir.Step]:
    """The steps that run in a container of their own: the pods check_pods checks."""
    return [s for s in flow.ordered_steps() if reasons_for_container(target, s)]


def container(target: Target, flow: ir.Flow, s: ir.Step, step_prefix: str) -> Optional[Container]:
    """The step's deployment and job variables, from its pod (targets/kubernetes.py)."""
    reasons = reasons_for_container(target, s)
    if not reasons:
        return None
    pod = pod_of(target, s)
    jv = job_variables(target, s, pod)
    work_queue = None
    batch = s.decorators.batch
    if batch is not None:
        for attr in ("iam_role", "execution_role"):
            if getattr(batch, attr):
                target.unsupported(f"@batch({attr}=...) of step '{s.name}' has no Kubernetes counterpart",
                                   batch.span,
                                   "give the pod's service account the role instead (@kubernetes(service_account=...))")
        work_queue = batch.queue
    if has_placeholder(jv) or has_placeholder(work_queue):
        target.unsupported(f"a pod option of step '{s.name}' holds {{{{ }}}}, which prefect deploy would substitute",
                           decorator_span(s), "remove the braces from image names, labels, annotations and selectors")
    return Container(deployment=f"{step_prefix}{s.name}", reasons=reasons, job_variables=jv,
                     work_queue=work_queue)


def job_variables(target: Target, s: ir.Step, pod: Pod) -> dict[str, Any]:
    """The pod as the work pool's job variables. Only what Prefect carries: the
    options refused for Prefect (tmpfs, image pull secrets, security context,
    extended resources) stay out, should --unsupported warn drop them; the
    pod's environment is the runtime's to set, as in the flow's own pod."""
    jv: dict[str, Any] = {"image": pod.image, "namespace": pod.namespace or target.option("namespace")}
    for (kind, name), variable in RESOURCE_VARIABLES.items():
        value = getattr(pod, kind).get(name)
        if value is not None:
            jv[variable] = int(value) if variable.endswith("_gpu") else value
    if pod.needs.gpu and pod.needs.gpu_vendor not in GPU_VENDORS:
        k8s = s.decorators.kubernetes
        target.unsupported(f"GPU vendor {pod.needs.gpu_vendor!r} of step '{s.name}'",
                           k8s.span if k8s is not None else decorator_span(s),
                           "the job template knows nvidia.com/gpu and amd.com/gpu")
    k8s = s.decorators.kubernetes
    if pod.image_pull_policy:
        jv["image_pull_policy"] = pod.image_pull_policy
    if pod.service_account:
        jv["service_account_name"] = pod.service_account
    for variable, value in (("node_selector", pod.node_selector), ("tolerations", pod.tolerations),
                            ("labels", pod.labels), ("annotations", pod.annotations)):
        if value:
            jv[variable] = value
    if k8s is not None and k8s.secrets:  # @secrets are Prefect Secret blocks, read by the task
        jv["env_from"] = [{"secretRef": {"name": name}} for name in dict.fromkeys(k8s.secrets)]
    volumes = [v for v in pod.volumes if v["name"] != "tmpfs"]
    if volumes:
        names = {v["name"] for v in volumes}
        jv["volumes"] = volumes
        jv["volume_mounts"] = [m for m in pod.volume_mounts if m["name"] in names]
    return jv


def decorator_span(s: ir.Step) -> Span:
    d = s.decorators
    for deco in (d.kubernetes, d.batch, d.resources):
        if deco is not None:
            return deco.span
    return s.span


def number(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def number_text(value: float) -> str:
    return str(number(value))

