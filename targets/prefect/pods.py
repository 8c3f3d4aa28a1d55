"""Where a step runs: the flow's own pod, or a container of its own (a
deployment of the Kubernetes work pool), and the job variables of each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from flowc.compiler import ir
from flowc.compiler.spans import Span

from ..resources import asked_of as resources_of
from .plan import Container
from .yamltext import has_placeholder

if TYPE_CHECKING:
    from .target import PrefectTarget

def pod_variables(target: "PrefectTarget") -> dict[str, Any]:
    """Job variables of the flow's own pod (its deployment)."""
    out: dict[str, Any] = {"image": target.option("image"), "namespace": target.option("namespace"),
                           "cpu_request": number_text(target.option("cpu")),
                           "memory_request": f"{target.option('memory')}M"}
    if target.option("disk"):
        out["ephemeral_storage_request"] = f"{target.option('disk')}M"
    return out



def container(target: "PrefectTarget", flow: ir.Flow, s: ir.Step, step_prefix: str) -> Optional[Container]:
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
    for key, unit, label in (("cpu", "", "CPUs"), ("memory", " MB", "memory"), ("disk", " MB", "disk")):
        if res.get(key) is not None and res[key] > target.option(key):
            reasons.append(f"{label} {number_text(res[key])}{unit} > the flow pod's "
                           f"{number_text(target.option(key))}{unit}")
    if res.get("shared_memory"):
        reasons.append(f"{res['shared_memory']} MB shared memory")
    if not reasons:
        return None
    where = decorator_span(s)
    jv: dict[str, Any] = {"image": image, "namespace": target.option("namespace")}
    k8s, batch = d.kubernetes, d.batch
    if res.get("cpu") is not None:
        jv["cpu_request"] = number_text(res["cpu"])
    if res.get("memory") is not None:
        jv["memory_request"] = f"{res['memory']}M"
    if res.get("disk") is not None:
        jv["ephemeral_storage_request"] = f"{res['disk']}M"
    if res.get("gpu"):
        vendor = (k8s.gpu_vendor if k8s is not None and k8s.gpu_vendor else "nvidia").lower()
        if vendor not in ("nvidia", "amd"):
            target.unsupported(f"GPU vendor {vendor!r} of step '{s.name}'", k8s.span,
                             "the job template knows nvidia.com/gpu and amd.com/gpu")
        jv[f"{vendor}_gpu"] = res["gpu"]
    volumes, mounts = [], []
    if res.get("shared_memory"):
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{res['shared_memory']}M"}})
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    work_queue = None
    if k8s is not None:
        if k8s.image_pull_policy:
            jv["image_pull_policy"] = k8s.image_pull_policy
        if k8s.namespace:
            jv["namespace"] = k8s.namespace
        if k8s.service_account:
            jv["service_account_name"] = k8s.service_account
        if k8s.node_selector:
            jv["node_selector"] = dict(sorted(k8s.node_selector.items()))
        if k8s.tolerations:
            jv["tolerations"] = [toleration(t) for t in k8s.tolerations]
        if k8s.labels:
            jv["labels"] = dict(sorted(k8s.labels.items()))
        if k8s.annotations:
            jv["annotations"] = dict(sorted(k8s.annotations.items()))
        if k8s.secrets:
            jv["env_from"] = [{"secretRef": {"name": name}} for name in k8s.secrets]
        for i, (claim, path) in enumerate(sorted(k8s.persistent_volume_claims.items())):
            volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": claim}})
            mounts.append({"name": f"pvc-{i}", "mountPath": path})
    if batch is not None:
        for attr in ("iam_role", "execution_role"):
            if getattr(batch, attr):
                target.unsupported(f"@batch({attr}=...) of step '{s.name}' has no Kubernetes counterpart",
                                 batch.span,
                                 "give the pod's service account the role instead (@kubernetes(service_account=...))")
        work_queue = batch.queue
    if volumes:
        jv["volumes"] = volumes
        jv["volume_mounts"] = mounts
    if has_placeholder(jv) or has_placeholder(work_queue):
        target.unsupported(f"a pod option of step '{s.name}' holds {{{{ }}}}, which prefect deploy would substitute",
                         where, "remove the braces from image names, labels, annotations and selectors")
    return Container(deployment=f"{step_prefix}{s.name}", reasons=reasons, job_variables=jv,
                     work_queue=work_queue)



def decorator_span(s: ir.Step) -> Span:
    d = s.decorators
    for deco in (d.kubernetes, d.batch, d.resources):
        if deco is not None:
            return deco.span
    return s.span



def triggers(target: "PrefectTarget", flow: ir.Flow) -> list[dict[str, Any]]:
    trig = flow.decorators.trigger
    if trig is None:
        return []
    if has_placeholder(list(trig.events)):
        target.unsupported("an event name holds {{ }}, which prefect deploy would substitute", trig.span,
                         "name the event without braces")
    single = [{"type": "event", "expect": [e], "posture": "Reactive", "threshold": 1, "within": 0}
              for e in trig.events]
    if len(single) == 1:
        return single
    return [{"type": "compound", "require": "all", "within": 86400, "triggers": single}]


def number(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def number_text(value: float) -> str:
    return str(number(value))


def toleration(t: ir.Toleration) -> dict[str, Any]:
    out = {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect,
           "tolerationSeconds": t.toleration_seconds}
    return {k: v for k, v in out.items() if v is not None}
