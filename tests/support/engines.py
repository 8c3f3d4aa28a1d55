"""Every engine a compiled flow runs on, behind one interface.

An Engine has a ``name``, the flowc ``target`` whose output it runs (None for
`flowc run` itself), ``available()`` (its software is installed: `make test`
installs every engine, so a test fails, never skips, when one is missing),
``deploy(flows, datastore)`` (once per session: every flow it runs, compiled
and put where the engine finds it) and ``run(flow_path, params, datastore)``,
which returns the run id whose artifacts tests/support/artifacts.py's
run_artifacts reads from the datastore. A run that ends failed raises
RunFailed, which carries the run id too (the tasks that finished still
have artifacts to compare).

The services the engines need (an Airflow database and its DAG processor,
a Prefect server, a moto server) are started once per test session and shared
with the target's own tests (their conftests take them from here), so a
session that runs both never starts two of them.

The adapters:

- ``local``: `flowc run`, the reference every other engine is compared with.
- ``airflow3`` / ``airflow2``: dag.test() in Airflow 3 (this environment) or
  Airflow 2.10 (.venv-airflow2), every step placed on the worker
  (tests/targets/airflow/airflow_probe.py answers in the Airflow process).
- ``prefect``: the compiled flow called in this process against a Prefect
  server, each task running the runtime's command.
- ``stepfunctions``: the state machine executed by moto's Amazon States
  Language interpreter, a real `flowc worker` doing the tasks
  (tests/targets/stepfunctions/sfn_harness.py).
- ``argo``: the WorkflowTemplate walked as Argo's controller does, every pod's
  command run here (tests/targets/argo/argo_harness.py).
- ``kubeflow``: the pipeline package run by kfp's own local DAG orchestrator in
  .venv-kfp, each container's command run here as a subprocess
  (tests/targets/kubeflow/kfp_harness.py).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable

REPO = Path(__file__).resolve().parents[2]

# Parameters a run is given, alike on every engine and in `flowc run` (by flow id, tests/conftest.py flow_id):
# the required one, a path through a switch that reaches its foreach, and a
# foreach narrower than its 1,000-item default (test_stepfunctions_engine runs it at full width).
RUN_PARAMS: dict[str, dict[str, Any]] = {
    "flows/required_params": {"dataset": "iris"},
    "flows/nested_switch": {"mode": "shallow"},
    "flows/wide_foreach": {"width": 20},
}
# What @secrets(sources=[...]) reads: each engine's own secret store holds these;
# `flowc run` (which reads no store) gets the variables they hold.
SECRETS: dict[str, dict[str, str]] = {"db-credentials": {"DB_USER": "alice"}, "api-token": {"API_TOKEN": "t0ken"}}
SECRET_ENV: dict[str, str] = {k: v for values in SECRETS.values() for k, v in values.items()}


def flow_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def run_params(path: Path) -> dict[str, Any]:
    return dict(RUN_PARAMS.get(flow_id(path), {}))


def as_text(params: dict[str, Any]) -> dict[str, str]:
    """Parameter values as command-line text (JSON for anything but a string)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


def load_ir(path: Path):
    from tests.conftest import load_ir as load

    return load(path)


class RunFailed(Exception):
    """The run ended failed; ``run_id`` names it in the datastore."""

    def __init__(self, run_id: str, log: str = ""):
        super().__init__(f"run {run_id} failed\n{log[-4000:]}")
        self.run_id = run_id
        self.log = log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ shared services, one per session

_services: dict[str, Any] = {}
_lock = threading.RLock()
_closers: list[Any] = []


def _scratch(name: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"flowc-{name}-"))
    _closers.append(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def close_all() -> None:
    """Stop every service started this session (tests/conftest.py calls it at the end)."""
    with _lock:
        while _closers:
            closer = _closers.pop()
            try:
                closer()
            except Exception:  # one service failing to stop must not keep the others running
                pass
        _services.clear()


atexit.register(close_all)


def service(name: str, start):
    """The session's one instance of a service, started on first use."""
    with _lock:
        if name not in _services:
            _services[name] = start()
        return _services[name]


# ------------------------------------------------------------ Airflow

AIRFLOW_PROBE = REPO / "tests" / "targets" / "airflow" / "airflow_probe.py"
AIRFLOW2_PYTHON = REPO / ".venv-airflow2" / "bin" / "python"


class Probe:
    """A running airflow_probe.py: ask(op=..., ...) returns its answer."""

    def __init__(self, python: Path | str, env: dict[str, str], log: Path):
        self.log = log
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([str(python), str(AIRFLOW_PROBE)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(log, "w"), env=env, text=True,
                                     cwd=str(log.parent))

    def ask(self, **request: Any) -> dict:
        with self.lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the Airflow probe died; its log:\n{self.log_tail()}")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise AssertionError(f"Airflow probe: {answer['error']}\n{answer['traceback']}\n{self.log_tail()}")
        return answer

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    """Airflow's settings for a home and dags folder; the caller's PYTHONPATH is kept after the repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    path = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(REPO)]
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(path),
    })
    return env


def airflow_python(version: int) -> Path:
    return Path(sys.executable) if version == 3 else AIRFLOW2_PYTHON


def _start_airflow(version: int, migrate: bool) -> SimpleNamespace:
    python = airflow_python(version)
    if not python.exists():
        raise AssertionError(f"{python} is missing: run make test (mk/airflow.mk builds it)")
    home = _scratch(f"airflow{version}{'db' if migrate else ''}")
    dags = home / "dags"
    dags.mkdir()
    env = airflow_env(home, dags)
    if migrate:
        done = subprocess.run([str(python), "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                              text=True, cwd=home)
        assert done.returncode == 0, done.stdout + done.stderr
    # the steps run on the worker here, so the worker's environment stands for the secret
    # store @secrets reads (a pod gets Kubernetes secret references, which no cluster serves here)
    probe = Probe(python, {**env, **SECRET_ENV}, home / "probe.log")
    _closers.append(probe.close)
    return SimpleNamespace(probe=probe, home=home, dags=dags, env=env)


def airflow_instance(version: int, migrate: bool = True) -> SimpleNamespace:
    """Airflow ``version`` (3: this environment; 2: .venv-airflow2) with its own home, dags folder
    and probe; ``migrate``: with a migrated sqlite database (for dag.test())."""
    return service(f"airflow{version}-{migrate}", lambda: _start_airflow(version, migrate))


def compile_airflow(path: Path, unsupported: str = "error", **options: Any) -> tuple[str, list]:
    """(DAG file text, diagnostics) of a flow for the Airflow target."""
    from flowc.targets.airflow import AirflowTarget

    target = AirflowTarget(options, unsupported_level="warning" if unsupported == "warn" else "error")
    out = target.compile(load_ir(path))
    assert len(out.files) == 1, out.files.keys()
    (_, data), = out.files.items()
    return data.decode("utf-8"), out.diagnostics


def deploy_airflow_flow(folder: Path, path: Path, unsupported: str = "error", **options: Any) -> None:
    """A flow's DAG file, the flow file (and its modules, included files) and its IR in one
    folder of the dags folder, as the worker sees them."""
    from flowc.compiler import ir
    from flowc.packaging import package_extras

    flow = load_ir(path)
    folder.mkdir()
    text, _ = compile_airflow(path, unsupported=unsupported, **options)
    (folder / f"{flow.name}.py").write_text(text, encoding="utf-8")
    (folder / f"{flow.name}.ir.json").write_text(ir.dump(flow), encoding="utf-8")
    shutil.copy(path, folder / path.name)
    for module in package_extras(flow):  # its modules and the files its IncludeFiles read
        target = folder / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path.parent / module, target)


# ------------------------------------------------------------ Prefect

# Prefect reads its settings when first imported: a private home (its
# database, its local storage) before anything imports it.
_PREFECT_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def prefect_home() -> None:
    """Point Prefect at a home of this session (before it is first imported)."""
    if "flowc-prefect-home-" not in os.environ.get("PREFECT_HOME", ""):
        home = tempfile.mkdtemp(prefix="flowc-prefect-home-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        os.environ["PREFECT_HOME"] = home
    os.environ.update(_PREFECT_SETTINGS)


# The session's server runs Prefect 3.8.8 (.venv-prefect38) when there is one;
# the flows, clients and workers run the repository's 3.7.7, as a company's
# workers may trail its server (both speak API 0.8.4). Prefect 3.7.x's server
# on SQLite can deadlock its event loop for good when an automation changes
# while the triggers service holds the automations lock (PrefectHQ/prefect
# issue 23055: /health never answers again); 3.8.8 schedules that update on
# the loop instead. The events tests change automations all the time
# (tests/targets/prefect/automation_churn.py shows the deadlock).
PREFECT_SERVER_PYTHON = REPO / ".venv-prefect38" / "bin" / "python"


class PrefectServer:
    """A Prefect API server (uvicorn serving Prefect's app, as Prefect's own
    ephemeral server does) with its database and log in ``home``."""

    def __init__(self, python: Path | str, home: Path) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.log = home / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
        env.update(PREFECT_HOME=str(home), PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1",
                   PREFECT__SERVER_FINAL="1")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(python), "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=str(home))

    def problem(self, timeout: float) -> str | None:
        """Why the server cannot be used now (None: it answers /health)."""
        import urllib.request

        if self.process.poll() is not None:
            return f"{_ended(self.process.returncode)}; its log ends:\n{self.log_tail()}"
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=timeout) as answer:
                answer.read()
        except OSError as exc:
            return f"(pid {self.process.pid}) does not answer /health within {timeout:.0f} s: {exc}"
        return None

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (problem := self.problem(5)) is not None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Prefect server at {self.api_url} did not start: {problem}")
            time.sleep(0.2)

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_bytes()[-size:].decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_prefect() -> PrefectServer:
    prefect_home()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = Path(os.environ["PREFECT_HOME"]) / "server"
    home.mkdir(exist_ok=True)
    python = PREFECT_SERVER_PYTHON if PREFECT_SERVER_PYTHON.exists() else sys.executable
    server = PrefectServer(python, home)
    server.wait_ready(timeout=float(_PREFECT_SETTINGS["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
    os.environ["PREFECT_API_URL"] = server.api_url
    settings = temporary_settings(updates={PREFECT_API_URL: server.api_url})
    settings.__enter__()

    def stop() -> None:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)  # what flows logged, before the server goes
        settings.__exit__(None, None, None)
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()

    _closers.append(stop)
    return server


def prefect_server() -> str:
    """The session's Prefect server (a temporary database); its API URL.
    A server that has died or stopped answering fails the test that asks for
    it, saying so (a run against it would wait for it, minutes per call)."""
    server = service("prefect", _start_prefect)
    problem = server.problem(timeout=30)
    if problem is not None:
        raise AssertionError(f"the session's Prefect server at {server.api_url} {problem}")
    return server.api_url


def _ended(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:  # a real-time signal has no name
        return f"was killed by signal {-returncode}"


def compile_prefect(path: Path, unsupported: str = "error", package: bool = False, **options: Any):
    """(files, diagnostics, target) of a flow compiled for Prefect, from the IR
    (paths relative to the repository). With package=True the tasks fetch the
    flow's code package from the datastore, which this uploads."""
    from flowc.targets.prefect import PrefectTarget

    target = PrefectTarget(options, unsupported_level="warning" if unsupported == "warn" else "error")
    flow = load_ir(path)
    if package:
        from flowc.packaging import code_package
        from flowc.runtime.datastore import FlowDatastore

        data, sha = code_package(flow, path)
        ds = FlowDatastore(target.option("datastore"), flow.name)
        ds.storage.write_atomic(ds.package_key(sha), data)
        target.package_sha = sha
    out = target.compile(flow)
    return out.files, out.diagnostics, target


def write_files(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def build_prefect(path: Path, folder: Path, datastore: Path, unsupported: str = "error", **options: Any):
    """Compile a flow into ``folder`` for a run on this machine: tasks run this
    Python and fetch the code package from ``datastore``. Returns the plan."""
    files, _diags, target = compile_prefect(path, unsupported=unsupported, package=True, datastore=str(datastore),
                                            python=sys.executable, **options)
    write_files(files, folder)
    return target.plan(target.lower(load_ir(path)))


def load_prefect_flow(folder: Path, func: str):
    """The flow object, loaded by Prefect's own loader (as a worker does)."""
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"{folder / 'prefect_flow.py'}:{func}")


def prefect_secret_blocks() -> None:
    """The Secret blocks @secrets reads in Prefect (a JSON object: one variable per key)."""
    def save() -> bool:
        from prefect.blocks.system import Secret

        prefect_server()
        for name, value in SECRETS.items():
            Secret(value=value).save(name, overwrite=True)
        return True

    service("prefect-secrets", save)


# ------------------------------------------------------------ Step Functions (moto)


def moto_server():
    """The session's moto server (Step Functions' interpreter, SQS, S3, Secrets Manager)."""
    def start():
        from tests.targets.stepfunctions.sfn_harness import MotoServer

        server = MotoServer()
        _closers.append(server.stop)
        return server

    return service("moto", start)


def sfn_harness():
    def start():
        from tests.targets.stepfunctions.sfn_harness import Harness

        return Harness(moto_server(), _scratch("sfn"))

    return service("sfn-harness", start)


# ------------------------------------------------------------ Argo


def compile_argo(path: Path, options: dict | None = None, *, package: bool = True, unsupported: str = "error"):
    from tests.targets.argo.argo_support import compile_argo as compile_

    return compile_(path, options, package=package, unsupported=unsupported)


def flowc_cli(argv: list[str]) -> int:
    """flowc's command line in this process, from the repository root, its output swallowed."""
    import contextlib
    import io

    from flowc.cli import main

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return main(argv)
    finally:
        os.chdir(cwd)


def run_on_argo(path: Path, workdir: Path, datastore: Path, params: dict[str, str] | None = None, *,
                package: bool = True, options: dict | None = None, unsupported: str = "error",
                run_name: str = "argo-run", secrets: dict | None = None):
    """Compile for Argo, upload the code package (`flowc package`), run the
    WorkflowTemplate in the harness; returns the harness and its result."""
    from tests.targets.argo.argo_checks import load_documents
    from tests.targets.argo.argo_harness import Harness
    from tests.targets.argo.argo_support import single_file

    datastore.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    out = compile_argo(path, {"datastore": str(datastore), **(options or {})}, package=package,
                       unsupported=unsupported)
    doc = load_documents(single_file(out))[0]
    if package:  # `flowc package FLOW.py --datastore DS`, in this process
        assert flowc_cli(["package", str(path), "--datastore", str(datastore)]) == 0
    else:  # the code baked into the image: the flow and its IR in the container's working folder
        from flowc.compiler import ir

        flow = load_ir(path)
        (workdir / path.name).write_bytes(path.read_bytes())
        (workdir / f"{flow.name}.ir.json").write_text(ir.dump(flow))
    harness = Harness(doc, workdir=str(workdir), run_name=run_name, params=params,
                      secrets=SECRETS if secrets is None else secrets)
    return harness, harness.run()


# ------------------------------------------------------------ the engines


class Engine:
    name: str = ""
    target: str | None = None  # the flowc target whose output it runs

    def __init__(self) -> None:
        self.deployed: set[str] = set()
        self.results: dict[str, Any] = {}  # flow id -> what the engine said of its run (for engine-specific tests)
        self.runs: dict[str, tuple[str, bool]] = {}
        self.lock = threading.Lock()
        self.locks: dict[str, threading.Lock] = {}

    # how many runs prefetch() lets go on at once: 1 for engines whose runs share a process's state
    parallel = 1

    def prefetch(self, flows: list[Path], datastore: Path) -> None:
        """Run every flow (run_once), ``parallel`` at a time."""
        if self.parallel <= 1:
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.parallel) as pool:
            for future in [pool.submit(self.run_once, p, datastore) for p in flows]:
                future.exception()  # a run that broke raises again when its test asks for it

    def available(self) -> bool:
        raise NotImplementedError

    def deploy(self, flows: Iterable[Path], datastore: Path) -> None:
        """Put every flow where the engine finds it (once per flow and session)."""
        for path in flows:
            if flow_id(path) not in self.deployed:
                self.deploy_one(path, datastore)
                self.deployed.add(flow_id(path))

    def deploy_one(self, path: Path, datastore: Path) -> None:
        pass

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        raise NotImplementedError

    def run_once(self, flow_path: Path, datastore: Path) -> tuple[str, bool]:
        """(run id, whether it succeeded) of the flow's run with RUN_PARAMS, once per session."""
        key = flow_id(flow_path)
        with self.lock:
            one = self.locks.setdefault(key, threading.Lock())
        with one:  # runs of different flows may go on side by side (see prefetch)
            if key not in self.runs:
                try:
                    self.runs[key] = (self.run(flow_path, run_params(flow_path), datastore), True)
                except RunFailed as failed:
                    self.runs[key] = (failed.run_id, False)
            return self.runs[key]

    def __repr__(self) -> str:
        return f"<engine {self.name}>"


class Local(Engine):
    """`flowc run`, the reference."""

    name = "local"

    def available(self) -> bool:
        return True

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        from tests.support.artifacts import flowc_run

        run_id = f"local-{flow_id(flow_path).replace('/', '-')}"
        done = flowc_run(flow_path, datastore, run_id, params=as_text(params), env=SECRET_ENV, check=False)
        if done.returncode != 0:
            raise RunFailed(run_id, done.stdout + done.stderr)
        return run_id


class Airflow(Engine):
    """dag.test() of the flow's DAG; every step placed on the worker, environments built at start."""

    target = "airflow"

    def __init__(self, version: int) -> None:
        super().__init__()
        self.version = version
        self.name = f"airflow{version}"

    def available(self) -> bool:
        return airflow_python(self.version).exists()

    @property
    def instance(self) -> SimpleNamespace:
        return airflow_instance(self.version)

    def deploy_one(self, path: Path, datastore: Path) -> None:
        options: dict[str, Any] = {"force_placement": "local", "environments": "bootstrap",
                                   "datastore": str(datastore)}
        if self.version == 2:
            options.update(airflow_version=2, local_python=sys.executable)
        deploy_airflow_flow(self.instance.dags / flow_id(path).replace("/", "_"), path, **options)

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        from flowc.runtime.identity import safe_run_id
        from flowc.targets.airflow import dag_id_of

        self.deploy([flow_path], datastore)
        answer = self.instance.probe.ask(op="test", dag_id=dag_id_of(load_ir(flow_path)), conf=params)
        self.results[flow_id(flow_path)] = answer
        if "run_id" not in answer:
            raise AssertionError(f"{self.name} did not run the DAG: {answer}")
        run_id = safe_run_id(answer["run_id"])
        if answer.get("state") != "success":
            raise RunFailed(run_id, json.dumps(answer.get("states"), indent=1) + "\n" + self.instance.probe.log_tail())
        return run_id


class Prefect(Engine):
    """The compiled flow called here, against the session's Prefect server."""

    name = "prefect"
    target = "prefect"

    def __init__(self) -> None:
        super().__init__()
        self.folder = None

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("prefect") is not None

    def deploy_one(self, path: Path, datastore: Path) -> None:
        if self.folder is None:
            self.folder = _scratch("prefect-flows")
        self.results[flow_id(path)] = build_prefect(path, self.folder / flow_id(path).replace("/", "_"), datastore)

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        prefect_server()
        prefect_secret_blocks()
        self.deploy([flow_path], datastore)
        plan = self.results[flow_id(flow_path)]
        flow = load_prefect_flow(self.folder / flow_id(flow_path).replace("/", "_"), plan.flow_func)
        state = flow(**params, return_state=True)
        run_id = str(state.state_details.flow_run_id)
        if not state.is_completed():
            raise RunFailed(run_id, str(state.message))
        return run_id


class StepFunctions(Engine):
    """The state machine in moto's interpreter, a `flowc worker` doing its tasks."""

    name = "stepfunctions"
    target = "stepfunctions"
    parallel = 4  # executions at a time, each with its own worker
    run_id = "sfn-1"
    # the flows whose steps have pinned packages build them where they run
    OPTIONS = {"examples/recsys": ("--environments", "bootstrap")}

    def available(self) -> bool:
        from tests.targets.stepfunctions.sfn_harness import validators_installed

        return shutil.which("node") is not None and validators_installed()

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        server = moto_server()
        with _lock:
            if "sfn-secrets" not in _services:
                client = server.client("secretsmanager")
                for name in SECRETS:
                    client.create_secret(Name=name, SecretString=json.dumps(SECRETS[name]))
                _services["sfn-secrets"] = True
        execution, _ = sfn_harness().run_flow(flow_path, run_id=self.run_id, params=params, datastore=datastore,
                                              options=self.OPTIONS.get(flow_id(flow_path), ()))
        self.results[flow_id(flow_path)] = execution
        if execution.status != "SUCCEEDED":
            raise RunFailed(self.run_id, execution.worker_log)
        return self.run_id


class Argo(Engine):
    """The WorkflowTemplate walked as Argo's controller does; every pod's command run here."""

    name = "argo"
    target = "argo"
    run_id = "argo-run"
    OPTIONS = {"examples/recsys": {"environments": "bootstrap"}}

    def available(self) -> bool:
        from tests.targets.argo.argo_checks import SCHEMAS

        return SCHEMAS.is_dir()

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        work = datastore.parent / "pods" / flow_id(flow_path).replace("/", "_")
        harness, result = run_on_argo(flow_path, work, datastore, as_text(params) or None,
                                      options=self.OPTIONS.get(flow_id(flow_path)))
        self.results[flow_id(flow_path)] = (harness, result)
        if result.phase != "Succeeded":
            raise RunFailed(self.run_id, str(result.message))
        return self.run_id


KFP_PYTHON = REPO / ".venv-kfp" / "bin" / "python"
KFP_HARNESS = REPO / "tests" / "targets" / "kubeflow" / "kfp_harness.py"


def kfp_harness(*argv: str, cwd: Path | None = None, timeout: int = 900) -> dict:
    """One command of tests/targets/kubeflow/kfp_harness.py in .venv-kfp; its answer."""
    done = subprocess.run([str(KFP_PYTHON), str(KFP_HARNESS), *argv], capture_output=True, text=True,
                          cwd=str(cwd) if cwd else None, timeout=timeout)
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"the kfp harness said nothing:\n{done.stderr[-4000:]}")
    answer = json.loads(lines[-1])
    if not answer.pop("ok"):
        raise AssertionError(f"kfp harness: {answer['error']}\n{answer['traceback']}\n{done.stderr[-4000:]}")
    answer["log"] = done.stderr
    return answer


def write_kubernetes_secrets(secrets: dict[str, dict[str, str]], folder: Path) -> Path:
    """Each secret as Kubernetes mounts it: a folder per secret, a file per key."""
    for name, values in secrets.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for key, value in values.items():
            (folder / name / key).write_text(value)
    return folder


class Kubeflow(Engine):
    """The pipeline package run by kfp.local's orchestrator; each task's command run here
    (the secrets a task mounts: SECRETS, as folders)."""

    name = "kubeflow"
    target = "kubeflow"
    OPTIONS = {"examples/recsys": {"environments": "bootstrap"}}
    secrets: dict[str, dict[str, str]] = SECRETS  # the cluster's secrets: {name: {key: value}}

    def available(self) -> bool:
        return KFP_PYTHON.exists()

    def run(self, flow_path: Path, params: dict[str, Any], datastore: Path) -> str:
        from flowc.targets.kubeflow import KubeflowTarget, package_name

        flow = load_ir(flow_path)
        run_id = f"kfp-{flow_id(flow_path).replace('/', '-')}"
        work = datastore.parent / "kfp" / flow_id(flow_path).replace("/", "_")
        work.mkdir(parents=True, exist_ok=True)
        assert flowc_cli(["package", str(flow_path), "--datastore", str(datastore)]) == 0
        from flowc.packaging import code_package

        target = KubeflowTarget({"datastore": str(datastore), "python": sys.executable,
                                 **self.OPTIONS.get(flow_id(flow_path), {})})
        cwd = os.getcwd()
        os.chdir(REPO)  # the package `flowc package` uploaded: paths from the repository root
        try:
            rel = flow_path.relative_to(REPO) if flow_path.is_relative_to(REPO) else flow_path
            target.package_sha = code_package(flow, rel)[1]
        finally:
            os.chdir(cwd)
        files = target.compile(flow).files
        write_files(files, work)
        secrets = write_kubernetes_secrets(self.secrets, work / "secrets")
        answer = kfp_harness("run", package_name(flow), "--run-id", run_id, "--params",
                             json.dumps(params), "--root", str(work / "root"), "--secrets", str(secrets), cwd=work)
        self.results[flow_id(flow_path)] = answer
        if answer["state"] != "succeeded":
            raise RunFailed(run_id, answer.get("message", "") + "\n" + answer["log"])
        return run_id


def all_engines() -> dict[str, Engine]:
    """Every engine, by name, one instance each per session."""
    def make() -> dict[str, Engine]:
        engines = [Local(), Airflow(3), Airflow(2), Prefect(), StepFunctions(), Argo(), Kubeflow()]
        return {e.name: e for e in engines}

    return service("engines", make)


ENGINE_NAMES = ("local", "airflow3", "airflow2", "prefect", "stepfunctions", "argo", "kubeflow")


def engine(name: str) -> Engine:
    return all_engines()[name]


def datastore_of(name: str) -> Path:
    """The datastore of an engine's runs this session."""
    return service(f"datastore-{name}", lambda: _scratch(f"ds-{name}") / "datastore")
