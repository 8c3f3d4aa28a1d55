"""Test support for the Step Functions target: moto's Step Functions
interpreter behind a local server, the two npm ASL validators, and a harness
that runs a compiled flow in moto with a real `flowc worker` doing its tasks.

moto 5.2's interpreter (in moto.stepfunctions.parser) runs with
``execute_state_machine``; its service integrations call back into the moto
server, so SQS, S3 and Secrets Manager are all moto's too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
NODE_MODULES = HERE / "node_modules"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/flowc-states"


# ------------------------------------------------------------ validators


def validators_installed() -> bool:
    return (NODE_MODULES / "asl-validator").is_dir() and (NODE_MODULES / "amazon-states-language-service").is_dir()


def validate(paths: list[Path]) -> dict[str, dict[str, list[str]]]:
    """{file: {validator: [problems]}} from both npm validators, in one node run."""
    if not paths:
        return {}
    proc = subprocess.run(["node", str(HERE / "validate.js"), *map(str, paths)], capture_output=True, text=True,
                          cwd=HERE, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"validate.js failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


# ------------------------------------------------------------ moto


class Patches:
    """Attributes replaced on moto's classes, put back by undo()."""

    def __init__(self) -> None:
        self.saved: list[tuple[object, str, object]] = []

    def set(self, owner: object, name: str, value: object) -> None:
        self.saved.append((owner, name, owner.__dict__[name] if name in owner.__dict__ else None))
        setattr(owner, name, value)

    def undo(self) -> None:
        for owner, name, old in reversed(self.saved):
            if old is None:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        self.saved.clear()


def patch_moto_task_tokens(patches: Patches) -> None:
    """moto 5.2.5 creates a task's token (and its callback endpoint) once per
    state and keeps it across Retry attempts, so a retried waitForTaskToken
    attempt sees the previous attempt's failure at once, and a retried .sync
    attempt times out at once. Step Functions gives each attempt its own
    token; so does this patch."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

    cls = callback.StateTaskServiceCallback
    original = cls._eval_execution

    def _eval_execution(self, env):
        state = env.states.context_object.context_object_data.get("State") or {}
        makes_tokens = self._is_integration_pattern() and \
            ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
        if makes_tokens and state.get("RetryCount", 0) > 0:
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        return original(self, env)

    patches.set(cls, "_eval_execution", _eval_execution)


def patch_moto_batch_runs_commands(patches: Patches, env: dict[str, str]) -> None:
    """moto runs AWS Batch jobs in Docker, or (with use_docker off, as here)
    marks them done without running anything. This makes it run a job's
    container command on this machine instead, with the job's parameters
    substituted by moto's own Ref:: code, and the job succeed or fail by its
    exit status: a stand-in for Batch's compute, not for its API."""
    import subprocess as sp

    from moto.batch_simple import models

    backend = models.BatchSimpleBackend

    def _mark_job_as_finished(self, include_start_attempt, job):
        self.backend._jobs[job.job_id] = job
        job.job_started_at = __import__("datetime").datetime.now()
        job.log_stream_name = job._stream_name
        if include_start_attempt:
            job._start_attempt()
        props = job.job_definition.container_properties or {}
        argv = job._add_parameters_to_command(props.get("command", []))
        job_env = {**os.environ, **env, **{e["name"]: e["value"] for e in props.get("environment", [])}}
        proc = sp.run(argv, env=job_env, capture_output=True, text=True, cwd=REPO)
        job._flowc_output = proc.stdout + proc.stderr
        job._mark_stopped(success=proc.returncode == 0)

    patches.set(backend, "_mark_job_as_finished", _mark_job_as_finished)

    # moto 5.2.5's Step Functions Batch integration passes the state's
    # parameters to boto3 as written (JobName, JobQueue...), and reads
    # SubmitJob's answer as written (jobId), where Step Functions converts
    # both between the API's camelCase and the PascalCase states use.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_batch

    def lower_first(value: dict) -> dict:
        return {k[:1].lower() + k[1:]: v for k, v in value.items()}

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        converted = lower_first(parameters)
        if isinstance(converted.get("containerOverrides"), dict):
            converted["containerOverrides"] = lower_first(converted["containerOverrides"])
        parameters.clear()
        parameters.update(converted)

    def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
        if isinstance(response, dict) and "jobId" in response:  # SubmitJob's, as Step Functions shows it
            converted = {k[:1].upper() + k[1:]: v for k, v in response.items()}
            response.clear()
            response.update(converted)

    patches.set(state_task_service_batch.StateTaskServiceBatch, "_normalise_parameters", _normalise_parameters)
    patches.set(state_task_service_batch.StateTaskServiceBatch, "_normalise_response", _normalise_response)

    # ... and its aws-sdk integration hands S3 GetObject's Body on as a
    # stream, where Step Functions gives the object's text.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk

    sdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    original = sdk._eval_service_task

    def _eval_service_task(self, env, *args, **kwargs):
        original(self, env, *args, **kwargs)
        response = env.stack[-1]
        if isinstance(response, dict) and hasattr(response.get("Body"), "read"):
            response["Body"] = response["Body"].read().decode("utf-8")

    patches.set(sdk, "_eval_service_task", _eval_service_task)


STATUS_CHANGE = "Step Functions Execution Status Change"


def patch_moto_events_reach_step_functions(patches: Patches) -> None:
    """Two things moto 5.2.5 does not do, which @trigger / @trigger_on_finish
    rules need: (1) a rule whose target is a state machine raises
    NotImplementedError in ``Rule.send_to_targets``; this starts the
    execution with the input moto's own input transformer made from the
    event, after moto's own pattern matched it (EventBridge names such an
    execution with a UUID). (2) Step Functions sends an "Execution Status
    Change" event to the default bus when an execution ends; moto sends
    none, so this puts one, with the fields AWS documents for it, through
    moto's own PutEvents. Matching and transforming stay moto's."""
    import uuid as uuid_mod

    from moto.events import models as events_models
    from moto.events.utils import EventTemplateParser
    from moto.stepfunctions.parser.backend import execution as sfn_execution
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    rule_cls = events_models.Rule
    original_send = rule_cls.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        if not self.event_pattern.matches_event(original_event):
            return
        machines = [t for t in self.targets if t["Arn"].split(":")[2] == "states"]
        for target in machines:
            transformer = target.get("InputTransformer", {})
            body = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                             input_paths_map=transformer.get("InputPathsMap", {}),
                                             event=original_event)
            _, _, _, region, account = target["Arn"].split(":")[:5]
            stepfunctions_parser_backends[account][region].start_execution(
                target["Arn"], name=str(uuid_mod.uuid4()), execution_input=json.dumps(body))
        others = [t for t in self.targets if t not in machines]
        if others:
            kept, self.targets = self.targets, others
            try:
                original_send(self, original_event, transform_input)
            finally:
                self.targets = kept

    patches.set(rule_cls, "send_to_targets", send_to_targets)

    comm = sfn_execution.BaseExecutionWorkerCommunication
    original_terminated = comm.terminated

    def terminated(self):
        original_terminated(self)
        run = self.execution
        detail = {"executionArn": run.exec_arn, "stateMachineArn": run.state_machine_arn, "name": run.name,
                  "status": run.exec_status.value, "startDate": int(run.start_date.timestamp() * 1000),
                  "stopDate": int(run.stop_date.timestamp() * 1000), "input": json.dumps(run.input_data),
                  "output": json.dumps(run.output) if run.output is not None else None}
        events_models.events_backends[run.account_id][run.region_name].put_events([{
            "Source": "aws.states", "DetailType": STATUS_CHANGE, "Detail": json.dumps(detail),
            "Resources": [run.exec_arn]}])

    patches.set(comm, "terminated", terminated)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A moto server on 127.0.0.1 with Step Functions' interpreter switched on."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.patches = Patches()
        patch_moto_task_tokens(self.patches)
        patch_moto_events_reach_step_functions(self.patches)
        self.port = free_port()
        self._old_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)  # where the interpreter's integrations call
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.port}"
        import urllib.request

        request = urllib.request.Request(self.url + "/moto-api/config", method="POST",
                                         data=json.dumps({"stepfunctions": {"execute_state_machine": True},
                                                          "batch": {"use_docker": False}}).encode())
        urllib.request.urlopen(request, timeout=30).read()

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def stop(self) -> None:
        self.server.stop()
        self.patches.undo()
        if self._old_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._old_port


# ------------------------------------------------------------ compiling and running


def compile_flow(flow_path: Path, out_dir: Path, *options: str) -> dict[str, Path]:
    """`flowc compile FLOW --target stepfunctions -o DIR OPTIONS`, from the repo root."""
    proc = subprocess.run([sys.executable, "-m", "flowc", "compile", str(flow_path), "--target", "stepfunctions",
                           "-o", str(out_dir) + "/", *options], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise AssertionError(f"compile failed:\n{proc.stderr}")
    return {p.name: p for p in out_dir.iterdir() if p.is_file()}


def prepare_workdir(flow_path: Path, workdir: Path, datastore: str, env: dict[str, str] | None = None) -> None:
    """A worker's working folder, and the flow's code package in the datastore,
    where the compiled tasks fetch it from (`flowc package`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "flowc", "package", str(flow_path), "--datastore", datastore],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise AssertionError(f"flowc package failed:\n{proc.stderr}")


@dataclass
class Execution:
    arn: str
    status: str
    output: Any
    events: list[dict]
    worker_log: str

    def payloads(self) -> list[tuple[str, str, int]]:
        """(event type, state, bytes) of every state input and output."""
        out = []
        for e in self.events:
            for key, detail in e.items():
                if key.endswith("EventDetails") and isinstance(detail, dict):
                    for field in ("input", "output"):
                        if isinstance(detail.get(field), str):
                            out.append((e["type"], detail.get("name", ""), len(detail[field].encode("utf-8"))))
        return out

    def story(self) -> str:
        """The history, one event a line, for failure messages."""
        return "\n".join(f"{e['type']} " + json.dumps({k: v for k, v in e.items() if k.endswith("Details")},
                                                       default=str)[:300] for e in self.events)

    def states_entered(self, name: str) -> int:
        return sum(1 for e in self.events if e["type"].endswith("StateEntered")
                   and e.get("stateEnteredEventDetails", {}).get("name") == name)


class Harness:
    """One moto server, one queue per flow, a real `flowc worker` per execution."""

    def __init__(self, server: MotoServer, tmp: Path):
        self.server = server
        self.tmp = tmp
        self.sfn = server.client("stepfunctions")
        self.sqs = server.client("sqs")

    def queue(self) -> str:
        return self.sqs.create_queue(QueueName=f"tasks-{uuid.uuid4().hex[:12]}")["QueueUrl"]

    def compile(self, flow_path: Path, name: str, datastore: str, queue_url: str, *options: str) -> dict[str, Path]:
        out = self.tmp / name / "out"
        return compile_flow(flow_path, out, "--mode", "worker", "--queue-url", queue_url, "--datastore", datastore,
                            "--python", sys.executable, *options)

    def create(self, definition: Path, name: str) -> str:
        return self.sfn.create_state_machine(name=name, definition=definition.read_text(encoding="utf-8"),
                                             roleArn=ROLE)["stateMachineArn"]

    def start_worker(self, queue_url: str, workdir: Path, *extra: str,
                     log_name: str = "worker.log", env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(workdir.parent / log_name, "w")
        env = {**os.environ, **self.server.env, "PYTHONUNBUFFERED": "1", **(env or {})}
        return subprocess.Popen([sys.executable, "-m", "flowc", "worker", "--queue", queue_url,
                                 "--workdir", str(workdir), "--wait-seconds", "1", *extra],
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)

    def execute(self, machine_arn: str, run_id: str, params: dict | None, queue_url: str, workdir: Path,
                timeout: float = 240, worker_args: tuple[str, ...] = ("-j", "2")) -> Execution:
        worker = self.start_worker(queue_url, workdir, *worker_args)
        try:
            arn = self.sfn.start_execution(stateMachineArn=machine_arn, name=run_id,
                                           input=json.dumps(params or {}))["executionArn"]
            return self.wait(arn, workdir, worker, timeout)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    def wait(self, arn: str, workdir: Path, worker: subprocess.Popen | None = None, timeout: float = 240) -> Execution:
        """Wait for an execution to end; its status, output and history."""
        deadline = time.monotonic() + timeout
        while True:
            desc = self.sfn.describe_execution(executionArn=arn)
            if desc["status"] != "RUNNING":
                break
            if worker is not None and worker.poll() is not None:
                raise AssertionError(f"the worker exited ({worker.returncode}):\n{self.log(workdir)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"execution {arn} still running after {timeout} s:\n{self.log(workdir)}")
            time.sleep(0.2)
        events = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        output = json.loads(desc["output"]) if desc.get("output") else None
        return Execution(arn, desc["status"], output, events, self.log(workdir))

    @staticmethod
    def log(workdir: Path) -> str:
        """What the workers of this work folder printed."""
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(workdir.parent.glob("*.log")))

    def run_flow(self, flow_path: Path, *, run_id: str, params: dict | None = None, options: tuple[str, ...] = (),
                 datastore: Path | str | None = None, worker_args: tuple[str, ...] = ("-j", "2"),
                 timeout: float = 240) -> tuple[Execution, str]:
        """Compile in worker mode, run in moto with a worker; returns the
        execution and the datastore URL it wrote."""
        name = f"{flow_path.parent.name}-{flow_path.stem}-{run_id}"
        base = self.tmp / name
        datastore = str(datastore or (base / "datastore"))
        queue_url = self.queue()
        files = self.compile(flow_path, name, datastore, queue_url, *options)
        workdir = base / "work"
        prepare_workdir(flow_path, workdir, datastore, self.server.env)
        asl = next(p for n, p in files.items() if n.endswith(".asl.json"))
        machine = self.create(asl, name[:80])
        execution = self.execute(machine, run_id, params, queue_url, workdir, timeout=timeout,
                                 worker_args=worker_args)
        return execution, datastore
