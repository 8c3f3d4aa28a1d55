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


def patch_moto_task_tokens() -> None:
    """moto 5.2.5 creates a waitForTaskToken state's token once per state and
    keeps it across Retry attempts, so a retried attempt sees the previous
    attempt's failure at once. Step Functions gives each attempt its own
    token; so does this patch (the test's only change to moto)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

    cls = callback.StateTaskServiceCallback
    if getattr(cls, "_flowc_fresh_tokens", False):
        return
    original = cls._eval_execution

    def _eval_execution(self, env):
        state = env.states.context_object.context_object_data.get("State") or {}
        if self.resource.condition == ResourceCondition.WaitForTaskToken and state.get("RetryCount", 0) > 0:
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        return original(self, env)

    cls._eval_execution = _eval_execution
    cls._flowc_fresh_tokens = True


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
        patch_moto_task_tokens()
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

    def start_worker(self, queue_url: str, workdir: Path, *extra: str, log_name: str = "worker.log") -> subprocess.Popen:
        log = open(workdir.parent / log_name, "w")
        env = {**os.environ, **self.server.env, "PYTHONUNBUFFERED": "1"}
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
