"""A read-only view of the IR JSON, as the runtime needs it.

The runtime never imports flowc.compiler: it reads the JSON the compiler
wrote (the IR is a contract; see compiler/ir.py for its definition).
"""

from __future__ import annotations

import json
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any

SCHEMA_VERSION = 5  # the IR's (compiler/ir.py): the JSON this view reads


class PlanError(Exception):
    pass


# Immutable records built from collections.namedtuple: a dataclass or
# typing.NamedTuple would cost the task command milliseconds to import.
_STEP_FIELDS = (
    "name",  # str
    "kind",  # str: start, linear, branch, foreach, switch, join, end
    "next",  # tuple[str, ...]
    "foreach",  # str | None: the foreach variable
    "condition",  # str | None: a switch's attribute
    "cases",  # dict[str, str]
    "join_arg",  # str | None
    "parents",  # tuple[str, ...]
    "parent_groups",  # tuple[tuple[str, ...], ...]
    "foreach_stack",  # tuple[str, ...]
    "matching_join",  # str | None
    "closes",  # str | None
    "decorators",  # dict[str, Any]
    "line",  # int
)


class StepPlan(namedtuple("StepPlan", _STEP_FIELDS)):
    __slots__ = ()

    @property
    def depth(self) -> int:
        return len(self.foreach_stack)

    @property
    def is_join(self) -> bool:
        return self.kind == "join"

    @property
    def is_recursive(self) -> bool:
        return self.kind == "switch" and self.name in self.next

    def deco(self, name: str) -> dict[str, Any] | None:
        return self.decorators.get(name)

    @property
    def retry_times(self) -> int:
        r = self.deco("retry")
        return int(r["times"]) if r else 0

    @property
    def retry_delay_seconds(self) -> float:
        r = self.deco("retry")
        return float(r["minutes_between_retries"]) * 60 if r else 0.0

    @property
    def timeout_seconds(self) -> int | None:
        t = self.deco("timeout")
        return int(t["seconds"]) if t else None

    @property
    def env_vars(self) -> dict[str, str]:
        e = self.deco("environment")
        return dict(e["vars"]) if e else {}


_FLOW_FIELDS = (
    "name", "start", "end",  # str
    "steps",  # dict[str, StepPlan]
    "order",  # tuple[str, ...]
    "parameters",  # tuple[dict[str, Any], ...]
    "source_path", "source_sha",  # str
    "modules",  # tuple[str, ...]
    "raw",  # dict[str, Any]: the IR as read
)


class FlowPlan(namedtuple("FlowPlan", _FLOW_FIELDS)):
    __slots__ = ()

    @classmethod
    def from_json(cls, text: str | bytes) -> "FlowPlan":
        data = json.loads(text)
        if data.get("schema_version") != SCHEMA_VERSION:
            raise PlanError(f"IR schema version {data.get('schema_version')} is not {SCHEMA_VERSION}: "
                            "recompile the flow with this flowc (flowc ir FLOW.py)")
        steps = {}
        for s in data["steps"]:
            decorators = {k: v for k, v in (s.get("decorators") or {}).items() if v is not None}
            steps[s["name"]] = StepPlan(
                name=s["name"], kind=s["kind"], next=tuple(s["next"]), foreach=s.get("foreach"),
                condition=s.get("condition"), cases=dict(s.get("cases") or {}), join_arg=s.get("join_arg"),
                parents=tuple(s.get("parents") or ()),
                parent_groups=tuple(tuple(g) for g in s.get("parent_groups") or ()),
                foreach_stack=tuple(s.get("foreach_stack") or ()), matching_join=s.get("matching_join"),
                closes=s.get("closes"), decorators=decorators, line=s["span"]["line"],
            )
        src = data["source"]
        return cls(name=data["name"], start=data["start"], end=data["end"], steps=steps,
                   order=tuple(data["order"]), parameters=tuple(data["parameters"]),
                   source_path=src["path"], source_sha=src["sha256"], modules=tuple(src.get("modules") or ()),
                   raw=data)

    @classmethod
    def load(cls, path: str) -> "FlowPlan":
        """Read an IR file; remembered per process by path, size and mtime (a
        forked task reuses the plan its parent read)."""
        import os

        st = os.stat(path)
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
        plan = _LOADED.get(key)
        if plan is None:
            with open(path, "rb") as f:
                plan = _LOADED[key] = cls.from_json(f.read())
        return plan

    def step(self, name: str) -> StepPlan:
        try:
            return self.steps[name]
        except KeyError:
            raise PlanError(f"flow {self.name} has no step {name!r}; steps: {', '.join(self.order)}") from None

    def children(self, name: str) -> tuple[str, ...]:
        return self.steps[name].next


_LOADED: dict[tuple, FlowPlan] = {}  # FlowPlan.load's memory
