"""flowc as a user installs it: the wheel and the sdist built from a copy of
this checkout, each installed into a fresh venv outside the repository, and
run from folders outside it with nothing of the repository on any path.

The editable install every other test uses would hide a module or data file
left out of the distributions; these fixtures build them once a session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

UV = Path(sys.executable).parent / "uv"
CONSTRAINTS = REPO / "constraints.txt"
# the folders the distributions install as flowc and its subpackages
ROOTS = {"flowc": "flowc", "compiler": "flowc/compiler", "targets": "flowc/targets", "runtime": "flowc/runtime"}


def sh(*args: str | Path, cwd: Path | None = None, env: dict | None = None,
       timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def tracked_files() -> list[str]:
    """The files a clone (or the action's checkout) has: tracked ones, and new ones not ignored."""
    listed = ok(sh("git", "ls-files", "-co", "--exclude-standard", "-z", cwd=REPO)).stdout
    return sorted(f for f in listed.split("\0") if f and (REPO / f).is_file())


def outside_repo(path: Path) -> Path:
    assert REPO not in path.resolve().parents, f"{path} is inside the repository"
    return path


@dataclass
class Dists:
    source: Path  # a copy of the checkout, as a clone or the action's checkout holds it
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as z:
            return set(z.namelist())

    def sdist_names(self) -> set[str]:
        with tarfile.open(self.sdist) as t:
            return {name.split("/", 1)[1] for name in t.getnames() if "/" in name}


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    assert UV.exists(), f"uv is not installed beside {sys.executable} (make install puts it there)"
    root = outside_repo(tmp_path_factory.mktemp("dists"))
    source = root / "src"
    for rel in tracked_files():
        if not rel.startswith("tests/golden/"):
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, source / rel)
    # --sdist --wheel: both straight from the source tree, as `pip install .` builds
    ok(sh(UV, "build", "--quiet", "--sdist", "--wheel", "--out-dir", root / "dist", source))
    (wheel,) = (root / "dist").glob("flowc-*.whl")
    (sdist,) = (root / "dist").glob("flowc-*.tar.gz")
    return Dists(source, wheel, sdist)


def clean_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """The environment of a user's shell with the venv activated: nothing of
    the repository on PATH or PYTHONPATH, no datastore chosen, caches apart."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "FLOWC_DATASTORE", "FLOWC_ENV_CACHE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST", "GITHUB_"))}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and not Path(p).resolve().is_relative_to(REPO)]
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    env["XDG_CACHE_HOME"] = str(home / "cache")
    env["NO_COLOR"] = "1"
    return env


@dataclass
class Installed:
    """One venv holding flowc from one distribution."""

    kind: str
    venv: Path
    env: dict[str, str]

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def flowc(self, *args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
        return sh(self.bin / "flowc", *args, cwd=outside_repo(cwd), env={**self.env, **(env or {})})

    def python(self, *args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
        return sh(self.bin / "python", *args, cwd=outside_repo(cwd), env={**self.env, **(env or {})})


def install(kind: str, spec: str, root: Path, seed: bool = False) -> Installed:
    venv = root / "venv"
    ok(sh(UV, "venv", "--quiet", *(["--seed"] if seed else []), "--python", sys.executable, venv))
    ok(sh(UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", "-c", CONSTRAINTS, spec))
    return Installed(kind, venv, clean_env(venv / "bin", root))


@pytest.fixture(scope="session")
def wheel_install(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return install("wheel", str(dists.wheel), outside_repo(tmp_path_factory.mktemp("wheel")))


@pytest.fixture(scope="session")
def sdist_install(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return install("sdist", str(dists.sdist), outside_repo(tmp_path_factory.mktemp("sdist")))


@pytest.fixture(scope="session", params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest) -> Installed:
    """flowc installed from the wheel, then from the sdist: each test runs on both."""
    return request.getfixturevalue(f"{request.param}_install")
