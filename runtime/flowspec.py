"""FlowSpec: the base class of every flow, with Metaflow's semantics.

Inside a task the task executor (runtime/task.py) attaches a context that
holds the inherited artifacts (loaded lazily, on first read), the foreach
frames and the step's IR. Assignments to ``self`` are artifacts; at the end
of the task every attribute set or read is stored again (an unchanged value
hashes to the same content, so it costs nothing), and every other inherited
artifact passes down by reference.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any, Iterator

from .parameters import Parameter

# Attributes that are part of the API, never artifacts.
API_NAMES = frozenset({"next", "merge_artifacts", "input", "index", "foreach_stack", "name", "script_name"})
# Of those, the ones Metaflow lets a step assign: the value lives in this task only, never stored
# (compiler/artifacts.py warns with FC207).
NOT_KEPT = frozenset({"name", "foreach_stack", "merge_artifacts", "cmd"})


class FlowSpecError(Exception):
    """A mistake in how a step uses the FlowSpec API, found at run time."""


class FlowSpec:
    _flowc_ctx = None  # set on instances by the task executor

    def __init__(self, use_cli: bool = True):
        if use_cli:  # `python flow.py run ...`, as with Metaflow
            from .script import main_for_script

            main_for_script(type(self))

    # ------------------------------------------------------------ artifacts

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_flowc_"):
            object.__setattr__(self, name, value)
            return
        ctx = self._flowc_ctx
        if ctx is not None and ctx.readonly:
            raise FlowSpecError(f"the inputs of a join are read-only: cannot set '{name}'")
        cls_attr = getattr(type(self), name, None)
        if isinstance(cls_attr, Parameter):
            raise AttributeError(f"parameter '{cls_attr.name}' is read-only; store a changed value under another name")
        if name in NOT_KEPT:
            self.__dict__[name] = value  # task.py does not store it
            return
        if name in ("input", "index", "script_name"):  # read-only properties, as in Metaflow
            raise AttributeError(f"self.{name} is part of the FlowSpec API and cannot be assigned")
        if name in API_NAMES:
            raise FlowSpecError(f"self.{name} is part of the FlowSpec API and cannot be assigned")
        self.__dict__[name] = value

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: an inherited artifact, loaded once.
        if name.startswith("__") or name.startswith("_flowc_"):
            raise AttributeError(name)
        ctx = self.__dict__.get("_flowc_ctx")
        if ctx is not None and ctx.has(name):
            value = ctx.load(name)
            self.__dict__[name] = value
            return value
        raise AttributeError(f"flow {type(self).__name__} has no attribute '{name}'")

    def _flowc_artifact(self, name: str) -> Any:
        """How a Parameter descriptor reads its value."""
        if name in self.__dict__:
            return self.__dict__[name]
        return self.__getattr__(name)

    # ------------------------------------------------------------ foreach

    @property
    def index(self) -> int | None:
        ctx = self._flowc_ctx
        return ctx.frames[-1].index if ctx is not None and ctx.frames else None

    @property
    def input(self) -> Any:
        ctx = self._flowc_ctx
        return ctx.foreach_value(len(ctx.frames) - 1, self.__dict__) if ctx is not None and ctx.frames else None

    def foreach_stack(self) -> list[tuple[int, int, Any]] | None:
        """[(index, number of splits, value)] for each enclosing foreach, outermost first."""
        ctx = self._flowc_ctx
        if ctx is None:
            return None
        return [(f.index, f.count, ctx.foreach_value(i, self.__dict__)) for i, f in enumerate(ctx.frames)]

    # ------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return self.__dict__.get("name") or type(self).__name__

    @property
    def script_name(self) -> str:
        module = sys.modules.get(type(self).__module__)
        path = getattr(module, "__file__", None) or ""
        return path.replace("\\", "/").rsplit("/", 1)[-1]

    # ------------------------------------------------------------ transitions

    def next(self, *dsts: Any, foreach: str | None = None, condition: str | None = None) -> None:
        ctx = self._flowc_ctx
        if ctx is None:
            raise FlowSpecError("self.next() is only meaningful inside a running step")
        ctx.transition(self, dsts, foreach, condition)

    # ------------------------------------------------------------ joins

    def merge_artifacts(self, inputs: "Inputs", exclude: list[str] | None = None,
                        include: list[str] | None = None) -> None:
        """Metaflow's rules: take every artifact not set in this step whose value is
        the same on all inputs; a differing one is an error unless set first."""
        ctx = self._flowc_ctx
        if ctx is None or not ctx.is_join:
            raise FlowSpecError(f"merge_artifacts can only be called in a join step")
        include = list(include or [])
        exclude = list(exclude or [])
        if include and exclude:
            raise FlowSpecError("`exclude` and `include` are mutually exclusive in merge_artifacts")
        to_merge: dict[str, str] = {}  # artifact -> its content hash
        unresolved: list[str] = []
        for inp in inputs:
            ictx = inp._flowc_ctx
            for var, sha in ictx.artifact_hashes().items():
                if include and var not in include:
                    continue
                if var in exclude or var in self.__dict__ or ctx.is_parameter(var):
                    continue
                if to_merge.setdefault(var, sha) != sha and var not in unresolved:
                    unresolved.append(var)
        missing = [v for v in include if v not in to_merge and v not in self.__dict__]
        if unresolved:
            raise FlowSpecError(
                f"step {ctx.step_name} cannot merge the following artifacts due to them having conflicting "
                f"values:\n[{', '.join(unresolved)}].\nTo remedy this issue, be sure to explicitly set those "
                "artifacts (using self.<artifact_name> = ...) prior to calling merge_artifacts.")
        if missing:
            raise FlowSpecError(
                f"step {ctx.step_name} specifies that [{', '.join(include)}] should be merged but "
                f"[{', '.join(missing)}] are not present")
        for var, sha in to_merge.items():
            ctx.adopt(var, sha)


class Inputs:
    """A join's inputs: iterable, indexable, and by branch name for a static branch."""

    def __init__(self, flows: list[FlowSpec]):
        self._flows = list(flows)

    def __getattr__(self, name: str) -> FlowSpec:
        if name.startswith("_"):
            raise AttributeError(name)
        for f in self._flows:
            if f._flowc_ctx.step_name == name:
                return f
        names = ", ".join(sorted({f._flowc_ctx.step_name for f in self._flows}))
        raise AttributeError(f"the join's inputs have no branch '{name}' (they come from: {names})")

    def __getitem__(self, index: int) -> FlowSpec:
        return self._flows[index]

    def __iter__(self) -> Iterator[FlowSpec]:
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)
