"""The decorators a flow is written with. At run time they only mark the
function or class: what they mean is read from the IR the compiler wrote,
so a decorator's behaviour lives in one place (the runtime's task executor
and each target), never in these markers."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any, Callable

STEP_ATTR = "_flowc_step"
DECORATORS_ATTR = "_flowc_decorators"


def step(func: Callable | None = None, *, start: bool = False, end: bool = False, node_info: dict | None = None):
    """Mark a method as a step: ``@step``, ``@step(start=True)``, ``@step(end=True)``
    (``node_info=``, metadata for Metaflow's extensions, is kept and not used)."""

    def mark(f: Callable) -> Callable:
        setattr(f, STEP_ATTR, {"start": start, "end": end})
        f.is_step = True  # the attribute Metaflow's own tools look for
        f.node_info = node_info or {}
        return f

    return mark(func) if func is not None else mark


def _marker(name: str):
    def decorator(*args: Any, **kwargs: Any):
        def attach(target: Any) -> Any:
            marks = dict(getattr(target, DECORATORS_ATTR, {}))
            marks[name] = kwargs
            try:
                setattr(target, DECORATORS_ATTR, marks)
            except (AttributeError, TypeError):
                pass
            return target

        if len(args) == 1 and not kwargs and callable(args[0]):
            return attach(args[0])  # bare @retry
        if args:
            raise TypeError(f"@{name} takes keyword arguments only")
        return attach

    decorator.__name__ = name
    decorator.__qualname__ = name
    decorator.__doc__ = f"@{name}: read by flowc's compiler; see the flowc README."
    return decorator


resources = _marker("resources")
retry = _marker("retry")
timeout = _marker("timeout")
catch = _marker("catch")
environment = _marker("environment")
pypi = _marker("pypi")
pypi_base = _marker("pypi_base")
conda = _marker("conda")
conda_base = _marker("conda_base")
secrets = _marker("secrets")
kubernetes = _marker("kubernetes")
batch = _marker("batch")
card = _marker("card")
schedule = _marker("schedule")
project = _marker("project")
trigger = _marker("trigger")
trigger_on_finish = _marker("trigger_on_finish")

__all__ = [
    "step", "resources", "retry", "timeout", "catch", "environment", "pypi", "pypi_base", "conda",
    "conda_base", "secrets", "kubernetes", "batch", "card", "schedule", "project", "trigger",
    "trigger_on_finish",
]
