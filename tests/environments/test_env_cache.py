"""Step environments survive the venv flowc ran from, work for a wheel-installed flowc on
another Python, and are keyed on the interpreter and flowc's runtime."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime import environment as envs
from flowc.runtime.environment import find_python
from tests.conftest import REPO

PINNED = REPO / "tests" / "environments" / "flows" / "pinned_versions.py"
UV = str(Path(sys.executable).with_name("uv"))
# recsys.py's fit_a pins Python 3.11: flowc must run on another Python for it to be "another".
OTHER = next((p for v in ("3.12", "3.13", "3.10") if (p := find_python(v))), None)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowc import _wheel

    path = tmp_path_factory.mktemp("wheel") / _wheel.wheel_name()
    path.write_bytes(_wheel.build())
    return path


def venv_with_flowc(folder: Path, python: str, wheel: Path) -> Path:
    """A throwaway venv with flowc installed from a wheel (not editable)."""
    subprocess.run([UV, "venv", "--quiet", "--python", python, str(folder)], check=True)
    subprocess.run([UV, "pip", "install", "--quiet", "--python", str(folder / "bin" / "python"),
                    str(wheel)], check=True)
    return folder / "bin" / "flowc"


def run(flowc: Path, flow: Path, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run([str(flowc), "run", str(flow), "--datastore", str(cwd / "ds")], capture_output=True,
                       text=True, cwd=cwd, env={**env, "FLOWC_ENV_CACHE": str(cache)}, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def test_deleting_the_venv_flowc_ran_from_breaks_no_environment(tmp_path: Path, wheel: Path) -> None:
    cache = tmp_path / "envs"
    first = venv_with_flowc(tmp_path / "venv1", sys.executable, wheel)
    assert "built in" in run(first, PINNED, tmp_path, cache).stderr
    for pth in cache.rglob("*.pth"):
        assert str(tmp_path / "venv1") not in pth.read_text(), pth
    shutil.rmtree(tmp_path / "venv1")
    second = venv_with_flowc(tmp_path / "venv2", sys.executable, wheel)
    again = run(second, PINNED, tmp_path, cache)
    assert again.stderr.count("(cached)") == 2, again.stderr


@pytest.mark.skipif(OTHER is None, reason="no Python other than 3.11 (3.10, 3.12, 3.13) is installed here")
def test_a_wheel_installed_flowc_runs_recsys_pypi_step_on_another_python(tmp_path: Path, wheel: Path) -> None:
    flowc = venv_with_flowc(tmp_path / "venv", OTHER, wheel)
    r = run(flowc, REPO / "examples" / "recsys.py", tmp_path, tmp_path / "envs")
    assert "environment" in r.stderr and "fit_a" in r.stderr
    built = [p.read_text() for p in (tmp_path / "envs").glob("*/pyvenv.cfg")]
    assert any("version_info = 3.11" in c or "version = 3.11" in c for c in built), built


def test_the_cache_key_follows_the_interpreter_and_flowcs_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = {"id": "abc123", "manager": "pypi", "python": None, "packages": {"tabulate": "0.9.0"}}
    here = envs.cache_key(spec, sys.executable)
    assert envs.cache_key(spec, sys.executable) == here
    if OTHER is not None:
        assert envs.cache_key(spec, OTHER) != here
    files = envs.runtime_files()
    monkeypatch.setattr(envs, "runtime_files", lambda: {**files, "flowc/runtime/task.py": b"# changed\n"})
    assert envs.cache_key(spec, sys.executable) != here
    monkeypatch.undo()
    import flowc

    monkeypatch.setattr(flowc, "__version__", "9.9.9")
    assert envs.cache_key(spec, sys.executable) != here
