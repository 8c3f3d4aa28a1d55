"""Flow parameters: declared as class attributes, read as artifacts.

A ``Parameter`` is a descriptor: inside a running task ``self.alpha`` is the
run's value (an artifact every step inherits); assigning it is an error, as
in Metaflow. Types and defaults are applied by the runtime from the IR
(runtime/params.py), the same for every orchestrator.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any


class JSONType:
    """``Parameter(..., type=JSONType)``: the value is parsed as JSON."""

    name = "JSON"

    def __call__(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def __repr__(self) -> str:
        return "JSONType"


JSONType = JSONType()  # noqa: F811  (Metaflow's JSONType is also an instance)


class Parameter:
    def __init__(self, name: str, default: Any = None, type: Any = None, help: str | None = None,
                 required: bool = False, show_default: bool = True, **kwargs: Any):
        self.name = name
        self.default = default
        self.type = type
        self.help = help
        self.required = required
        self.show_default = show_default
        self.kwargs = kwargs
        self.attribute = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        reader = getattr(obj, "_flowc_artifact", None)
        if reader is None:  # a flow object outside a task: the declared default
            return self.default
        return reader(self.attribute)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"parameter '{self.name}' is read-only; store a changed value under another name")

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, default={self.default!r})"
