"""Build a step's environment: a virtual environment holding its pinned
packages, cached by environment id and reused by every task that needs it.

Used by `flowc run` (one environment per id, built before any step runs)
and by a container in bootstrap mode (``--environment``: build it on first
use, cached in a folder that may be a shared volume). uv is used where it
is installed, venv and pip otherwise; conda environments need conda,
mamba or micromamba.

When the environment's Python is the one running flowc, the new
environment also sees this interpreter's site-packages (flowc, fsspec and
the rest) after its own pins, so a pin always wins. With another Python
version, flowc is installed into the environment from its own source.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from typing import Callable


class EnvironmentError_(Exception):
    """An environment cannot be built here; the message says what to install."""


def default_cache() -> str:
    base = os.environ.get("FLOWC_ENV_CACHE")
    if base:
        return base
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "flowc", "envs")


def find_uv() -> str | None:
    candidate = os.path.join(os.path.dirname(sys.executable), "uv")
    return candidate if os.access(candidate, os.X_OK) else shutil.which("uv")


def find_conda() -> str | None:
    for tool in ("micromamba", "mamba", "conda"):
        path = shutil.which(tool)
        if path:
            return path
    return None


def current_version() -> tuple[int, int, int]:
    return sys.version_info[:3]


def matches(wanted: str | None) -> bool:
    if not wanted:
        return True
    parts = tuple(int(p) for p in wanted.split("."))
    return current_version()[: len(parts)] == parts


def find_python(wanted: str) -> str | None:
    """An interpreter of the wanted version: this one, one on PATH, or a pyenv install."""
    if matches(wanted):
        return sys.executable
    major_minor = ".".join(wanted.split(".")[:2])
    candidates = [shutil.which(f"python{major_minor}")]
    root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    candidates += sorted(glob.glob(os.path.join(root, "versions", f"{wanted}*", "bin", "python")), reverse=True)
    for path in candidates:
        if not path:
            continue
        try:
            out = subprocess.run([path, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip().startswith(wanted):
            return path
    return None


def _site_packages_of_this_interpreter() -> list[str]:
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted(p for p in paths if os.path.isdir(p))


def _flowc_source() -> str | None:
    """Where flowc can be installed from into another Python: its project folder
    (an editable or local install records it in direct_url.json)."""
    from importlib import metadata

    for dist in metadata.distributions():
        if (dist.metadata["Name"] or "").lower() != "flowc":
            continue
        try:
            direct = dist.read_text("direct_url.json")
        except Exception:
            direct = None
        if direct:
            url = json.loads(direct).get("url", "")
            if url.startswith("file://") and os.path.isfile(os.path.join(url[len("file://"):], "pyproject.toml")):
                return url[len("file://"):]
    return None


def _run(cmd: list[str], log: Callable[[str], None]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-12:]
        raise EnvironmentError_(f"`{' '.join(cmd[:4])} ...` failed:\n  " + "\n  ".join(detail))


def build(spec: dict, cache: str | None = None, log: Callable[[str], None] = lambda s: None) -> str:
    """The python executable of the environment ``spec`` (id, manager, python,
    packages), building it first if it is not in the cache."""
    cache = cache or default_cache()
    folder = os.path.join(cache, spec["id"])
    python = os.path.join(folder, "bin", "python")
    marker = os.path.join(folder, ".flowc-complete")
    if os.path.exists(marker):
        return python
    os.makedirs(cache, exist_ok=True)
    import fcntl

    with open(os.path.join(cache, f".{spec['id']}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per environment; the others wait and reuse
        if os.path.exists(marker):
            return python
        # environments are not relocatable, so they are built in place; the
        # marker, written last, says the build finished
        shutil.rmtree(folder, ignore_errors=True)
        try:
            if spec["manager"] == "conda":
                _build_conda(spec, folder, log)
            else:
                _build_pypi(spec, folder, log)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return python


def _build_pypi(spec: dict, folder: str, log: Callable[[str], None]) -> None:
    wanted = spec.get("python")
    interpreter = find_python(wanted) if wanted else sys.executable
    if interpreter is None:
        raise EnvironmentError_(
            f"Python {wanted} is not installed here (steps: {', '.join(spec.get('steps', [])) or '?'}); "
            f"install it (e.g. `uv python install {wanted}` or pyenv), or run with --no-environments")
    same = interpreter == sys.executable
    uv = find_uv()
    reqs = [f"{n}=={v.lstrip('=')}" for n, v in sorted(spec["packages"].items())]
    if uv:
        _run([uv, "venv", "--quiet", "--python", interpreter, folder], log)
    else:
        _run([interpreter, "-m", "venv", folder], log)
    python = os.path.join(folder, "bin", "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    extra: list[str] = []
    if same:
        # after the environment's own packages: this interpreter's (flowc, fsspec, ...)
        lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in _site_packages_of_this_interpreter())
        with open(os.path.join(site, "zz_flowc_parent.pth"), "w") as f:
            f.write(lines)
    else:
        source = _flowc_source()
        if source is None:
            raise EnvironmentError_(f"cannot install flowc into a Python {wanted} environment: flowc was not "
                                    "installed from a source folder; use the Python flowc runs on")
        extra = [source]
    if reqs or extra:
        if uv:
            _run([uv, "pip", "install", "--quiet", "--python", python, *reqs, *extra], log)
        else:
            _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs, *extra], log)
    with open(os.path.join(folder, ".flowc-complete"), "w") as f:
        json.dump(spec, f, sort_keys=True)


def _build_conda(spec: dict, folder: str, log: Callable[[str], None]) -> None:
    tool = find_conda()
    if tool is None:
        raise EnvironmentError_(missing_conda_message(spec.get("steps", [])))
    python = spec.get("python") or ".".join(map(str, current_version()[:2]))
    pkgs = [f"{n}={v}" for n, v in sorted(spec["packages"].items())]
    _run([tool, "create", "--yes", "--quiet", "-p", folder, "-c", "conda-forge", f"python={python}", "pip", *pkgs], log)
    source = _flowc_source()
    if source is None:
        raise EnvironmentError_("cannot install flowc into a conda environment: flowc was not installed from a source folder")
    _run([os.path.join(folder, "bin", "python"), "-m", "pip", "install", "--quiet", source], log)
    with open(os.path.join(folder, ".flowc-complete"), "w") as f:
        json.dump(spec, f, sort_keys=True)


def missing_conda_message(steps: list[str]) -> str:
    return (f"@conda on {', '.join(steps) or 'a step'} needs conda, mamba or micromamba, and none is installed; "
            "install micromamba (or conda), use @pypi instead, or run with --no-environments")


def unsatisfied_pins(packages: dict[str, str]) -> list[str]:
    """Pins this interpreter does not satisfy (for --no-environments warnings)."""
    from importlib import metadata

    out = []
    for name, version in sorted(packages.items()):
        try:
            have = metadata.version(name.split("[")[0])
        except metadata.PackageNotFoundError:
            have = None
        if have != version.lstrip("="):
            out.append(f"{name}=={version.lstrip('=')} (here: {have or 'not installed'})")
    return out
