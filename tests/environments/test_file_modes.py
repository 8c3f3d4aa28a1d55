"""Files the CLI writes are readable by others (0644 under umask 022), like a plain open()."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FLOW = REPO / "tests" / "environments" / "flows" / "pinned_versions.py"


def run_flowc(*args: str, umask: int) -> subprocess.CompletedProcess:
    code = f"import os, runpy, sys; os.umask({umask}); sys.argv = ['flowc', *sys.argv[1:]]; " \
           "runpy.run_module('flowc', run_name='__main__')"
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()}


def test_compile_build_contexts_and_package_write_0644(tmp_path: Path) -> None:
    for target in ("argo", "airflow", "prefect", "stepfunctions"):
        run_flowc("compile", str(FLOW), "-t", target, "-o", str(tmp_path / "dags" / target) + "/", umask=0o022)
    run_flowc("environments", str(FLOW), "--build-context", str(tmp_path / "ctx"), umask=0o022)
    run_flowc("package", str(FLOW), "--datastore", str(tmp_path / "store"), umask=0o022)
    for folder in ("dags", "ctx", "store"):
        found = modes(tmp_path / folder)
        assert found, f"nothing written under {folder}"
        assert set(found.values()) == {0o644}, (folder, {k: oct(v) for k, v in found.items()})


def test_the_umask_is_respected(tmp_path: Path) -> None:
    run_flowc("compile", str(FLOW), "-t", "argo", "-o", str(tmp_path / "dags" / "flow.yaml"), umask=0o077)
    found = modes(tmp_path / "dags")
    assert found and set(found.values()) == {0o600}, {k: oct(v) for k, v in found.items()}
