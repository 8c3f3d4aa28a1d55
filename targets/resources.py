"""What a step needs (CPU, memory, disk, GPUs, shared memory), and how
every target writes it: one unit policy, one set of defaults.

**Units.** @resources, @kubernetes and @batch take memory, disk and shared
memory in MB, as in Metaflow. flowc reads MB as mebibytes (MiB, 2**20
bytes), which is what AWS Batch's MEMORY means, and writes Kubernetes
quantities with the ``Mi`` suffix: ``memory=16000`` asks for the same bytes
on an Argo, Airflow or Prefect pod as in an AWS Batch job. (Metaflow's
Kubernetes plugin writes ``16000M``, 5% fewer bytes than its Batch job.)
CPU is a count of cores, fractions allowed (``0.5``), written as a plain
number on Kubernetes (``"0.5"``) and as Batch's VCPU value.

**Defaults.** A step without @resources still asks for 1 CPU and 4096 MiB,
Metaflow's defaults, on every target: a pod without requests would be
BestEffort (refused by namespaces with a ResourceQuota, evicted first) and a
Batch job needs both values. Disk is asked for only when the step asks.

**Merging.** When @resources, @kubernetes and @batch give the same resource,
the largest value wins, as in Metaflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flowc.compiler import ir

DEFAULT_CPU = 1.0
DEFAULT_MEMORY_MB = 4096
GPU_VENDOR = "nvidia"

_KEYS = ("cpu", "memory", "gpu", "disk", "shared_memory")


@dataclass(frozen=True)
class Needs:
    """A step's resources after merging and defaults. ``asked`` names the
    ones the flow gave (the rest are defaults), for targets that can honour
    only what was asked (a step on an Airflow worker, say)."""

    cpu: float
    memory: int  # MiB
    disk: Optional[int] = None  # MiB
    gpu: int = 0
    gpu_vendor: str = GPU_VENDOR
    shared_memory: Optional[int] = None  # MiB
    asked: frozenset = frozenset()


def asked_of(step: ir.Step) -> dict[str, float]:
    """The resources the step's decorators give, merged (the largest wins)."""
    d = step.decorators
    out: dict[str, float] = {}
    for deco in (d.resources, d.kubernetes, d.batch):
        if deco is None:
            continue
        for key in _KEYS:
            value = getattr(deco, key, None)
            if value is not None:
                out[key] = max(out.get(key, value), value)
    return out


def needs_of(step: ir.Step) -> Needs:
    asked = asked_of(step)
    k8s = step.decorators.kubernetes
    vendor = (k8s.gpu_vendor if k8s is not None and k8s.gpu_vendor else GPU_VENDOR).lower()
    return Needs(
        cpu=float(asked.get("cpu", DEFAULT_CPU)),
        memory=int(asked.get("memory", DEFAULT_MEMORY_MB)),
        disk=int(asked["disk"]) if asked.get("disk") else None,
        gpu=int(asked.get("gpu") or 0),
        gpu_vendor=vendor,
        shared_memory=int(asked["shared_memory"]) if asked.get("shared_memory") else None,
        asked=frozenset(k for k, v in asked.items() if v),
    )


def cpu_text(cpu: float) -> str:
    """A CPU count as Kubernetes and AWS Batch write it: ``1``, ``0.5``."""
    return str(int(cpu)) if float(cpu).is_integer() else str(cpu)


def mebibytes(mb: float) -> str:
    """A Kubernetes quantity for a size in MB (read as MiB): ``4096Mi``."""
    return f"{int(mb)}Mi"
