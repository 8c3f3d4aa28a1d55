"""Per-step environments: which Python and which pinned packages each step
runs with, resolved offline at compile time.

A step's environment comes from its @pypi or @conda (layered over the flow's
@pypi_base / @conda_base: a step's pin of a package wins), and from its own
image (@kubernetes(image=) / @batch(image=)). Its id is a hash of the
manager, the Python version, the sorted pins, the base image and the flowc
version: steps that need the same thing share one environment, and the same
pins written in another order give the same id. Steps with none of these
run in the flow's default environment.

Pins must be exact versions: an environment is built the same way on a
laptop, in CI and in every container, with no resolver deciding later.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from flowc import __version__

from flowc.runtime import python_spec

from . import ir
from .diagnostics import ERROR, Diagnostic

DEFAULT = "default"
MIN_PYTHON = (3, 10)  # flowc's runtime runs on 3.10 and newer
MAX_PYTHON = (3, 15)  # the newest CPython released
_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])(\[[A-Za-z0-9._,-]+\])?$")
_CONDA_NAME = re.compile(r"^([A-Za-z0-9_.-]+::)?[A-Za-z0-9_.-]+$")
_VERSION = re.compile(r"^(==)?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?$")


def normalize_name(name: str) -> str:
    """PEP 503 normalization: Scikit_Learn and scikit-learn are one package."""
    base, _, extras = name.partition("[")
    norm = re.sub(r"[-_.]+", "-", base).lower()
    return norm + ("[" + extras if extras else "")


@dataclass(frozen=True)
class Environment:
    id: str
    manager: str  # "pypi", "conda" or "none"
    python: str | None
    packages: dict[str, str]
    image: str | None  # the step's own image, if it names one
    steps: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT

    def requirements(self) -> list[str]:
        """Pins as requirement lines (pip) or match specs (conda)."""
        if self.manager == "conda":
            return [f"{name}={version}" for name, version in sorted(self.packages.items())]
        return [f"{name}=={version.lstrip('=')}" for name, version in sorted(self.packages.items())]

    def to_json(self) -> dict:
        return {"id": self.id, "manager": self.manager, "python": self.python, "packages": dict(self.packages),
                "image": self.image, "steps": list(self.steps)}


@dataclass(frozen=True)
class EnvironmentPlan:
    environments: tuple[Environment, ...]
    by_step: dict[str, str] = field(default_factory=dict)

    def of(self, step: str) -> Environment:
        env_id = self.by_step[step]
        return next(e for e in self.environments if e.id == env_id)

    @property
    def custom(self) -> tuple[Environment, ...]:
        return tuple(e for e in self.environments if not e.is_default)


def env_id(manager: str, python: str | None, packages: dict[str, str], image: str | None,
           flowc_version: str = __version__) -> str:
    canonical = json.dumps({"manager": manager, "python": python, "packages": sorted(packages.items()),
                            "image": image, "flowc": flowc_version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _layers(flow: ir.Flow, step: ir.Step) -> tuple[str, str | None, dict[str, str], str | None]:
    d, fd = step.decorators, flow.decorators
    step_pkg = next((p for p in (d.pypi, d.conda) if p is not None), None)
    base = fd.pypi_base or fd.conda_base
    if step_pkg is not None and step_pkg.disabled:
        step_pkg, base = None, None
    layers = [p for p in (base, step_pkg) if p is not None and not p.disabled]
    image = next((x.image for x in (d.kubernetes, d.batch) if x is not None and x.image), None)
    if not layers:
        return "none", None, {}, image
    manager = layers[-1].manager
    python = None
    packages: dict[str, str] = {}
    for layer in layers:
        if layer.manager != manager:
            continue  # a mismatch is reported by check_environments
        python = layer.python.strip() if layer.python else python
        for name, version in layer.packages.items():
            packages[normalize_name(name)] = version.lstrip("=") if manager == "pypi" else version
    return manager, python, dict(sorted(packages.items())), image


def resolve(flow: ir.Flow, flowc_version: str = __version__) -> EnvironmentPlan:
    """Every step's environment, and the distinct environments in step order."""
    latest: dict[str, tuple[str, str | None, dict[str, str], str | None]] = {}
    members: dict[str, list[str]] = {}  # appended, not tuple + (name,): linear in the steps
    by_step: dict[str, str] = {}
    for step in flow.steps:
        manager, python, packages, image = _layers(flow, step)
        if manager == "none" and image is None:
            eid = DEFAULT
        else:
            eid = env_id(manager, python, packages, image, flowc_version)
        by_step[step.name] = eid
        latest[eid] = (manager, python, packages, image)  # equal for one id; the last one, as before
        members.setdefault(eid, []).append(step.name)
    envs = tuple(Environment(eid, *latest[eid], tuple(members[eid])) for eid in latest)
    return EnvironmentPlan(envs, by_step)


def check_environments(flow: ir.Flow) -> list[Diagnostic]:
    """Pins that cannot be built exactly, Python versions that do not exist,
    one package pinned twice in one step: compile-time errors at the decorator."""
    out: list[Diagnostic] = []
    decorators = [(f"@{p.manager}_base on flow {flow.name}", p) for p in (flow.decorators.pypi_base,
                                                                          flow.decorators.conda_base) if p]
    for step in flow.steps:
        decorators += [(f"@{p.manager} on step '{step.name}'", p) for p in (step.decorators.pypi, step.decorators.conda)
                       if p]
    for where, pkg in decorators:
        seen: dict[str, tuple[str, str]] = {}
        name_re = _CONDA_NAME if pkg.manager == "conda" else _NAME
        for name, version in pkg.packages.items():
            if not name_re.match(name):
                out.append(Diagnostic("FC601", ERROR, f"{where}: {name!r} is not a package name", pkg.span,
                                      "write the package's name as published, e.g. 'scikit-learn'"))
                continue
            if not _VERSION.match(version.strip()):
                out.append(Diagnostic(
                    "FC601", ERROR, f"{where}: {name}={version!r} is not an exact version", pkg.span,
                    f"pin one version, e.g. {name!r}: '1.5.2': environments are built offline and the same everywhere"))
                continue
            key = normalize_name(name)
            if key in seen and seen[key][1].lstrip("=") != version.lstrip("="):
                other = seen[key]
                out.append(Diagnostic("FC603", ERROR,
                                      f"{where}: {other[0]}=={other[1]} and {name}=={version} pin one package twice",
                                      pkg.span, "keep one pin per package"))
            seen[key] = (name, version)
        if pkg.python is not None:
            problem = _python_problem(pkg.python)
            if problem:
                out.append(Diagnostic("FC602", ERROR, f"{where}: python={pkg.python!r} {problem}", pkg.span,
                                      f"use a CPython from {MIN_PYTHON[0]}.{MIN_PYTHON[1]} to "
                                      f"{MAX_PYTHON[0]}.{MAX_PYTHON[1]}, e.g. python='3.11'"))
    fd = flow.decorators
    for step in flow.steps:
        d = step.decorators
        for base, own in ((fd.pypi_base, d.conda), (fd.conda_base, d.pypi)):
            if base is not None and own is not None and not own.disabled:
                out.append(Diagnostic("FC408", ERROR,
                                      f"step '{step.name}' uses @{own.manager} but the flow uses @{base.manager}_base",
                                      own.span, "use one package manager in a flow"))
    return out


def _python_problem(version: str) -> str | None:
    """Why a python= value cannot be built, or None: a bare version ('3.11') or
    a pip-style specifier ('3.10.*', '>=3.10,<3.12') that allows a CPython 3 release
    flowc's runtime runs on."""
    text = version.strip()
    try:
        python_spec.check(text)
    except python_spec.SpecError as exc:
        return f"is not a Python version or specifier: it {exc} (write e.g. '3.11' or '>=3.10,<3.12')"
    if python_spec.is_series(text):
        parts = [int(p) for p in text.split(".")]
        if len(parts) < 2 or len(parts) > 3:
            return "is not a Python version (write major.minor, e.g. '3.11')"
        if parts[0] != 3 or parts[1] > MAX_PYTHON[1] or (len(parts) == 3 and parts[2] > 30):
            return "does not exist"
    if not python_spec.minors(text, (3, 0), MAX_PYTHON):
        return "allows no CPython 3 release"
    if not python_spec.minors(text, MIN_PYTHON, MAX_PYTHON):
        return f"allows only Pythons older than flowc's runtime supports ({MIN_PYTHON[0]}.{MIN_PYTHON[1]}+)"
    return None


def image_python(spec: str | None) -> str | None:
    """The major.minor an environment's image (or conda environment) is built
    with: the version written, or the newest supported series a specifier allows."""
    return python_spec.pick(spec, MIN_PYTHON, MAX_PYTHON)
