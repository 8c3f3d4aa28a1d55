"""Card parity with Metaflow: tests/flows/cards.py run by `metaflow run` and by
`flowc run`; each task's cards hold the same components (their data, not
their HTML: Metaflow draws cards with its own scripts, flowc as static
HTML), and a default card shows the same parameters and artifacts.

Compared without the components' ids (random in Metaflow) and with images
compared as their decoded bytes (Metaflow wraps its base64 text)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.runtime.test_metaflow_parity import metaflow_env

pytestmark = pytest.mark.engine

FLOW = REPO / "tests" / "flows" / "cards.py"
_DATA = re.compile(r'window\.__MF_DATA__\["[^"]+"\] = "([^"]+)"')
_FILE = re.compile(r"^(default|blank)(?:-(.+))?-[0-9a-f]{32}\.html$")


def normal(value):
    """Ids dropped, images as their bytes, tuples as lists."""
    if isinstance(value, dict):
        out = {k: normal(v) for k, v in value.items() if k != "id"}
        if out.get("type") == "image" and isinstance(out.get("src"), str):
            out["src"] = base64.b64decode(out["src"].split(",", 1)[1])
        return out
    if isinstance(value, (list, tuple)):
        return [normal(v) for v in value]
    return value


def metaflow_cards(work: Path) -> dict[tuple[str, str, str | None], list[dict]]:
    """{(step, type, id): [each task's card data]} of a Metaflow run."""
    folder = work / "metaflow"
    folder.mkdir()
    shutil.copy(FLOW, folder / FLOW.name)
    env = metaflow_env(work / "metaflow-root")
    proc = subprocess.run([sys.executable, FLOW.name, "--no-pylint", "run", "--max-workers", "2"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found: dict = {}
    for path in sorted(work.rglob("mf.cards/CardsFlow/runs/*/steps/*/tasks/*/cards/*.html")):
        kind, card_id = _FILE.match(path.name).groups()
        data = json.loads(base64.b64decode(_DATA.search(path.read_text()).group(1)))
        found.setdefault((path.parts[-5], kind, card_id), []).append(data)
    assert found, "Metaflow stored no cards"
    return found


def flowc_cards(work: Path) -> dict[tuple[str, str, str | None], list[dict]]:
    from flowc.runtime import card_store
    from flowc.runtime.datastore import FlowDatastore

    store = work / "flowc-ds"
    proc = subprocess.run([sys.executable, "-m", "flowc", "run", str(FLOW), "--datastore", str(store), "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ds = FlowDatastore(str(store), "CardsFlow")
    (run,) = [r for r in ds.runs() if r.isdigit()]
    found: dict = {}
    for step in ds.steps(run):
        for task in ds.tasks(run, step):
            for ref in card_store.list_cards(ds, run, step, task):
                found.setdefault((step, ref.type, ref.id), []).append(card_store.read_card_data(ds, ref))
    return found


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    work = tmp_path_factory.mktemp("cards-parity")
    return metaflow_cards(work), flowc_cards(work)


def user_components(kind: str, data: dict) -> list:
    """The components the step appended, from Metaflow's card data."""
    if kind == "blank":
        (page,) = data["components"]
        return [c for section in page["contents"] for c in section["contents"]]
    page = next(c for c in data["components"] if c.get("type") == "page")
    untitled = [s for s in page["contents"] if s.get("type") == "section" and not s.get("title")]
    return [c for s in untitled for c in s["contents"]]


def sections(data: dict, title: str) -> dict[str, str]:
    page = next(c for c in data["components"] if c.get("type") == "page")
    (section,) = [s for s in page["contents"] if s.get("title") == title]
    return {a["name"]: a["data"] for c in section["contents"] for a in c["data"]}


def test_the_same_cards_on_the_same_steps(cards):
    metaflow, flowc = cards
    assert {k: len(v) for k, v in flowc.items()} == {k: len(v) for k, v in metaflow.items()}


def test_each_card_holds_the_same_components(cards):
    metaflow, flowc = cards
    for (step, kind, card_id), datas in metaflow.items():
        theirs = sorted((normal(user_components(kind, d)) for d in datas), key=repr)
        ours = sorted((normal(d["components"]) for d in flowc[(step, kind, card_id)]), key=repr)
        assert ours == theirs, (step, kind, card_id)


def test_a_blank_card_has_the_title_its_options_give(cards):
    metaflow, flowc = cards
    (theirs,) = metaflow[("end", "blank", None)]
    (ours,) = flowc[("end", "blank", None)]
    assert theirs["components"][0]["title"] == ours["options"]["title"] == "Total"


def test_a_default_card_shows_the_same_parameters_and_artifacts(cards):
    metaflow, flowc = cards
    for key in [k for k in metaflow if k[1] == "default"]:
        theirs = sorted(((sections(d, "Flow Parameters"), sections(d, "Artifacts")) for d in metaflow[key]), key=repr)
        ours = sorted(((d["parameters"], {a["name"]: a["data"] for a in d["artifacts"]}) for d in flowc[key]),
                      key=repr)
        assert ours == theirs, key


def test_the_card_of_a_step_whose_failure_was_caught_is_stored(cards):
    _, flowc = cards
    (data,) = flowc[("fragile", "blank", None)]
    assert data["status"] == "caught" and normal(data["components"]) == [
        {"type": "markdown", "source": "\nbefore the failure"}]
