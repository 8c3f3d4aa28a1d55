"""``current``: what a step knows about the task it runs in."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any


class Current:
    """Filled by the task executor before user code runs; Metaflow's names."""

    _FIELDS = ("flow_name", "run_id", "step_name", "task_id", "retry_count", "origin_run_id",
               "parameter_names", "is_running_flow", "username", "namespace", "tags", "datastore", "card")

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.__dict__.update({f: None for f in self._FIELDS})
        self.is_running_flow = False
        self.parameter_names = []
        self.tags = []
        self.retry_count = 0

    def _update(self, **values: Any) -> None:
        for key, value in values.items():
            if key not in self._FIELDS:
                raise AttributeError(key)
            self.__dict__[key] = value

    @property
    def card(self) -> Any:
        """The step's cards (runtime/cards/collector.py): made on first use, so
        that a task whose step has no @card pays nothing for them."""
        if self.__dict__.get("card") is None:
            from .cards.collector import CardCollector

            self.__dict__["card"] = CardCollector()
        return self.__dict__["card"]

    @property
    def trigger(self) -> Any:
        """The events that started this run (runtime/trigger.py), or None: read on
        first use, so that a run nobody triggered pays nothing for it."""
        if not self.is_running_flow or not self.datastore:
            return None
        key = (self.datastore, self.flow_name, self.run_id)
        cached = self.__dict__.get("_trigger")
        if cached is None or cached[0] != key:
            from .trigger import load

            cached = self.__dict__["_trigger"] = (key, load(self.datastore, self.flow_name, self.run_id))
        return cached[1]

    @property
    def pathspec(self) -> str | None:
        if not self.is_running_flow:
            return None
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not in a task)'}>"


current = Current()
