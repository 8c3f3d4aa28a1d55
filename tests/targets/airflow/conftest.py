"""Shared setup of the Airflow target's tests: compiling corpus flows, and
one Airflow process per session (per Airflow version) that answers questions
about generated DAG files (see airflow_probe.py). The Airflow instances are
the engines' (tests/support/engines.py), shared with the conformance matrix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.engines import AIRFLOW2_PYTHON, Probe, airflow_env, airflow_instance
from tests.support.engines import compile_airflow as compile_flow

HERE = Path(__file__).resolve().parent
PROBE = HERE / "airflow_probe.py"

__all__ = ["REPO", "PROBE", "AIRFLOW2_PYTHON", "Probe", "airflow_env", "compile_flow", "dag_file_name",
           "require_airflow2"]


def dag_file_name(path: Path, **options) -> str:
    from flowc.targets.airflow import AirflowTarget

    from tests.conftest import load_ir

    target = AirflowTarget(options, unsupported_level="warning")
    return next(iter(target.compile(load_ir(path)).files))


@pytest.fixture(scope="session")
def airflow3():
    """Airflow 3 (this environment), with a migrated sqlite database and a dags folder."""
    return airflow_instance(3)


def require_airflow2() -> None:
    if not AIRFLOW2_PYTHON.exists():
        if os.environ.get("FLOWC_REQUIRE_AIRFLOW2"):
            pytest.fail(f"{AIRFLOW2_PYTHON.relative_to(REPO)} is missing: run make test (mk/airflow.mk builds it)")
        pytest.skip(".venv-airflow2 is not built (make test builds it)")


@pytest.fixture(scope="session")
def airflow2():
    """Airflow 2.10 in its own environment (.venv-airflow2, built by mk/airflow.mk)."""
    require_airflow2()
    return airflow_instance(2, migrate=False)


@pytest.fixture(scope="session")
def airflow2_db():
    """Airflow 2.10 with a migrated sqlite database, for dag.test()."""
    require_airflow2()
    return airflow_instance(2)
