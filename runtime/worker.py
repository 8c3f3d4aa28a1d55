"""`flowc worker --queue URL`: run the tasks a Step Functions state machine
sends to an SQS queue (the target's worker-queue mode, for teams without AWS
Batch).

Each message is one task, written by the state machine's
``sqs:sendMessage.waitForTaskToken`` state:

    {"protocol": "flowc.task/1", "step": "train",
     "command": ["python", "-m", "flowc.runtime", "step", ..., "--run-id", "Ref::run_id", ...],
     "parameters": {"run_id": "...", "index": "2", "attempt": "0"},
     "task_token": "...", "heartbeat_seconds": 60, "secrets": {"ENV_NAME": "secret-id"}}

The worker fills the command's ``Ref::name`` elements from ``parameters``
(as AWS Batch does with a job's parameters, so both modes run the very same
command), runs it as a subprocess, and reports SendTaskSuccess with the
task's OUT.json, or SendTaskFailure with the end of its output.

While a task runs, the worker keeps its message invisible to other workers
(ChangeMessageVisibility) and, when the state asks for heartbeats, sends
SendTaskHeartbeat. The message is deleted once the outcome is reported. If
a worker dies, the message comes back after its visibility timeout and
another worker runs the task again: task identity is deterministic, and a
task that already finished is not run twice by the runtime.

boto3 is imported only here, and only when the worker starts.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

PROTOCOL = "flowc.task/1"
REF = "Ref::"
ERROR_LIMIT = 256  # SendTaskFailure's limits
CAUSE_LIMIT = 32768
OUTPUT_LIMIT = 262144  # SendTaskSuccess's


class MessageError(ValueError):
    """A message that is not a flowc task."""


@dataclass(frozen=True)
class TaskMessage:
    step: str
    command: tuple[str, ...]
    parameters: dict[str, str]
    token: str
    heartbeat_seconds: int = 0
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        p = self.parameters
        text = f"{self.step}/{p.get('index', '?')}"
        if p.get("iteration", "0") != "0":
            text += f"@{p['iteration']}"
        return f"{text} (run {p.get('run_id', '?')}, attempt {p.get('attempt', '?')})"


def parse_message(body: str) -> TaskMessage:
    try:
        data = json.loads(body)
    except ValueError:
        raise MessageError("the message body is not JSON") from None
    if not isinstance(data, dict) or data.get("protocol") != PROTOCOL:
        raise MessageError(f"the message is not a {PROTOCOL} task")
    command, parameters, token = data.get("command"), data.get("parameters"), data.get("task_token")
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise MessageError("the message has no command (a list of strings)")
    if not (isinstance(parameters, dict) and all(isinstance(v, str) for v in parameters.values())):
        raise MessageError("the message's parameters must map names to strings")
    if not isinstance(token, str) or not token:
        raise MessageError("the message has no task_token")
    secrets = data.get("secrets") or {}
    if not (isinstance(secrets, dict) and all(isinstance(v, str) for v in secrets.values())):
        raise MessageError("the message's secrets must map variable names to secret ids")
    heartbeat = data.get("heartbeat_seconds") or 0
    if not isinstance(heartbeat, int) or heartbeat < 0:
        raise MessageError("heartbeat_seconds must be a whole number of seconds")
    return TaskMessage(step=str(data.get("step", "?")), command=tuple(command), parameters=dict(parameters),
                       token=token, heartbeat_seconds=heartbeat, secrets=dict(secrets))


def substitute(command: tuple[str, ...] | list[str], parameters: dict[str, str]) -> list[str]:
    """``Ref::name`` elements replaced by the parameter's value, as AWS Batch does."""
    out = []
    for arg in command:
        if arg.startswith(REF):
            name = arg[len(REF):]
            if name not in parameters:
                raise MessageError(f"the command refers to parameter {name!r}, which the message does not give")
            out.append(parameters[name])
        else:
            out.append(arg)
    return out


def error_name(returncode: int) -> str:
    if returncode == 2:
        return "flowc.BadArguments"
    if returncode < 0:
        return "flowc.TaskKilled"
    return "flowc.TaskFailed"


class TaskGone(Exception):
    """Step Functions no longer waits for this task (timed out, or its execution ended)."""


# ------------------------------------------------------------ the worker


class Worker:
    def __init__(self, queue_url: str, *, workdir: str = ".", concurrency: int = 1, visibility_timeout: int = 120,
                 wait_seconds: int = 10, idle_exit: float | None = None, max_tasks: int | None = None,
                 region: str | None = None, endpoint_url: str | None = None,
                 log: Callable[[str], None] | None = None):
        self.queue_url = queue_url
        self.workdir = os.path.abspath(workdir)
        self.concurrency = max(1, concurrency)
        self.visibility_timeout = max(1, visibility_timeout)
        self.wait_seconds = max(0, min(20, wait_seconds))
        self.idle_exit = idle_exit
        self.max_tasks = max_tasks
        self.log = log or (lambda text: print(f"flowc worker: {text}", file=sys.stderr, flush=True))
        self.stopping = threading.Event()
        self.killing = threading.Event()
        self.lock = threading.Lock()
        self.running: dict[str, subprocess.Popen | None] = {}
        self.started = 0
        self.failures = 0
        self._clients(region, endpoint_url)

    def _clients(self, region: str | None, endpoint_url: str | None) -> None:
        import boto3  # only the worker-queue mode needs it
        from botocore.config import Config

        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") \
            or _region_of(self.queue_url)
        session = boto3.session.Session(region_name=region)
        config = Config(retries={"max_attempts": 5, "mode": "standard"})
        kwargs: dict[str, Any] = {"config": config}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        self.sqs = session.client("sqs", **kwargs)
        self.sfn = session.client("stepfunctions", **kwargs)
        self._session, self._kwargs = session, kwargs
        self._secrets = None

    # ---- the loop

    def run(self) -> int:
        self.log(f"reading {self.queue_url} ({self.concurrency} at a time), running tasks in {self.workdir}")
        idle_since = time.monotonic()
        threads: list[threading.Thread] = []
        while not self.stopping.is_set():
            threads = [t for t in threads if t.is_alive()]
            if self.max_tasks is not None and self.started >= self.max_tasks:
                break
            free = self.concurrency - len(threads)
            if free <= 0:
                time.sleep(0.05)
                continue
            if threads:
                idle_since = time.monotonic()
            elif self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                self.log(f"no task for {self.idle_exit:g} s; stopping")
                break
            wanted = min(free, 10)
            if self.max_tasks is not None:
                wanted = min(wanted, self.max_tasks - self.started)
            try:
                reply = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=wanted,
                                                 WaitTimeSeconds=0 if threads else self.wait_seconds,
                                                 VisibilityTimeout=self.visibility_timeout)
            except Exception as exc:  # the queue is unreachable for a moment: try again
                self.log(f"cannot receive from the queue: {exc}")
                self.stopping.wait(2.0)
                continue
            messages = reply.get("Messages", [])
            if not messages:
                if threads:
                    time.sleep(0.05)
                continue
            idle_since = time.monotonic()
            for message in messages:
                self.started += 1
                t = threading.Thread(target=self.handle, args=(message,), daemon=True,
                                     name=f"task-{message.get('MessageId', '')}")
                t.start()
                threads.append(t)
        for t in threads:
            t.join()
        return 0

    def stop(self, kill: bool = False) -> None:
        """Stop taking tasks; with kill, end the running ones too (their
        messages come back to the queue for another worker)."""
        self.stopping.set()
        if kill:
            self.killing.set()
            with self.lock:
                for proc in self.running.values():
                    if proc is not None and proc.poll() is None:
                        proc.terminate()

    # ---- one task

    def handle(self, message: dict) -> None:
        receipt = message["ReceiptHandle"]
        try:
            task = parse_message(message.get("Body", ""))
        except MessageError as exc:
            self.log(f"dropping message {message.get('MessageId')}: {exc}")
            self._delete(receipt)
            return
        try:
            self.run_task(task, receipt)
        except TaskGone as exc:
            self.log(f"{task.label}: {exc}; dropping it")
            self._delete(receipt)
        except Exception as exc:  # a bug or an AWS error: report it rather than hang the execution
            self.log(f"{task.label}: worker error {type(exc).__name__}: {exc}")
            if self.killing.is_set():
                return
            try:
                self.sfn.send_task_failure(taskToken=task.token, error="flowc.WorkerError",
                                           cause=f"{type(exc).__name__}: {exc}"[:CAUSE_LIMIT])
            except Exception:
                pass
            self._delete(receipt)

    def run_task(self, task: TaskMessage, receipt: str) -> None:
        try:
            argv = substitute(task.command, task.parameters)
        except MessageError as exc:
            self.report_failure(task, "flowc.BadMessage", str(exc))
            self._delete(receipt)
            return
        env = dict(os.environ)
        try:
            env.update(self.fetch_secrets(task.secrets))
            if task.secrets:  # each a JSON object the task expands, one variable per key (runtime/secret_files.py)
                env["FLOWC_SECRET_JSON"] = os.pathsep.join(sorted(task.secrets))
        except Exception as exc:
            self.report_failure(task, "flowc.SecretUnavailable", f"{type(exc).__name__}: {exc}")
            self._delete(receipt)
            return
        with tempfile.TemporaryDirectory(prefix="flowc-task-") as tmp:
            out_path = os.path.join(tmp, "OUT.json")
            self.log(f"start {task.label}")
            returncode, tail = self.execute(task, receipt, argv + ["--output", out_path], env)
            if self.killing.is_set():
                return  # not reported, not deleted: the message returns to the queue
            if returncode == 0 and os.path.isfile(out_path):
                with open(out_path, encoding="utf-8") as f:
                    output = f.read()
                if len(output.encode("utf-8")) > OUTPUT_LIMIT:
                    self.report_failure(task, "flowc.OutputTooLarge", "OUT.json is larger than Step Functions takes")
                else:
                    self.log(f"done  {task.label}")
                    self._call(self.sfn.send_task_success, taskToken=task.token, output=output)
            elif returncode == 0:
                self.report_failure(task, "flowc.NoOutput", "the task succeeded but wrote no OUT.json\n" + tail)
            else:
                self.failures += 1
                self.log(f"FAIL  {task.label}: exit status {returncode}")
                self.report_failure(task, error_name(returncode), tail or f"exit status {returncode}")
        self._delete(receipt)

    def execute(self, task: TaskMessage, receipt: str, argv: list[str], env: dict[str, str]) -> tuple[int, str]:
        """Run the command, keeping the message and the task alive; returns
        (exit status, the end of its output)."""
        tail: collections.deque[str] = collections.deque(maxlen=200)
        proc = subprocess.Popen(argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        with self.lock:
            self.running[receipt] = proc
        done = threading.Event()
        gone: list[Exception] = []
        keeper = threading.Thread(target=self.keep_alive, args=(task, receipt, proc, done, gone), daemon=True)
        keeper.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line)
                sys.stderr.write(f"[{task.step}/{task.parameters.get('index', '?')}] {line}")
            returncode = proc.wait()
        finally:
            done.set()
            keeper.join()
            with self.lock:
                self.running.pop(receipt, None)
        if gone:
            raise TaskGone(str(gone[0]))
        cause = "".join(tail)
        return returncode, cause[-CAUSE_LIMIT:]

    def keep_alive(self, task: TaskMessage, receipt: str, proc: subprocess.Popen, done: threading.Event,
                   gone: list[Exception]) -> None:
        """Extend the message's invisibility, and heartbeat when asked, until
        the task ends. If Step Functions has given up on the task, end it."""
        extend_every = self.visibility_timeout / 3
        beat_every = task.heartbeat_seconds / 3 if task.heartbeat_seconds else None
        next_extend = time.monotonic() + extend_every
        next_beat = time.monotonic() if beat_every else None
        while not done.is_set():
            now = time.monotonic()
            try:
                if next_beat is not None and now >= next_beat:
                    self._call(self.sfn.send_task_heartbeat, taskToken=task.token)
                    next_beat = now + beat_every
                if now >= next_extend:
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt,
                                                       VisibilityTimeout=self.visibility_timeout)
                    next_extend = now + extend_every
            except TaskGone as exc:
                gone.append(exc)
                proc.terminate()
                return
            except Exception as exc:  # keep running: a missed extension is retried next time
                self.log(f"{task.label}: keep-alive failed: {exc}")
            waits = [t for t in (next_extend, next_beat) if t is not None]
            done.wait(max(0.05, min(waits) - time.monotonic()))

    # ---- AWS calls

    def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                raise TaskGone(f"Step Functions no longer waits for it ({code})") from None
            raise

    def report_failure(self, task: TaskMessage, error: str, cause: str) -> None:
        self._call(self.sfn.send_task_failure, taskToken=task.token, error=error[:ERROR_LIMIT],
                   cause=cause[-CAUSE_LIMIT:])

    def _delete(self, receipt: str) -> None:
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        except Exception as exc:
            self.log(f"cannot delete a message: {exc}")

    def fetch_secrets(self, secrets: dict[str, str]) -> dict[str, str]:
        if not secrets:
            return {}
        if self._secrets is None:
            self._secrets = self._session.client("secretsmanager", **self._kwargs)
        out = {}
        for env_name, source in sorted(secrets.items()):
            value = self._secrets.get_secret_value(SecretId=source)
            out[env_name] = value.get("SecretString") or value.get("SecretBinary", b"").decode("utf-8", "replace")
        return out


def _region_of(queue_url: str) -> str | None:
    """The region in an SQS queue URL (https://sqs.REGION.amazonaws.com/...)."""
    host = queue_url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    return None


def main(queue_url: str, **options: Any) -> int:
    worker = Worker(queue_url, **options)

    def on_signal(signum: int, _frame: Any) -> None:
        if worker.stopping.is_set():
            worker.log("stopping now; running tasks go back to the queue")
            worker.stop(kill=True)
        else:
            worker.log("finishing the running tasks (signal again to stop now)")
            worker.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    return worker.run()
