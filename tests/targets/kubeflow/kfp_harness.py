"""kfp's own tooling on flowc's Kubeflow packages, run in .venv-kfp (kfp's pins
clash with ours: mk/kubeflow.mk builds it); tests call it as a subprocess.

    kfp_harness.py validate PACKAGE.yaml... [--recurring RECURRING_RUN.json]
        The PipelineSpec document parsed into kfp's PipelineSpec protobuf, every
        executor into its ExecutorSpec, the PlatformSpec document into
        PlatformSpec and every Kubernetes executor config into kfp-kubernetes'
        KubernetesExecutorConfig, each with unknown fields rejected; the package
        loaded by kfp's loader (kfp.components.load_component_from_file); a
        recurring run read into kfp_server_api's V2beta1RecurringRun (every key known).

    kfp_harness.py run PACKAGE.yaml --run-id RUN [--params JSON] [--root DIR] [--secrets DIR]
        The pipeline run by kfp's own local DAG orchestrator
        (kfp/local/orchestrator/enhanced_dag_orchestrator.py: ParallelFor,
        trigger conditions, retry policies) through kfp.local's own entry point
        (the loaded component called after kfp.local.init). kfp.local's
        SubprocessRunner refuses container components and its DockerRunner needs
        Docker, so only the container's launch is swapped: the task handler runs
        the task's resolved command (``python -m flowc.runtime step ...``) as a
        subprocess here instead of in its image. The pipeline job's id
        ({{$.pipeline_job_uuid}}, flowc's run id) is RUN. One more patch: kfp.local
        cannot hand a task an input whose value is null (an optional parameter
        without a default: to_protobuf_value(None) raises), so a null argument is
        left out, as KFP's driver leaves an optional input without a value unset
        (the start task's IfPresent then passes no --param).
        kfp.local applies no platform spec, so the harness mounts what the
        spec's ``secretAsVolume`` entries mount, as a kubelet would: the secret
        named X is the folder DIR/X (written by the test, one file per key), and
        each entry's mountPath, wherever a task's env or command names it, is
        that folder (a secret the spec names and DIR lacks fails the run, as a
        missing secret fails a pod).

Each command prints one JSON line: {"ok": true, ...} or {"ok": false, "error": ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import traceback

import yaml


def documents(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def validate(path: str, recurring: str | None) -> dict:
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    docs = documents(path)
    spec = json_format.ParseDict(docs[0], pb.PipelineSpec(), ignore_unknown_fields=False)
    for name, executor in docs[0]["deploymentSpec"]["executors"].items():
        json_format.ParseDict(executor, pb.PipelineDeploymentConfig.ExecutorSpec(), ignore_unknown_fields=False)
    checked = 0
    if len(docs) > 1:
        json_format.ParseDict(docs[1], pb.PlatformSpec(), ignore_unknown_fields=False)
        for name, config in docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"].items():
            if name not in docs[0]["deploymentSpec"]["executors"]:
                raise ValueError(f"platform config for unknown executor {name}")
            json_format.ParseDict(config, k8s.KubernetesExecutorConfig(), ignore_unknown_fields=False)
            checked += 1
    from kfp import components

    component = components.load_component_from_file(path)
    out = {"pipeline": spec.pipeline_info.name, "component": component.name, "tasks": len(spec.root.dag.tasks),
           "components": len(spec.components), "platform_executors": checked,
           "platform_loaded": bool(component.platform_spec.platforms)}
    if recurring:
        out["recurring_run"] = validate_recurring_run(recurring)
    return out


def validate_recurring_run(path: str) -> str:
    import kfp_server_api
    from kfp_server_api.api_client import ApiClient

    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    client = ApiClient()
    model = client._ApiClient__deserialize(data, "V2beta1RecurringRun")
    back = client.sanitize_for_serialization(model)
    if back != data:  # a key the model does not know is dropped, a wrong type changed
        raise ValueError(f"the recurring run does not round-trip through V2beta1RecurringRun: {back} != {data}")
    assert isinstance(model, kfp_server_api.V2beta1RecurringRun)
    return model.trigger.cron_schedule.cron


MOUNTS: dict[str, str] = {}  # mountPath in the container -> the folder here standing for it


def secret_mounts(path: str, secrets_root: str) -> dict[str, str]:
    """The package's secretAsVolume mounts, each to the folder of its secret under ``secrets_root``."""
    docs = documents(path)
    mounts: dict[str, str] = {}
    configs = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"] if len(docs) > 1 else {}
    for config in configs.values():
        for volume in config.get("secretAsVolume", []):
            folder = os.path.join(secrets_root, volume["secretName"])
            if not os.path.isdir(folder):
                raise ValueError(f"secret {volume['secretName']!r} does not exist (no folder {folder})")
            mounts[volume["mountPath"]] = folder
    return mounts


def mounted(text: str) -> str:
    """``text`` with each mount path the container would see replaced by the folder standing for it."""
    for mount_path, folder in sorted(MOUNTS.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(mount_path, folder)
    return text


class FlowcTaskHandler:
    """kfp.local's task handler interface, running the resolved command here."""

    def __init__(self, image, full_command, pipeline_root, runner, env_vars=None):
        self.image = image
        self.full_command = [mounted(part) for part in full_command]
        self.env_vars = {k: mounted(v) for k, v in (env_vars or {}).items()}

    def run(self):
        from kfp.local import status

        env = {**os.environ, **self.env_vars}
        done = subprocess.run(self.full_command, env=env, stdout=sys.stderr, stderr=sys.stderr)
        return status.Status.SUCCESS if done.returncode == 0 else status.Status.FAILURE


def run(path: str, run_id: str, params: dict, root: str, secrets_root: str | None = None) -> dict:
    from kfp import components, local

    MOUNTS.update(secret_mounts(path, secrets_root) if secrets_root else {})
    from kfp.local import executor_input_utils, placeholder_utils, subprocess_task_handler

    subprocess_task_handler.SubprocessTaskHandler = FlowcTaskHandler  # the swap: the container's launch
    construct = executor_input_utils.construct_executor_input

    def without_nulls(component_spec, arguments, *args, **kwargs):
        arguments = {k: v for k, v in arguments.items() if v is not None}
        executor_input = construct(component_spec, arguments, *args, **kwargs)
        values = executor_input.inputs.parameter_values
        for name in [k for k, v in values.items() if v.WhichOneof("kind") in (None, "null_value")]:
            del values[name]
        return executor_input

    executor_input_utils.construct_executor_input = without_nulls
    original = placeholder_utils.make_random_id
    ids = iter([run_id])  # the first id kfp.local draws is the pipeline job's

    def make_id() -> str:
        return next(ids, None) or original()

    placeholder_utils.make_random_id = make_id
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root, raise_on_error=True)
    pipeline = components.load_component_from_file(path)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # kfp.local logs to stdout; the answer is the one line there
            pipeline(**params)
    except RuntimeError as exc:
        return {"state": "failed", "message": str(exc)}
    return {"state": "succeeded"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate")
    v.add_argument("packages", nargs="+")
    v.add_argument("--recurring")
    r = sub.add_parser("run")
    r.add_argument("package")
    r.add_argument("--run-id", required=True)
    r.add_argument("--params", default="{}")
    r.add_argument("--root", default="kfp-root")
    r.add_argument("--secrets", help="a folder holding one folder per Kubernetes secret (one file per key)")
    args = p.parse_args(argv)
    try:
        if args.command == "validate":
            answer = {"packages": [validate(path, None) for path in args.packages]}
            if args.recurring:
                answer["recurring_run"] = validate_recurring_run(args.recurring)
        else:
            answer = run(args.package, args.run_id, json.loads(args.params), os.path.abspath(args.root),
                         os.path.abspath(args.secrets) if args.secrets else None)
        print(json.dumps({"ok": True, **answer}), flush=True)
        return 0
    except Exception as exc:  # reported to the test, which fails with it
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "traceback": traceback.format_exc()}), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
