"""One Kubernetes pod per step, for every target that runs pods: Argo's
container templates, Airflow's KubernetesPodOperator, Prefect's Kubernetes
work pool. The pod is lowered here once, in Kubernetes' own API shapes
(camelCase field names), and each target only writes it in its own syntax.

What goes into it (targets/resources.py states the unit policy):

- requests: CPU, memory (defaults 1 and 4096Mi), ephemeral storage when the
  step asks for disk, and @kubernetes(extended_resources=...);
- limits: memory equal to its request (a pod that outgrows what it asked is
  stopped by its own limit instead of evicting its neighbours), GPUs
  (``<vendor>.com/gpu``: Kubernetes takes GPUs as limits), extended
  resources. CPU is not limited (throttling a step only slows it), as in
  Metaflow. @kubernetes(qos="Guaranteed") sets every limit to its request;
  qos="BestEffort" drops requests and limits, which Kubernetes requires for it;
- shared memory: a memory-backed volume at /dev/shm; @kubernetes(use_tmpfs=)
  a memory-backed folder (METAFLOW_TEMPDIR points at it), as in Metaflow;
- node selector, tolerations, labels, annotations, service account, image
  pull policy and secrets, image pull secrets, security context, PVCs.

``check_pods`` refuses, for every such target alike, the values Kubernetes
would reject (label keys and values, annotation keys, secret and env names,
GPU vendors), before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from flowc.compiler import ir
from flowc.compiler.spans import Span

from .resources import Needs, cpu_text, mebibytes, needs_of

if TYPE_CHECKING:
    from .base import Target

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\Z")
ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
VENDOR = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


@dataclass(frozen=True)
class Tmpfs:
    """@kubernetes(use_tmpfs=...) / @batch(use_tmpfs=...): a memory-backed folder."""

    path: str
    size_mb: int
    tempdir: bool  # METAFLOW_TEMPDIR points at it


def tmpfs_of(step: ir.Step) -> Optional[Tmpfs]:
    """The step's tmpfs, with Metaflow's defaults: on when use_tmpfs or tmpfs_size
    is given, at /metaflow_temp, half the step's memory."""
    k8s = step.decorators.kubernetes
    opts = k8s.options if k8s is not None else {}
    if not (opts.get("use_tmpfs") or opts.get("tmpfs_size")):
        return None
    size = opts.get("tmpfs_size") or needs_of(step).memory // 2
    return Tmpfs(opts.get("tmpfs_path", "/metaflow_temp"), int(size), bool(opts.get("tmpfs_tempdir", True)))


@dataclass
class Pod:
    """A step's pod, in Kubernetes' API shapes. ``namespace`` and
    ``service_account`` are the step's own (None: the target's default)."""

    image: str
    needs: Needs
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    image_pull_policy: Optional[str] = None
    namespace: Optional[str] = None
    service_account: Optional[str] = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # @environment, and METAFLOW_TEMPDIR for a tmpfs
    secrets: list[str] = field(default_factory=list)  # Kubernetes secrets loaded as env (envFrom)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    image_pull_secrets: list[str] = field(default_factory=list)
    security_context: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, str]]:
        """The container's ``resources`` object."""
        out = {}
        if self.requests:
            out["requests"] = dict(self.requests)
        if self.limits:
            out["limits"] = dict(self.limits)
        return out


def secret_names(step: ir.Step) -> list[str]:
    """Kubernetes secrets a step loads as environment variables: @secrets'
    sources, then @kubernetes(secrets=...), each once."""
    d = step.decorators
    out: list[str] = []
    for group in ((d.secrets.sources if d.secrets is not None else ()),
                  (d.kubernetes.secrets if d.kubernetes is not None else ())):
        for name in group:
            if name not in out:
                out.append(name)
    return out


def requests_and_limits(step: ir.Step, needs: Needs) -> tuple[dict[str, str], dict[str, str]]:
    k8s = step.decorators.kubernetes
    opts = k8s.options if k8s is not None else {}
    requests = {"cpu": cpu_text(needs.cpu), "memory": mebibytes(needs.memory)}
    if needs.disk:
        requests["ephemeral-storage"] = mebibytes(needs.disk)
    limits = {"memory": requests["memory"]}
    for name, amount in sorted((opts.get("extended_resources") or {}).items()):
        requests[name] = limits[name] = str(amount)
    qos = (opts.get("qos") or "").lower()
    if qos == "guaranteed":
        limits.update(requests)
    if needs.gpu:
        limits[f"{needs.gpu_vendor}.com/gpu"] = str(needs.gpu)
    if qos == "besteffort":  # no request or limit may be set (GPUs aside)
        requests = {}
        limits = {k: v for k, v in limits.items() if k.endswith(".com/gpu")}
    return requests, limits


def pod_of(target: "Target", step: ir.Step) -> Pod:
    """The pod of a step (its image chosen by the target: Target.image_for)."""
    d = step.decorators
    k8s = d.kubernetes
    needs = needs_of(step)
    requests, limits = requests_and_limits(step, needs)
    pod = Pod(image=target.image_for(step), needs=needs, requests=requests, limits=limits)
    pod.env = {k: str(v) for k, v in sorted((d.environment.vars if d.environment is not None else {}).items())}
    pod.secrets = secret_names(step)
    if needs.shared_memory:
        pod.volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory",
                                                         "sizeLimit": mebibytes(needs.shared_memory)}})
        pod.volume_mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    tmpfs = tmpfs_of(step)
    if tmpfs is not None:
        pod.volumes.append({"name": "tmpfs", "emptyDir": {"medium": "Memory", "sizeLimit": mebibytes(tmpfs.size_mb)}})
        pod.volume_mounts.append({"name": "tmpfs", "mountPath": tmpfs.path})
        if tmpfs.tempdir:
            pod.env = dict(sorted({**pod.env, "METAFLOW_TEMPDIR": tmpfs.path}.items()))
    if k8s is None:
        return pod
    pod.image_pull_policy = k8s.image_pull_policy or None
    pod.namespace = k8s.namespace or None
    pod.service_account = k8s.service_account or None
    pod.node_selector = dict(sorted(k8s.node_selector.items()))
    pod.tolerations = [toleration(t) for t in k8s.tolerations]
    pod.labels = dict(sorted(k8s.labels.items()))
    pod.annotations = dict(sorted(k8s.annotations.items()))
    for i, (claim, path) in enumerate(sorted(k8s.persistent_volume_claims.items())):
        pod.volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": claim}})
        pod.volume_mounts.append({"name": f"pvc-{i}", "mountPath": path})
    pod.image_pull_secrets = list(k8s.options.get("image_pull_secrets") or [])
    pod.security_context = camel(k8s.options.get("security_context") or {})
    return pod


def toleration(t: ir.Toleration) -> dict[str, Any]:
    return {key: value for key, value in (("key", t.key), ("operator", t.operator), ("value", t.value),
                                          ("effect", t.effect), ("tolerationSeconds", t.toleration_seconds))
            if value is not None}


def camel(value: Any) -> Any:
    """Kubernetes field names as its API writes them (run_as_user -> runAsUser), all the way down."""
    if isinstance(value, dict):
        return {_camel(k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ------------------------------------------------------------ what Kubernetes rejects


def check_pods(target: "Target", flow: ir.Flow, steps: Optional[list[ir.Step]] = None,
               step_secrets: bool = True) -> None:
    """FC501 naming the target for every value a pod of these steps (default:
    all) would carry and Kubernetes would reject. ``step_secrets=False``: the
    target reads @secrets' sources elsewhere than from Kubernetes (Prefect's
    Secret blocks), so only @kubernetes(secrets=...) name Kubernetes secrets."""
    for s in steps if steps is not None else flow.ordered_steps():
        d = s.decorators
        k8s = d.kubernetes
        names = secret_names(s) if step_secrets else list(k8s.secrets if k8s is not None else ())
        for secret in names:
            if not DNS_SUBDOMAIN.match(secret) or len(secret) > 253:
                span = (d.secrets or k8s).span
                target.unsupported(f"secret '{secret}' of step '{s.name}' is not a Kubernetes secret name", span,
                                   f"{target.name} reads secrets from Kubernetes: name one by its DNS name")
        for key in d.environment.vars if d.environment is not None else ():
            if not ENV_NAME.match(key):
                target.unsupported(f"@environment variable '{key}' is not a valid Kubernetes env name",
                                   d.environment.span)
        if k8s is None:
            continue
        for key, value in k8s.labels.items():
            check_label(target, key, value, f"label of step '{s.name}'", k8s.span)
        for key in k8s.annotations:
            check_label(target, key, None, f"annotation of step '{s.name}'", k8s.span)
        if k8s.gpu_vendor and not VENDOR.match(k8s.gpu_vendor.lower()):
            target.unsupported(f"gpu_vendor '{k8s.gpu_vendor}' of step '{s.name}' is not a resource vendor name",
                               k8s.span)


def check_label(target: "Target", key: str, value: Optional[str], what: str, span: Span,
                option: bool = False) -> None:
    """A label (or, without a value, an annotation) Kubernetes accepts: FC501
    for a decorator's, FC502 for an option's."""
    def report(message: str, hint: Optional[str] = None) -> None:
        if option:
            target.error("FC502", message, span, hint)
        else:
            target.unsupported(message, span, hint)

    prefix, _, name = key.rpartition("/")
    if (prefix and (not DNS_SUBDOMAIN.match(prefix) or len(prefix) > 253)) or not name or len(name) > 63 \
            or not LABEL_NAME.match(name):
        report(f"{what} '{key}' is not a valid Kubernetes key")
    if value is not None and (len(value) > 63 or not LABEL_NAME.match(value)):
        report(f"{what} '{key}' has the value {value!r}, which Kubernetes does not accept",
               "label values are at most 63 letters, digits, '-', '_' or '.'")
