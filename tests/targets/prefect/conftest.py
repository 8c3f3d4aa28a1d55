"""Shared setup of the Prefect target's tests: compiling flows, one Prefect
server for the whole session, running a compiled flow against it, and a
stand-in for the Kubernetes node that runs a work pool's jobs."""

from __future__ import annotations

import asyncio
import contextvars
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support import engines
from tests.support.procs import wait_until

HERE = Path(__file__).resolve().parent

# Prefect reads its settings when first imported: a private home before any test imports it.
engines.prefect_home()

compile_flow = engines.compile_prefect
write_files = engines.write_files
build = engines.build_prefect
load_prefect_flow = engines.load_prefect_flow
prefect_server = engines.prefect_server
free_port = engines.free_port


@pytest.fixture
def prefect_api() -> str:
    """One Prefect server (a temporary database) for the whole session, the engines' (shared with the
    conformance matrix); its API URL, once this test has seen that it answers."""
    return engines.prefect_server()


def prefect_cli(args: list[str], cwd: Path, api_url: str) -> subprocess.CompletedProcess:
    """The prefect command line against the session's server; fails the test on error."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "COLUMNS": "200"}
    result = subprocess.run([str(Path(sys.executable).parent / "prefect"), "--no-prompt", *args], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"prefect {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class Node:
    """What a Kubernetes node would do for a Kubernetes work pool, on this
    machine: it takes each flow run scheduled on the pool, renders the job the
    Kubernetes worker would create (prefect-kubernetes' own job
    configuration, from the pool's base job template and the deployment's job
    variables), and runs that job's container command with its environment.
    Only the image is not pulled: the command runs in this Python environment."""

    def __init__(self, pool: str, api_url: str, deadline: float = 300.0):
        self.pool = pool
        self.api_url = api_url
        self.deadline = time.monotonic() + deadline  # then it fails what waits, rather than hang
        self.manifests: dict[str, list[dict]] = {}  # deployment name -> the job manifests it ran
        self.errors: list[str] = []
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the session's Prefect settings (its API URL)
        self._thread = threading.Thread(target=context.run, args=(self._loop,), daemon=True)

    def __enter__(self) -> "Node":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
        from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName
        from prefect.client.schemas.objects import StateType
        from prefect.states import Crashed, Pending

        running: set = set()
        async with get_client() as client:
            while not self._stop.is_set():
                runs = await client.read_flow_runs(
                    work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[self.pool])),
                    flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))))
                if time.monotonic() > self.deadline:
                    for run in runs:
                        await client.set_flow_run_state(run.id, Crashed(message="the test's node gave up"), force=True)
                        self.errors.append(f"{run.name}: not run before the deadline")
                    runs = []
                for run in runs:
                    state = await client.set_flow_run_state(run.id, Pending())
                    if state.status.value != "ACCEPT":
                        continue
                    job = asyncio.create_task(self._guarded(client, run))
                    running.add(job)
                    job.add_done_callback(running.discard)
                await asyncio.sleep(0.3)
            if running:
                await asyncio.wait(running, timeout=60)

    async def _guarded(self, client, run) -> None:
        try:
            await self._run_job(client, run)
        except Exception as exc:  # reported by the test
            self.errors.append(f"{run.name}: {type(exc).__name__}: {exc}")

    async def _run_job(self, client, run) -> None:
        from prefect.states import Crashed
        from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

        deployment = await client.read_deployment(run.deployment_id)
        pool = await client.read_work_pool(self.pool)
        flow = await client.read_flow(run.flow_id)
        variables = {**(deployment.job_variables or {}), **(run.job_variables or {})}
        config = await KubernetesWorkerJobConfiguration.from_template_and_values(pool.base_job_template, variables)
        config.prepare_for_flow_run(run, deployment, flow)
        manifest = config.job_manifest
        self.manifests.setdefault(deployment.name, []).append(manifest)
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "HOME": os.environ.get("HOME", "/tmp")}
        env.update({e["name"]: e["value"] for e in container.get("env", []) if e.get("value") is not None})
        env.update({k: v for k, v in os.environ.items()
                    if k.startswith(("PREFECT_", "DO_NOT_TRACK", "PYTHONPATH", "FLOWC_")) and k not in env})
        # the command runs in this Python environment, its path and flowc's settings included
        proc = await asyncio.create_subprocess_exec(*container["args"], env=env, cwd=tempfile.gettempdir(),
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            self.errors.append(f"job of {run.name} exited {proc.returncode}:\n{out.decode(errors='replace')[-3000:]}")
            state = (await client.read_flow_run(run.id)).state
            if state is None or not state.is_final():  # as the worker does for a pod that died
                await client.set_flow_run_state(run.id, Crashed(message="the job's container exited"), force=True)




__all__ = ["REPO", "compile_flow", "write_files", "build", "load_prefect_flow", "prefect_api", "prefect_server",
           "prefect_cli", "Node", "wait_until"]
