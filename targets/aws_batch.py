"""One AWS Batch job per step, for every target that submits Batch jobs (Step
Functions' submitJob.sync, Airflow's BatchOperator): its resource
requirements (targets/resources.py's unit policy: VCPU, MEMORY in MiB, GPU),
secrets, tmpfs and the @batch options, and the job definition Step
Functions registers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from flowc.compiler import ir

from .kubernetes import Tmpfs, tmpfs_of
from .resources import Needs, cpu_text, needs_of


def resource_requirements(needs: Needs) -> list[dict[str, str]]:
    """A job's resourceRequirements: VCPU and MEMORY always (the defaults when
    the step asks for none), GPU when asked."""
    out = [{"type": "VCPU", "value": cpu_text(needs.cpu)}, {"type": "MEMORY", "value": str(needs.memory)}]
    if needs.gpu:
        out.append({"type": "GPU", "value": str(needs.gpu)})
    return out


def secret_env_name(source: str) -> str:
    """The environment variable a secret lands in: its name (the last part of
    an ARN), upper case, other characters as underscores."""
    name = source.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


# runtime/secret_files.py: the variables that hold a secret's JSON, expanded as Metaflow does
SECRET_JSON = "FLOWC_SECRET_JSON"


def secret_sources(step: ir.Step) -> list[tuple[str, str]]:
    d = step.decorators
    sources = list(d.secrets.sources) if d.secrets is not None else []
    return [(secret_env_name(src), src) for src in sources]


@dataclass(frozen=True)
class JobDefinition:
    step: str
    name: str
    image: str
    command: tuple[str, ...]
    needs: Needs  # VCPU, MEMORY (MiB) and GPU: resource_requirements
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[tuple[str, str], ...]
    job_role: str
    execution_role: str
    shared_memory: int | None
    timeout: int | None
    tags: tuple[tuple[str, str], ...]
    linux: tuple[tuple[str, Any], ...] = ()  # linuxParameters besides shared memory (tmpfs, swap)
    container: tuple[tuple[str, Any], ...] = ()  # more containerProperties (@batch options)

    def api(self) -> dict:
        """A RegisterJobDefinition request (aws batch register-job-definition --cli-input-json)."""
        container: dict[str, Any] = {"image": self.image, "command": list(self.command)}
        container["resourceRequirements"] = resource_requirements(self.needs)
        environment = dict(self.environment)
        if self.secrets:  # each holds a secret's JSON text: the runtime makes every key a variable
            environment[SECRET_JSON] = ":".join(k for k, _ in self.secrets)
        if environment:
            container["environment"] = [{"name": k, "value": v} for k, v in sorted(environment.items())]
        if self.secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in self.secrets]
        if self.job_role:
            container["jobRoleArn"] = self.job_role
        if self.execution_role:
            container["executionRoleArn"] = self.execution_role
        if self.shared_memory:
            container["linuxParameters"] = {"sharedMemorySize": self.shared_memory}
        if self.linux:
            container["linuxParameters"] = {**container.get("linuxParameters", {}), **dict(self.linux)}
        container.update(dict(self.container))
        out: dict[str, Any] = {"jobDefinitionName": self.name, "type": "container",
                               "containerProperties": container,
                               # Step Functions retries (@retry), so attempt numbers stay its own
                               "retryStrategy": {"attempts": 1}}
        if self.timeout:
            out["timeout"] = {"attemptDurationSeconds": self.timeout}
        if self.tags:
            out["tags"] = dict(self.tags)
            out["propagateTags"] = True
        return out

    def cloudformation(self) -> dict:
        """The same job definition as an AWS::Batch::JobDefinition resource."""
        api = self.api()
        container = api["containerProperties"]
        props: dict[str, Any] = {
            "JobDefinitionName": api["jobDefinitionName"],
            "Type": "container",
            "ContainerProperties": _pascal(container),
            "RetryStrategy": {"Attempts": 1},
        }
        if "timeout" in api:
            props["Timeout"] = {"AttemptDurationSeconds": api["timeout"]["attemptDurationSeconds"]}
        if "tags" in api:
            props["Tags"] = api["tags"]
            props["PropagateTags"] = True
        return {"Type": "AWS::Batch::JobDefinition", "Properties": props}


def _pascal(value: Any) -> Any:
    """camelCase API keys as CloudFormation's PascalCase (values untouched)."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


def batch_tmpfs(step: ir.Step, memory: int) -> Tmpfs | None:
    """@batch(use_tmpfs=...) (or @kubernetes's, carried onto AWS Batch), with Metaflow's defaults."""
    found = tmpfs_of(step)
    b = step.decorators.batch
    opts = b.options if b is not None else {}
    if found is None and (opts.get("use_tmpfs") or opts.get("tmpfs_size")):
        found = Tmpfs(opts.get("tmpfs_path", "/metaflow_temp"), int(opts.get("tmpfs_size") or memory // 2),
                      bool(opts.get("tmpfs_tempdir", True)))
    return found


def batch_job_options(step: ir.Step, res: Optional[dict[str, Any]] = None):
    """What @batch's options (compiler/decorators.py OPTIONS) add to the job definition:
    (linuxParameters, containerProperties, environment, tags)."""
    b = step.decorators.batch
    opts = b.options if b is not None else {}
    linux: dict[str, Any] = {}
    container: dict[str, Any] = {}
    env: dict[str, str] = {}
    tmpfs = batch_tmpfs(step, needs_of(step).memory)
    if tmpfs is not None:
        linux["tmpfs"] = [{"containerPath": tmpfs.path, "size": tmpfs.size_mb}]
        if tmpfs.tempdir:
            env["METAFLOW_TEMPDIR"] = tmpfs.path
    for key, api in (("max_swap", "maxSwap"), ("swappiness", "swappiness")):
        if opts.get(key) is not None:
            linux[api] = opts[key]
    if opts.get("privileged") is not None:
        container["privileged"] = opts["privileged"]
    if opts.get("log_driver"):
        container["logConfiguration"] = {"logDriver": opts["log_driver"]}
        if opts.get("log_options"):
            container["logConfiguration"]["options"] = dict(o.split(":", 1) for o in opts["log_options"])
    if opts.get("ephemeral_storage"):
        container["ephemeralStorage"] = {"sizeInGiB": opts["ephemeral_storage"]}
    volumes, mounts = [], []
    for i, path in enumerate(opts.get("host_volumes") or ()):
        volumes.append({"name": f"host-{i}", "host": {"sourcePath": path}})
        mounts.append({"sourceVolume": f"host-{i}", "containerPath": path})
    for i, spec in enumerate(opts.get("efs_volumes") or ()):
        fs, _, path = spec.partition(":")
        volumes.append({"name": f"efs-{i}", "efsVolumeConfiguration": {"fileSystemId": fs}})
        mounts.append({"sourceVolume": f"efs-{i}", "containerPath": path})
    if volumes:
        container["volumes"], container["mountPoints"] = volumes, mounts
    return linux, container, env, dict(opts.get("aws_batch_tags") or {})
