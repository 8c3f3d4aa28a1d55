"""Shared setup of the Airflow target's tests: compiling corpus flows, and
one Airflow process per session (per Airflow version) that answers questions
about generated DAG files (see airflow_probe.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import REPO, load_ir

HERE = Path(__file__).resolve().parent
PROBE = HERE / "airflow_probe.py"
OWN_FLOWS = sorted((HERE / "flows").glob("*.py"))
AIRFLOW2_PYTHON = REPO / ".venv-airflow2" / "bin" / "python"


def compile_flow(path: Path, unsupported: str = "error", **options: Any):
    """(DAG file text, diagnostics) of a flow for the Airflow target."""
    from flowc.targets.airflow import AirflowTarget

    target = AirflowTarget(options, unsupported_level="warning" if unsupported == "warn" else "error")
    out = target.compile(load_ir(path))
    assert len(out.files) == 1, out.files.keys()
    (name, data), = out.files.items()
    return data.decode("utf-8"), out.diagnostics


def dag_file_name(path: Path, **options: Any) -> str:
    from flowc.targets.airflow import AirflowTarget

    target = AirflowTarget(options, unsupported_level="warning")
    return next(iter(target.compile(load_ir(path)).files))


class Probe:
    """A running airflow_probe.py: ask(op=..., ...) returns its answer."""

    def __init__(self, python: Path | str, env: dict[str, str], log: Path):
        self.log = log
        self.proc = subprocess.Popen([str(python), str(PROBE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(log, "w"), env=env, text=True, cwd=str(log.parent))

    def ask(self, **request: Any) -> dict:
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
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    })
    return env


@pytest.fixture(scope="session")
def airflow3(tmp_path_factory):
    """Airflow 3 (this environment), with a migrated sqlite database and a dags folder."""
    home = tmp_path_factory.mktemp("airflow3")
    dags = home / "dags"
    dags.mkdir()
    env = airflow_env(home, dags)
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                             text=True, cwd=home)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    probe = Probe(sys.executable, env, home / "probe.log")
    yield SimpleNamespace(probe=probe, home=home, dags=dags, env=env)
    probe.close()


def require_airflow2() -> None:
    if not AIRFLOW2_PYTHON.exists():
        if os.environ.get("FLOWC_REQUIRE_AIRFLOW2"):
            pytest.fail(f"{AIRFLOW2_PYTHON.relative_to(REPO)} is missing: run make test (mk/airflow.mk builds it)")
        pytest.skip(".venv-airflow2 is not built (make test builds it)")


@pytest.fixture(scope="session")
def airflow2(tmp_path_factory):
    """Airflow 2.10 in its own environment (.venv-airflow2, built by mk/airflow.mk)."""
    require_airflow2()
    home = tmp_path_factory.mktemp("airflow2")
    dags = home / "dags"
    dags.mkdir()
    probe = Probe(AIRFLOW2_PYTHON, airflow_env(home, dags), home / "probe.log")
    yield SimpleNamespace(probe=probe, home=home, dags=dags)
    probe.close()


@pytest.fixture(scope="session")
def airflow2_db(tmp_path_factory):
    """Airflow 2.10 with a migrated sqlite database, for dag.test()."""
    require_airflow2()
    home = tmp_path_factory.mktemp("airflow2db")
    dags = home / "dags"
    dags.mkdir()
    env = airflow_env(home, dags)
    migrate = subprocess.run([str(AIRFLOW2_PYTHON), "-m", "airflow", "db", "migrate"], env=env,
                             capture_output=True, text=True, cwd=home)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    probe = Probe(AIRFLOW2_PYTHON, env, home / "probe.log")
    yield SimpleNamespace(probe=probe, home=home, dags=dags, env=env)
    probe.close()
