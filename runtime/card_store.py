"""Where cards live in the datastore, for the task that writes them and for
every reader (``flowc card``, ``flowc ui``), so both agree on one layout.

    <root>/<Flow>/runs/<run>/<step>/<task>/cards/attempt-<N>/<type>-<id>.html   the card, self-contained
    <root>/<Flow>/runs/<run>/<step>/<task>/cards/attempt-<N>/<type>-<id>.json   its components as data

``<id>`` is the card's ``id=`` or ``_`` for a card without one. A card is
kept per attempt, as Metaflow does, so a retried task shows what each try
rendered; readers take the newest attempt unless told otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .datastore import FlowDatastore

FOLDER = "cards"
NO_ID = "_"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class CardRef:
    """One stored card of one task attempt."""

    run: str
    step: str
    task: str
    attempt: int
    type: str
    id: str | None

    @property
    def stem(self) -> str:
        return card_stem(self.type, self.id)

    @property
    def pathspec(self) -> str:
        return f"{self.run}/{self.step}/{self.task}"


def card_stem(type_: str, id_: str | None) -> str:
    """The file name of a card without its extension; path-safe whatever the
    user named the type or id."""
    return f"{_SAFE.sub('_', type_)}-{_SAFE.sub('_', id_) if id_ else NO_ID}"


def _folder(ds: FlowDatastore, run: str, step: str, task: str, attempt: int | None = None) -> str:
    base = f"{ds.task_key(run, step, task)}/{FOLDER}"
    return base if attempt is None else f"{base}/attempt-{attempt}"


def write_card(ds: FlowDatastore, run: str, step: str, task: str, attempt: int, type_: str, id_: str | None,
               html: str, data: dict[str, Any]) -> CardRef:
    """Store one rendered card and its component data (the data is written
    first: a reader that finds the HTML can read both)."""
    ref = CardRef(run, step, task, attempt, type_, id_)
    folder = _folder(ds, run, step, task, attempt)
    meta = {"type": type_, "id": id_, **data}
    ds._write(f"{folder}/{ref.stem}.json", json.dumps(meta, sort_keys=True, default=str).encode("utf-8"))
    ds._write(f"{folder}/{ref.stem}.html", html.encode("utf-8"))
    return ref


def list_cards(ds: FlowDatastore, run: str, step: str, task: str, attempt: int | None = None) -> list[CardRef]:
    """The cards of a task's newest attempt that has any (or of the attempt
    given), in a stable order."""
    attempts = sorted((int(n[8:]) for n in ds.storage.list(_folder(ds, run, step, task))
                       if n.startswith("attempt-") and n[8:].isdigit()), reverse=True)
    if attempt is not None:
        attempts = [a for a in attempts if a == attempt]
    for a in attempts:
        refs = []
        for name in sorted(ds.storage.list(_folder(ds, run, step, task, a))):
            if not name.endswith(".json"):
                continue
            raw = ds.storage.read(f"{_folder(ds, run, step, task, a)}/{name}")
            if raw is None:
                continue
            try:
                meta = json.loads(raw)
            except ValueError:
                continue
            refs.append(CardRef(run, step, task, a, str(meta.get("type", "")), meta.get("id")))
        if refs:
            return refs
    return []


def read_card_html(ds: FlowDatastore, ref: CardRef) -> str | None:
    raw = ds.storage.read(f"{_folder(ds, ref.run, ref.step, ref.task, ref.attempt)}/{ref.stem}.html")
    return raw.decode("utf-8") if raw is not None else None


def read_card_data(ds: FlowDatastore, ref: CardRef) -> dict[str, Any] | None:
    raw = ds.storage.read(f"{_folder(ds, ref.run, ref.step, ref.task, ref.attempt)}/{ref.stem}.json")
    return json.loads(raw) if raw is not None else None
