"""Each step's executor: the container running the runtime's one command, and
its Kubernetes settings in the platform spec (kfp-kubernetes'
KubernetesExecutorConfig), both from the shared pod lowering
(targets/kubernetes.py ``pod_of``; units: targets/resources.py).

- resources: ``resourceCpuRequest``, ``resourceMemoryRequest`` and
  ``resourceMemoryLimit`` as Kubernetes quantities (``1``, ``4096Mi``), GPUs
  as an accelerator (``nvidia.com/gpu`` or ``<gpu_vendor>.com/gpu``, count);
- env: @environment (and METAFLOW_TEMPDIR for a tmpfs), and
  ``FLOWC_SECRET_DIRS`` naming the step's secret folders;
- secrets (@secrets, @kubernetes(secrets=...)): KFP's platform spec maps only
  named keys to variables (``secretAsEnv``), so each secret is mounted whole
  as a folder (``secretAsVolume`` at ``/etc/flowc/secrets/NAME``) and the
  runtime sets a variable per key before the step runs, as ``envFrom`` would
  (runtime/secret_files.py);
- platform: node selector, tolerations, pod labels and annotations, image pull
  policy and secrets, PVCs, shared memory, tmpfs (an emptyDir in memory), and
  ``activeDeadlineSeconds`` (the engine's timeout: @timeout + 60 s, else 5 days).
"""

from __future__ import annotations

import json
from typing import Any

from flowc.compiler import ir

from ..base import engine_timeout, Target
from ..kubernetes import pod_of, tmpfs_of
from .names import OUTPUT

SECRETS_ROOT = "/etc/flowc/secrets"  # one folder per secret below it
SECRET_DIRS = "FLOWC_SECRET_DIRS"  # the runtime's variable naming them (runtime/secret_files.py)

RUN_ID = "{{$.pipeline_job_uuid}}"
OUTPUT_FILE = "{{$.outputs.parameters['%s'].output_file}}" % OUTPUT


INDEX = "index"  # the input of a task inside a foreach: its item, the whole index path ("2.1")


def index_expr(depth: int) -> str:
    """``--index``: the task's foreach index path (``0`` outside any foreach)."""
    return "{{$.inputs.parameters['%s']}}" % INDEX if depth else "0"


def container(target: Target, flow: ir.Flow, s: ir.Step, params: dict[str, str]) -> dict[str, Any]:
    """The executor's container (``params``: flow parameter -> pipeline input name, for the start step)."""
    extra = ["--output-value", OUTPUT_FILE] if s.kind in (ir.FOREACH, ir.SWITCH) else []
    argv = target.runtime_argv(flow, s, run_id=RUN_ID, index=index_expr(s.depth), attempt="auto", extra=extra)
    args: list[Any] = []
    if s.name == flow.start:
        for p in flow.parameters:
            name = params[p.name]
            pair = ["--param", f"{p.name}={{{{$.inputs.parameters['{name}']}}}}"]
            if p.default is None:  # absent unless given: the runtime applies "no value" or refuses a required one
                # KFP's own spelling of the placeholder (its readers match the text '{"IfPresent": ')
                args.append(json.dumps({"IfPresent": {"InputName": name, "Then": pair}}, ensure_ascii=False))
            else:
                args += pair
    pod = pod_of(target, s)
    spec: dict[str, Any] = {"image": pod.image, "command": argv}
    if args:
        spec["args"] = args
    env = dict(pod.env)
    if pod.secrets:
        env[SECRET_DIRS] = ":".join(secret_folder(name) for name in pod.secrets)
    if env:
        spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    resources: dict[str, Any] = {}
    for key, field in (("cpu", "resourceCpuRequest"), ("memory", "resourceMemoryRequest")):
        if key in pod.requests:
            resources[field] = pod.requests[key]
    for key, field in (("cpu", "resourceCpuLimit"), ("memory", "resourceMemoryLimit")):
        if key in pod.limits:
            resources[field] = pod.limits[key]
    if pod.needs.gpu:
        resources["accelerator"] = {"resourceType": f"{pod.needs.gpu_vendor}.com/gpu",
                                    "resourceCount": str(pod.needs.gpu)}
    if resources:
        spec["resources"] = resources
    return {"container": spec}


def secret_folder(name: str) -> str:
    """Where a secret is mounted (a Kubernetes secret's name is a DNS subdomain: a safe folder name)."""
    return f"{SECRETS_ROOT}/{name}"


def platform(target: Target, s: ir.Step) -> dict[str, Any]:
    """The step's KubernetesExecutorConfig (camelCase, as kfp-kubernetes writes it)."""
    pod = pod_of(target, s)
    out: dict[str, Any] = {"activeDeadlineSeconds": str(engine_timeout(s))}
    if pod.node_selector:
        out["nodeSelector"] = {"labels": dict(pod.node_selector)}
    if pod.tolerations:
        out["tolerations"] = [dict(t) for t in pod.tolerations]
    if pod.labels or pod.annotations:
        meta: dict[str, Any] = {}
        if pod.labels:
            meta["labels"] = dict(pod.labels)
        if pod.annotations:
            meta["annotations"] = dict(pod.annotations)
        out["podMetadata"] = meta
    if pod.image_pull_policy:
        out["imagePullPolicy"] = pod.image_pull_policy
    if pod.image_pull_secrets:
        out["imagePullSecret"] = [{"secretName": name} for name in pod.image_pull_secrets]
    if pod.secrets:  # as kfp-kubernetes' use_secret_as_volume writes it
        out["secretAsVolume"] = [{"secretName": name, "secretNameParameter": {"runtimeValue": {"constant": name}},
                                  "mountPath": secret_folder(name)} for name in pod.secrets]
    k8s = s.decorators.kubernetes
    claims = sorted(k8s.persistent_volume_claims.items()) if k8s is not None else []
    if claims:
        out["pvcMount"] = [{"constant": claim, "pvcNameParameter": {"runtimeValue": {"constant": claim}},
                            "mountPath": path} for claim, path in claims]
    if pod.needs.shared_memory:
        out["enabledSharedMemory"] = {"volumeName": "dshm", "size": f"{pod.needs.shared_memory}Mi"}
    tmpfs = tmpfs_of(s)
    if tmpfs is not None:
        out["emptyDirMounts"] = [{"volumeName": "tmpfs", "mountPath": tmpfs.path, "medium": "Memory",
                                  "sizeLimit": f"{tmpfs.size_mb}Mi"}]
    return out


def check(target: Target, s: ir.Step) -> None:
    """FC501 for what a step's pod asks and a KFP executor cannot say."""
    d = s.decorators
    pod = pod_of(target, s)
    k8s = d.kubernetes
    if k8s is not None and k8s.namespace:
        target.unsupported(f"@kubernetes(namespace=...) on step '{s.name}': a KFP run's pods all run in the "
                           "run's namespace", k8s.span, "choose the namespace when you create the run")
    if k8s is not None and k8s.service_account:
        target.unsupported(f"@kubernetes(service_account=...) on step '{s.name}': KFP takes one service "
                           "account per run", k8s.span, "give it when you create the run (service_account)")
    if pod.needs.disk:
        deco = next(x for x in (d.resources, d.kubernetes) if x is not None and getattr(x, "disk", None))
        target.unsupported(f"the disk of step '{s.name}' cannot be expressed: a KFP container's resources "
                           "have no ephemeral storage", deco.span, "mount a PVC with @kubernetes(persistent_volume_claims=...)")
