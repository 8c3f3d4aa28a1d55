"""``current.card``: the components a step adds to its cards while it runs,
with Metaflow's API (append, extend, clear, ``current.card["id"]``, refresh).

A step may carry several @card decorators; ``current.card.append`` edits the
"default editable" one, chosen as Metaflow does: the card with
``customize=True``, else the only card that takes components, else the only
one of those without an id. Anything else warns once and drops nothing
silently: the warning names the cards there are.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Iterator

from .components import MetaflowCardComponent

EDITABLE_TYPES = ("default", "blank")


def _warn(message: str) -> None:
    sys.stderr.write(f"@card: {message}\n")
    sys.stderr.flush()


class CardContents:
    """The components of one card, in the order added."""

    def __init__(self, spec: dict | None, on_refresh: Callable[["CardContents", bool], None] | None = None):
        self.spec = spec or {}
        self.components: list[MetaflowCardComponent] = []
        self._on_refresh = on_refresh

    @property
    def type(self) -> str:
        return self.spec.get("type") or "default"

    @property
    def id(self) -> str | None:
        return self.spec.get("id")

    def append(self, component: Any, id: str | None = None) -> None:
        if id is not None and isinstance(component, MetaflowCardComponent):
            component.component_id = str(id)
        self.components.append(component)

    def extend(self, components: Any) -> None:
        for c in components:
            self.append(c)

    def clear(self) -> None:
        self.components.clear()

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Render this card now, so that a long task shows its progress."""
        if self._on_refresh is not None:
            self._on_refresh(self, force)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.components)

    def __len__(self) -> int:
        return len(self.components)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self.components[key]
        for c in self.components:
            if getattr(c, "component_id", None) == key:
                return c
        raise KeyError(f"no component with id {key!r} in this card")

    def __setitem__(self, key: str, component: Any) -> None:
        for i, c in enumerate(self.components):
            if getattr(c, "component_id", None) == key:
                component.component_id = key
                self.components[i] = component
                return
        self.append(component, id=key)


class CardCollector:
    """What ``current.card`` is in a task."""

    def __init__(self) -> None:
        self.configure([], None)

    def configure(self, specs: list[dict], on_refresh: Callable[[CardContents, bool], None] | None) -> None:
        self.cards = [CardContents(s, on_refresh) for s in specs]
        self._default = self._choose_default()
        self._warned = False

    def _choose_default(self) -> CardContents | None:
        editable = [c for c in self.cards if c.type in EDITABLE_TYPES]
        chosen = [c for c in editable if c.spec.get("customize")]
        if len(chosen) == 1:
            return chosen[0]
        if len(editable) == 1:
            return editable[0]
        unnamed = [c for c in editable if c.id is None]
        return unnamed[0] if len(unnamed) == 1 else None

    def _target(self) -> CardContents:
        if self._default is not None:
            return self._default
        if not self._warned:
            self._warned = True
            if not self.cards:
                _warn("this step has no @card decorator: components added to current.card are not shown")
            else:
                ids = ", ".join(repr(c.id) for c in self.cards)
                _warn(f"this step has several cards ({ids}) and none is the default one: add to current.card[ID] "
                      "or mark one @card(customize=True)")
        return CardContents(None)  # a card nobody renders

    def append(self, component: Any, id: str | None = None) -> None:
        self._target().append(component, id)

    def extend(self, components: Any) -> None:
        self._target().extend(components)

    def clear(self) -> None:
        self._target().clear()

    def refresh(self, data: Any = None, force: bool = False) -> None:
        for card in self.cards:
            card.refresh(data, force)

    @property
    def components(self) -> CardContents:
        return self._target()

    def __getitem__(self, card_id: str) -> CardContents:
        for c in self.cards:
            if c.id == card_id:
                return c
        _warn(f"no @card with id {card_id!r} on this step (ids: {', '.join(repr(c.id) for c in self.cards) or 'none'})")
        return CardContents(None)

    def __setitem__(self, card_id: str, components: Any) -> None:
        card = self[card_id]
        card.clear()
        card.extend(components if isinstance(components, (list, tuple)) else [components])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())


class Throttle:
    """At most one refresh per interval (Metaflow's refresh_interval), unless forced."""

    def __init__(self, interval: float):
        self.interval = interval
        self.last = 0.0

    def ready(self, force: bool) -> bool:
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            return True
        return False
