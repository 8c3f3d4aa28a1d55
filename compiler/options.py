"""Which decorators flowc reads, and every option of each as Metaflow 2.19
spells it, with what flowc does with it (honoured, carried by some targets,
or accepted and ignored).

Kept apart from compiler/decorators.py (which reads the arguments with
libcst) so that targets can consult the table without loading the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STEP_DECORATORS = (
    "resources", "retry", "timeout", "catch", "environment", "pypi", "conda",
    "secrets", "kubernetes", "batch", "card",
)
FLOW_DECORATORS = ("schedule", "project", "trigger", "trigger_on_finish", "pypi_base", "conda_base")
# Metaflow names flowc reads but cannot honour: an error, never a silent drop.
UNSUPPORTED = {
    "parallel": "@parallel (gang-scheduled multi-node steps) is not supported by flowc",
    "exit_hook": "@exit_hook is not supported yet",
    "checkpoint": "@checkpoint is not supported by flowc",
    "model": "@model is not supported by flowc",
    "huggingface_hub": "@huggingface_hub is not supported by flowc",
    "uv": "@uv is not supported; use @pypi",
    "slurm": "@slurm is not supported by flowc",
    "nvidia": "@nvidia is not supported by flowc",
    "nvct": "@nvct is not supported by flowc",
    "snowpark": "@snowpark is not supported by flowc",
    "airflow_external_task_sensor": "use Airflow sensors outside the flow",
    "airflow_s3_key_sensor": "use Airflow sensors outside the flow",
}


# ------------------------------------------------------------ the option table
#
# Every option of Metaflow 2.19's decorators, Parameter and @step, and what
# flowc does with it (docs/options.md prints this table; a test checks it
# against Metaflow's own `defaults`). An option is
#   honoured: read into the IR and honoured wherever the decorator means something;
#   carried:  read into the decorator's `options` in the IR; the targets named
#             honour it, every other target that runs the decorator reports FC501;
#   ignored:  accepted; ignoring it changes nothing a run produces (FC407 warning,
#             unless `quiet`: display-only options).

HONOURED, CARRIED, IGNORED = "honoured", "carried", "ignored"


@dataclass(frozen=True)
class Opt:
    how: str
    note: str = ""
    targets: tuple[str, ...] = ()  # carried: the targets that honour it
    quiet: bool = False  # ignored without a warning


def _h(note: str = "") -> Opt:
    return Opt(HONOURED, note)


def _c(note: str, *targets: str) -> Opt:
    return Opt(CARRIED, note, targets)


def _i(note: str, quiet: bool = False) -> Opt:
    return Opt(IGNORED, note, (), quiet)


_K8S_PODS = ("argo", "airflow")
_TMPFS = ("argo", "airflow", "stepfunctions", "kubeflow")  # a pod's emptyDir; a Batch job's linuxParameters.tmpfs
_BATCH_JOB = ("stepfunctions",)  # options of the job definition Step Functions registers
_PACKAGES = {"packages": _h("exact pins, built into the step's environment"),
             "python": _h("a version or a pip-style specifier, e.g. '3.11', '3.10.*', '>=3.10,<3.12'"),
             "disabled": _h("no environment for this step")}

OPTIONS: dict[str, dict[str, Opt]] = {
    "step": {"start": _h(), "end": _h(),
             "node_info": _i("metadata for Metaflow extensions on the graph node; flowc's graph carries none")},
    "Parameter": {"name": _h(), "default": _h(), "type": _h(), "help": _h(), "required": _h(),
                  "show_default": _i("display only: `flowc run --help` always shows defaults", quiet=True),
                  "separator": _h("the text value is split into a list, on every target"),
                  "is_flag": _h("`flowc run --name` alone sets it; orchestrators pass true/false")},
    "resources": {k: _h() for k in ("cpu", "memory", "gpu", "disk", "shared_memory")},
    "retry": {"times": _h(),
              "minutes_between_retries": _h("orchestrators wait between tries; `flowc run` retries at once, "
                                            "as Metaflow's local runtime does")},
    "timeout": {k: _h() for k in ("seconds", "minutes", "hours")},
    "catch": {"var": _h(), "print_exception": _h()},
    "environment": {"vars": _h()},
    "pypi": dict(_PACKAGES),
    "conda": {**_PACKAGES, "libraries": _h("the old name of packages="),
              "channels": _i("a resolver detail: environments are built from conda-forge", quiet=True)},
    "pypi_base": dict(_PACKAGES),
    "conda_base": {**_PACKAGES, "libraries": _h("the old name of packages="),
                   "channels": _i("a resolver detail: environments are built from conda-forge", quiet=True)},
    "secrets": {"sources": _h("Kubernetes secret names / secret ids"),
                "role": _c("an IAM role to assume to read the secrets"),
                "allow_override": _i("flowc never refuses a secret that shadows a variable")},
    "kubernetes": {
        **{k: _h() for k in ("cpu", "memory", "disk", "image", "image_pull_policy", "service_account", "secrets",
                             "node_selector", "namespace", "gpu", "gpu_vendor", "tolerations", "labels",
                             "annotations", "persistent_volume_claims", "shared_memory")},
        "use_tmpfs": _c("a memory-backed folder at tmpfs_path", *_TMPFS),
        "tmpfs_tempdir": _c("METAFLOW_TEMPDIR set to tmpfs_path", *_TMPFS),
        "tmpfs_size": _c("the tmpfs size in MiB (default: half the memory)", *_TMPFS),
        "tmpfs_path": _c("where the tmpfs is mounted (default /metaflow_temp)", *_TMPFS),
        "image_pull_secrets": _c("imagePullSecrets of the pod", *_K8S_PODS, "kubeflow"),
        "port": _i("a declared container port is informational in Kubernetes"),
        "compute_pool": _c("an Outerbounds compute pool"),
        "executable": _c("another Python executable in the image"),
        "hostname_resolution_timeout": _i("only for @parallel, which flowc refuses"),
        "qos": _c("the pod's QoS class: Guaranteed sets every limit to its request, BestEffort drops them", *_K8S_PODS),
        "extended_resources": _c("requested and limited like cpu and memory", *_K8S_PODS),
        "security_context": _c("the container's securityContext (Kubernetes' field names, snake_case or camelCase)",
                               *_K8S_PODS),
    },
    "batch": {
        **{k: _h() for k in ("cpu", "gpu", "memory", "image", "queue", "iam_role", "execution_role",
                             "shared_memory")},
        "use_tmpfs": _c("linuxParameters.tmpfs at tmpfs_path", *_BATCH_JOB),
        "tmpfs_tempdir": _c("METAFLOW_TEMPDIR set to tmpfs_path", *_BATCH_JOB),
        "tmpfs_size": _c("the tmpfs size in MiB (default: half the memory)", *_BATCH_JOB),
        "tmpfs_path": _c("where the tmpfs is mounted (default /metaflow_temp)", *_BATCH_JOB),
        "max_swap": _c("linuxParameters.maxSwap (MiB)", *_BATCH_JOB),
        "swappiness": _c("linuxParameters.swappiness", *_BATCH_JOB),
        "privileged": _c("the container runs privileged", *_BATCH_JOB),
        "aws_batch_tags": _c("tags of the job definition, propagated to its jobs", *_BATCH_JOB),
        "log_driver": _c("logConfiguration.logDriver", *_BATCH_JOB),
        "log_options": _c("logConfiguration.options, as 'key:value' texts", *_BATCH_JOB),
        "ephemeral_storage": _c("ephemeralStorage in GiB (Fargate)", *_BATCH_JOB),
        "host_volumes": _c("host paths mounted at the same path", *_BATCH_JOB),
        "efs_volumes": _c("EFS file systems, 'fs-id:/mount/path'", *_BATCH_JOB),
        **{k: _c("accelerator devices of the job") for k in ("inferentia", "trainium", "efa")},
        "executable": _c("another Python executable in the image"),
    },
    "card": {"type": _h("'default' or 'blank'"), "id": _h(), "options": _h("the card's options, e.g. title"),
             "timeout": _h("seconds the rendering may take"), "save_errors": _h("a failed rendering shows as an error card"),
             "customize": _h("the card current.card.append() edits"),
             "refresh_interval": _h("how often current.card.refresh() may re-render (seconds)"),
             "scope": _i("Metaflow's old option; cards are per task", quiet=True),
             "rank": _i("only for @parallel, which flowc refuses", quiet=True)},
    "schedule": {k: _h() for k in ("cron", "weekly", "daily", "hourly", "timezone")},
    "project": {k: _h() for k in ("name", "production", "branch")},
    "trigger": {"event": _h(), "events": _h(), "options": _c("engine options of the event trigger")},
    "trigger_on_finish": {"flow": _h(), "flows": _h(), "options": _c("engine options of the event trigger")},
}


def carried(deco: Any, name: str) -> Opt:
    """The table's entry of a carried option of an IR decorator (``Kubernetes`` ...)."""
    return OPTIONS[type(deco).__name__.lower()][name]
