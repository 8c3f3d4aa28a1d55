"""What `flowc run` and `flowc resume` share: compile, keep the IR where the
tasks can read it, notes about decorators that mean nothing locally."""

from __future__ import annotations

import hashlib
import os
import time

from flowc.compiler import ir


def load_flow_cached(path: str, flow_name: str | None, configs=None) -> ir.Flow:
    """The flow's IR. The analysis cache (compiler/cache.py) keys it on the
    file's bytes, its place, the modules beside it and flowc's compiler code:
    a run of an unchanged flow does not parse it again (nor load libcst). A
    flow that reads config or included files, and a run given --config
    overrides, is analysed again each time (compiler/pipeline.py). Whatever
    is analysed is analysed in a forked child (compiler/apart.py), so the
    runner, which forks every task, never holds libcst."""
    from flowc.compiler import load_flow

    return load_flow(path, flow_name, configs, apart=True)


def write_ir(flow: ir.Flow, text: str | None = None) -> str:
    """The IR as a file tasks can read, content-addressed in a cache folder
    (``text``: ir.dump(flow), where the caller has it already)."""
    text = (text if text is not None else ir.dump(flow)).encode("utf-8")
    folder = os.path.join(_temp_root(), "flowc-ir")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{flow.name}-{hashlib.sha256(text).hexdigest()[:16]}.ir.json")
    if not os.path.exists(path):
        tmp = path + f".{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(text)
        os.replace(tmp, path)
    return path


def _temp_root() -> str:
    """The system's folder for temporary files, as tempfile.gettempdir()
    finds it where that is simple (TMPDIR, TEMP, TMP, /tmp). The runner
    does not import tempfile for it: tempfile imports random, whose
    handler reseeds it in every process forked after that, so in every
    task of a run (runtime/forkserver.py)."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        folder = os.environ.get(name)
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return os.path.abspath(folder)
    if os.name == "posix" and os.access("/tmp", os.W_OK | os.X_OK):
        return "/tmp"
    import tempfile

    return tempfile.gettempdir()


def local_notes(flow: ir.Flow) -> list[str]:
    """One note per decorator that has no effect on this machine."""
    notes = []
    for s in flow.steps:
        d = s.decorators
        if d.resources is not None:
            parts = [f"{k}={getattr(d.resources, k)}" for k in ("cpu", "memory", "gpu", "disk", "shared_memory")
                     if getattr(d.resources, k) is not None]
            notes.append(f"@resources({', '.join(parts)}) on {s.name}: runs on this machine as it is")
        for name in ("kubernetes", "batch"):
            if getattr(d, name) is not None:
                notes.append(f"@{name} on {s.name}: placement applies on an orchestrator; runs here locally")
        if d.secrets is not None:
            notes.append(f"@secrets on {s.name}: not injected locally; set the variables yourself if the step needs them")
    return notes


class EnvironmentProblem(Exception):
    """An environment cannot be built on this machine: said once, before any step runs."""


def prepare_environments(flow: ir.Flow, enabled: bool, say) -> dict[str, str]:
    """{step: python} for the steps that need their own environment, built (or
    found in the cache) before the run starts. With ``enabled`` False, every
    step runs here, with a warning for each step whose pins this
    interpreter does not satisfy."""
    from flowc.compiler.environments import resolve

    plan = resolve(flow)
    custom = [e for e in plan.custom if e.manager != "none"]
    if not custom:  # the runner, which forks the tasks, then never imports subprocess (and threading)
        return {}
    from flowc.runtime import environment as envs

    if not enabled:
        for env in custom:
            missing = envs.unsatisfied_pins(env.packages) if env.manager == "pypi" else [f"{len(env.packages)} conda pins"]
            wrong_python = env.python and not envs.matches(env.python)
            for step in env.steps:
                if missing or wrong_python:
                    detail = ", ".join(missing + ([f"python {env.python}"] if wrong_python else []))
                    say(f"warning: --no-environments: {step} runs here without {detail}")
        return {}
    conda = [e for e in custom if e.manager == "conda"]
    if conda and envs.find_conda() is None:
        raise EnvironmentProblem(envs.missing_conda_message([s for e in conda for s in e.steps]))
    pythons: dict[str, str] = {}
    for env in custom:
        spec = env.to_json()
        label = ", ".join(env.requirements()) or "no packages"
        started = time.time()
        cached = _is_cached(spec)
        try:
            python = envs.build(spec)
        except envs.EnvironmentError_ as exc:
            raise EnvironmentProblem(str(exc)) from None
        took = time.time() - started
        say(f"environment {env.id} for {', '.join(env.steps)}: python {env.python or 'as here'}, {label}"
            + (" (cached)" if cached else f" (built in {took:.1f} s)"))
        for step in env.steps:
            pythons[step] = python
    return pythons


def _is_cached(spec: dict) -> bool:
    from flowc.runtime.environment import is_built

    return is_built(spec)
