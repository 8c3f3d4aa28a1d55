"""Reading the cards a run stored, for tests on every engine: each task's
cards as comparable data, and `flowc card` run as the user runs it."""

from __future__ import annotations

import subprocess
import sys


def _normal(value):
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k != "id"}  # component ids are per process
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def run_cards(datastore: str, flow: str, run: str) -> dict[tuple[str, str, str, str | None], list]:
    """{(step, task, type, id): the card's components} of one run."""
    from flowc.runtime import card_store
    from flowc.runtime.datastore import FlowDatastore

    ds = FlowDatastore(str(datastore), flow)
    out = {}
    for step in ds.steps(run):
        for task in ds.tasks(run, step):
            for ref in card_store.list_cards(ds, run, step, task):
                out[(step, task, ref.type, ref.id)] = _normal(card_store.read_card_data(ds, ref)["components"])
    return out


def flowc_card(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", "card", *args], capture_output=True, text=True, timeout=120)
