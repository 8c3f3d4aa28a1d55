"""Read a run's artifacts from a datastore, and run a flow with `flowc run`,
so every engine's test can compare its artifacts with flowc run's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from flowc.runtime.client import Run

REPO = Path(__file__).resolve().parents[2]


def comparable(value: Any) -> Any:
    """Values that compare by content: a caught failure or exception becomes (type, message), a
    ConfigValue (type, its data)."""
    from flowc.runtime.exceptions import MetaflowExceptionWrapper

    if isinstance(value, MetaflowExceptionWrapper):
        return ("exception", (value.type or "").rsplit(".", 1)[-1], value.exception)
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value))
    if type(value).__name__ == "ConfigValue" and callable(getattr(value, "to_dict", None)):
        # a config section stored as an artifact: each engine pickles its own ConfigValue class
        return ("ConfigValue", value.to_dict())
    return value


def run_artifacts(datastore_url: str, flow_name: str, run_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{step: {task_id: {artifact: value}}} for every finished task of a run."""
    run = Run(f"{flow_name}/{run_id}", str(datastore_url))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for step in run:
        for task in step:
            if task.done:
                out.setdefault(step.id, {})[task.id] = {
                    name: comparable(getattr(task.data, name)) for name in task.artifacts}
    return out


def flowc_run(flow_path: str | Path, datastore: str | Path, run_id: str, params: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, extra: tuple[str, ...] = (),
              check: bool = True) -> subprocess.CompletedProcess:
    """`flowc run FLOW.py --datastore DS --run-id ID [EXTRA...] --<param> <value>...`; fails the test on
    error (with check=False the caller reads the return code)."""
    argv = [sys.executable, "-m", "flowc", "run", str(flow_path), "--datastore", str(datastore),
            "--run-id", run_id, "--quiet", *extra]
    for name, value in (params or {}).items():
        if value is None:  # a flag parameter (is_flag=True), given alone
            argv.append(f"--{name}")
        else:
            argv += [f"--{name}", value if isinstance(value, str) else __import__("json").dumps(value)]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"flowc run {flow_path} failed:\n{result.stdout}\n{result.stderr}")
    return result
