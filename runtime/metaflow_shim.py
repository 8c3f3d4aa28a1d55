"""In a task process started by flowc, ``import metaflow`` gives flowc's names.

Flows written for Metaflow run unchanged: FlowSpec, step, Parameter, current,
JSONType and the decorators flowc supports resolve to flowc's. Any other
name (or submodule) fails with one message naming it. Installed only in
processes flowc starts; nothing changes elsewhere.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types


class UnsupportedMetaflowName(ImportError):
    pass


def _names() -> dict:
    import flowc

    names = {n: getattr(flowc, n) for n in flowc.__all__ if n not in ("Run", "Flow")}
    return names


class _MetaflowModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnsupportedMetaflowName(
            f"metaflow.{name} is not supported by flowc, which runs this flow without Metaflow; "
            f"supported: {', '.join(sorted(_names()))}")


# Submodules of metaflow that are flowc modules under another name.
ALIASES = {"metaflow.cards": "flowc.runtime.cards", "metaflow.integrations": "flowc.runtime.integrations"}


class _Alias:  # importlib's Loader protocol (importlib.abc costs every task 2 ms to import)
    """Loads ``metaflow.cards`` as flowc's own module of that job."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass


class _Finder:  # importlib's MetaPathFinder protocol
    def find_spec(self, fullname, path, target=None):
        if fullname in ALIASES:
            return importlib.machinery.ModuleSpec(fullname, _Alias(ALIASES[fullname]))
        if fullname.startswith("metaflow."):
            raise UnsupportedMetaflowName(
                f"{fullname} is not supported by flowc, which runs this flow without Metaflow; "
                "import the supported names from metaflow itself (FlowSpec, step, Parameter, current, ...)")
        return None


def install() -> None:
    if isinstance(sys.modules.get("metaflow"), _MetaflowModule):
        return
    real = sys.modules.get("metaflow")
    module = _MetaflowModule("metaflow", "flowc's stand-in for metaflow")
    module.__dict__.update(_names())
    module.__path__ = []  # a package, so `metaflow.x` goes through the finder
    module.__spec__ = importlib.machinery.ModuleSpec("metaflow", None, is_package=True)
    sys.modules["metaflow"] = module
    if real is not None:  # the real metaflow was loaded here: its submodules go too (no scan otherwise)
        for key in [k for k in sys.modules if k.startswith("metaflow.")]:
            del sys.modules[key]
    sys.meta_path.insert(0, _Finder())
