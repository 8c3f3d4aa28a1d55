"""Build a step's environment: a virtual environment holding its pinned
packages, cached by environment id and reused by every task that needs it.

Used by `flowc run` (one environment per id, built before any step runs)
and by a container in bootstrap mode (``--environment``: build it on first
use, cached in a folder that may be a shared volume). uv is used where it
is installed, venv and pip otherwise; conda environments need conda,
mamba or micromamba.

flowc's runtime (flowc/__init__.py and flowc/runtime/, pure Python that
needs only the standard library and fsspec) is copied into the
environment, and fsspec (and s3fs, when installed here) pinned to the
versions installed here, so an environment never refers to another
virtual environment by path: deleting the venv flowc ran from breaks
nothing, and any step Python works whether flowc is a wheel or a checkout.
The cache folder is keyed on the environment id, the interpreter it is
built for and a hash of the flowc runtime it holds.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from typing import Callable

from . import python_spec


class EnvironmentError_(Exception):
    """An environment cannot be built here; the message says what to install."""


def default_cache() -> str:
    base = os.environ.get("FLOWC_ENV_CACHE")
    if base:
        return base
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "flowc", "envs")


def find_uv() -> str | None:
    import shutil  # in the functions that use it: every run imports this module

    candidate = os.path.join(os.path.dirname(sys.executable), "uv")
    return candidate if os.access(candidate, os.X_OK) else shutil.which("uv")


def find_conda() -> str | None:
    import shutil

    for tool in ("micromamba", "mamba", "conda"):
        path = shutil.which(tool)
        if path:
            return path
    return None


def current_version() -> tuple[int, int, int]:
    return sys.version_info[:3]


def matches(wanted: str | None) -> bool:
    """Does this interpreter satisfy python= (a version, or a pip-style specifier)?"""
    return python_spec.allows(wanted, current_version())


# the Python series an interpreter is looked for in (flowc's runtime runs on 3.10+)
SERIES = ((3, 10), (3, 15))


def find_python(wanted: str) -> str | None:
    """An interpreter python= allows: this one, else one on PATH or a pyenv
    install, of the newest series the specifier allows."""
    if matches(wanted):
        return sys.executable
    import shutil

    root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    candidates = []
    for major, minor in reversed(python_spec.minors(wanted, *SERIES)):
        candidates.append(shutil.which(f"python{major}.{minor}"))
        candidates += sorted(glob.glob(os.path.join(root, "versions", f"{major}.{minor}*", "bin", "python")),
                             reverse=True)
    for path in candidates:
        if not path:
            continue
        try:
            out = subprocess.run([path, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and python_spec.allows(wanted, tuple(int(x) for x in out.stdout.split("."))):
            return path
    return None


# What the runtime imports besides the standard library (s3fs: s3:// datastores).
RUNTIME_PACKAGES = ("fsspec", "s3fs")


def runtime_files() -> dict[str, bytes]:
    """{path under site-packages: bytes} of flowc's runtime, as copied into an environment."""
    import flowc

    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(os.path.abspath(flowc.__file__))
    files = {}
    for name in ("__init__.py", "cards.py"):  # what a flow imports from flowc itself
        with open(os.path.join(top, name), "rb") as f:
            files[f"flowc/{name}"] = f.read()
    for folder, dirs, names in os.walk(here):  # the runtime and its subpackages (cards)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and os.path.exists(os.path.join(folder, d, "__init__.py")))
        rel = os.path.relpath(folder, here).replace(os.sep, "/")
        for name in sorted(names):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as f:
                    files[f"flowc/runtime/{name}" if rel == "." else f"flowc/runtime/{rel}/{name}"] = f.read()
    return files


def runtime_pins(packages: dict[str, str]) -> list[str]:
    """The runtime's dependencies at the versions installed here, unless the step pins them itself."""
    from importlib import metadata

    pinned = {n.split("[")[0].lower() for n in packages}
    out = []
    for name in RUNTIME_PACKAGES:
        if name in pinned:
            continue
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def interpreter_version(interpreter: str) -> str:
    if interpreter == sys.executable:
        return ".".join(map(str, sys.version_info[:3]))
    out = subprocess.run([interpreter, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def cache_key(spec: dict, interpreter: str) -> str:
    """What an environment folder is keyed on besides its id: the interpreter
    (resolved path and version) and flowc's version and runtime files."""
    import hashlib

    from flowc import __version__

    h = hashlib.sha256()
    for part in (spec["id"], os.path.realpath(interpreter), interpreter_version(interpreter), __version__,
                 *runtime_pins(spec.get("packages", {}))):
        h.update(part.encode() + b"\0")
    for path, data in sorted(runtime_files().items()):
        h.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:12]


def _install_runtime(python: str) -> None:
    """Copy flowc's runtime into the environment's own site-packages."""
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    for rel, data in runtime_files().items():
        path = os.path.join(site, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _run(cmd: list[str], log: Callable[[str], None]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-12:]
        raise EnvironmentError_(f"`{' '.join(cmd[:4])} ...` failed:\n  " + "\n  ".join(detail))


def folder_of(spec: dict, cache: str | None = None) -> str:
    """The cache folder of ``spec``'s environment for this interpreter and this flowc."""
    interpreter = _interpreter(spec)
    key = f"{spec['id']}-{cache_key(spec, interpreter)}" if interpreter else spec["id"]
    return os.path.join(cache or default_cache(), key)


def is_built(spec: dict, cache: str | None = None) -> bool:
    return os.path.exists(os.path.join(folder_of(spec, cache), ".flowc-complete"))


def step_process_env(base: dict[str, str]) -> dict[str, str]:
    """The variables a step's environment runs with: its own packages and its own
    copy of flowc's runtime, never a parent's. PYTHONPATH (a source checkout, a
    test harness) would shadow them, and so would the working folder
    (PYTHONSAFEPATH keeps it off sys.path)."""
    env = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONSAFEPATH"] = "1"
    return env


def build(spec: dict, cache: str | None = None, log: Callable[[str], None] = lambda s: None) -> str:
    """The python executable of the environment ``spec`` (id, manager, python,
    packages), building it first if it is not in the cache."""
    cache = cache or default_cache()
    interpreter = _interpreter(spec)
    folder = folder_of(spec, cache)
    key = os.path.basename(folder)
    python = os.path.join(folder, "bin", "python")
    marker = os.path.join(folder, ".flowc-complete")
    if os.path.exists(marker):
        return python
    os.makedirs(cache, exist_ok=True)
    import fcntl
    import shutil

    with open(os.path.join(cache, f".{key}.lock"), "w") as lock:
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
                _build_pypi(spec, interpreter, folder, log)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return python


def _interpreter(spec: dict) -> str | None:
    """The Python a pypi environment is built from (None: not installed here); conda brings its own."""
    if spec["manager"] == "conda":
        return sys.executable  # the key still changes with flowc's runtime
    wanted = spec.get("python")
    return find_python(wanted) if wanted else sys.executable


def _build_pypi(spec: dict, interpreter: str | None, folder: str, log: Callable[[str], None]) -> None:
    wanted = spec.get("python")
    if interpreter is None:
        raise EnvironmentError_(
            f"Python {wanted} is not installed here (steps: {', '.join(spec.get('steps', [])) or '?'}); "
            f"install it (e.g. `uv python install {wanted}` or pyenv), or run with --no-environments")
    uv = find_uv()
    reqs = [f"{n}=={v.lstrip('=')}" for n, v in sorted(spec["packages"].items())]
    reqs += runtime_pins(spec["packages"])
    if uv:
        _run([uv, "venv", "--quiet", "--python", interpreter, folder], log)
    else:
        _run([interpreter, "-m", "venv", folder], log)
    python = os.path.join(folder, "bin", "python")
    if reqs:
        if uv:
            _run([uv, "pip", "install", "--quiet", "--python", python, *reqs], log)
        else:
            _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs], log)
    _install_runtime(python)
    with open(os.path.join(folder, ".flowc-complete"), "w") as f:
        json.dump(spec, f, sort_keys=True)


def _build_conda(spec: dict, folder: str, log: Callable[[str], None]) -> None:
    tool = find_conda()
    if tool is None:
        raise EnvironmentError_(missing_conda_message(spec.get("steps", [])))
    python = python_spec.pick(spec.get("python"), *SERIES) or ".".join(map(str, current_version()[:2]))
    pkgs = [f"{n}={v}" for n, v in sorted(spec["packages"].items())]
    _run([tool, "create", "--yes", "--quiet", "-p", folder, "-c", "conda-forge", f"python={python}", "pip", *pkgs], log)
    pins = runtime_pins(spec["packages"])
    if pins:
        _run([os.path.join(folder, "bin", "python"), "-m", "pip", "install", "--quiet", *pins], log)
    _install_runtime(os.path.join(folder, "bin", "python"))
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
