"""Targets by name. Built-in targets are imported only when asked for (so
compiling for Airflow never loads hera); third-party targets register
through the ``flowc.targets`` entry-point group."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import Target

if TYPE_CHECKING:
    from importlib import metadata

# name -> "module:Class" of the built-in targets
BUILTIN: dict[str, str] = {
    "airflow": "flowc.targets.airflow:AirflowTarget",
    "argo": "flowc.targets.argo:ArgoTarget",
    "kubeflow": "flowc.targets.kubeflow:KubeflowTarget",
    "prefect": "flowc.targets.prefect:PrefectTarget",
    "stepfunctions": "flowc.targets.stepfunctions:StepFunctions",
}

_loaded: dict[str, type[Target]] = {}


def register(cls: type[Target]) -> type[Target]:
    """Class decorator for targets defined at run time (tests, plugins)."""
    if not cls.name:
        raise ValueError("a target needs a name")
    _loaded[cls.name] = cls
    return cls


def _entry_points() -> dict[str, metadata.EntryPoint]:
    from importlib import metadata  # only for a target that is not built in: it costs more than a compile

    try:
        return {ep.name: ep for ep in metadata.entry_points(group="flowc.targets")}
    except Exception:  # a broken third-party distribution must not break flowc
        return {}


def names() -> list[str]:
    return sorted(set(BUILTIN) | set(_loaded) | set(_entry_points()))


class UnknownTarget(KeyError):
    def __str__(self) -> str:
        import difflib

        name = self.args[0]
        close = difflib.get_close_matches(str(name), names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown target {name!r}{hint} (targets: {', '.join(names())})"


def get(name: str) -> type[Target]:
    if name in _loaded:
        return _loaded[name]
    if name in BUILTIN:
        module, cls = BUILTIN[name].split(":")
        target = getattr(importlib.import_module(module), cls)
    else:
        ep = _entry_points().get(name)
        if ep is None:
            raise UnknownTarget(name)
        target = ep.load()
    _loaded[name] = target
    return target
