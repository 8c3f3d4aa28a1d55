"""Cards in one task: the components' data, the HTML (self-contained, every
user string escaped), current.card's choice of card, failures that never
fail the task, and `flowc card` reading what a run stored."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from flowc.runtime import card_store
from flowc.runtime.cards import Artifact, Error, Image, Markdown, ProgressBar, Table, VegaChart
from flowc.runtime.cards.collector import CardCollector
from flowc.runtime.cards.components import render_component
from flowc.runtime.cards.html import component_html, page
from flowc.runtime.cards.markdown import to_html
from flowc.runtime.datastore import FlowDatastore
from tests.conftest import ALL_FLOWS, REPO, load_ir

DOT = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&{{ }}\u2028'


# ------------------------------------------------------------ components


def test_each_component_renders_metaflows_data():
    heading = render_component(Markdown("  # T\n  body"))  # indented text is dedented; a heading keeps its start
    assert (heading["type"], heading["source"]) == ("markdown", "# T\nbody") and heading["id"].startswith("markdown_")
    md = render_component(Markdown("plain"))
    assert md["type"] == "markdown" and md["source"] == "\nplain"
    table = render_component(Table([[1, Markdown("**b**")]], headers=["n", "x"]))
    assert table["columns"] == ["n", "x"] and table["data"][0][0] == 1 and table["data"][0][1]["type"] == "markdown"
    art = render_component(Artifact({"k": [1, 2]}, name="thing"))["data"][0]
    assert (art["name"], art["type"], art["data"]) == ("thing", "dict", "{'k': [1, 2]}")
    img = render_component(Image(DOT, label="dot"))
    assert img["type"] == "image" and img["src"].startswith("data:image/png;base64, ") and img["label"] == "dot"
    assert render_component(ProgressBar(max=4, value=1, label="l", unit="u", metadata="m")) | {"id": None} == \
        {"type": "progressBar", "id": None, "max": 4, "value": 1, "label": "l", "unit": "u", "details": "m"}
    vega = render_component(VegaChart({"mark": "bar"}))
    assert vega["spec"] == {"mark": "bar", "width": "container"} and vega["options"] == {"actions": False}
    assert render_component(Error(ValueError("v"), "t")) == {"type": "log", "data": "t\n\nValueError('v')"}


def test_images_from_pil_and_matplotlib_like_objects_and_bad_sources():
    class FakePIL:  # PIL is not installed in the test environment: its duck type
        __module__ = "PIL.Image"

        def save(self, buf, format):
            buf.write(DOT)

    FakePIL.__qualname__ = "Image"
    assert render_component(Image.from_pil_image(FakePIL()))["src"].startswith("data:image/png")

    class FakeFigure:
        __module__ = "matplotlib.figure"

        def savefig(self, buf, format):
            buf.write(DOT)

    assert render_component(Image.from_matplotlib(FakeFigure()))["type"] == "image"
    assert render_component(Image(b"not an image"))["type"] == "log"
    assert render_component(Image(None))["type"] == "log"
    assert render_component(Image(object()))["type"] == "log"


def test_a_dataframe_like_table_shows_its_first_rows_with_the_index():
    class Frame:  # pandas is not installed in the test environment: its duck type
        __module__ = "pandas.core.frame"
        columns = ["a", "b"]

        def __init__(self, rows):
            self.rows = rows

        def head(self):
            return Frame(self.rows[:5])

        def astype(self, _):
            return self

        @property
        def index(self):
            class Index:
                def __init__(self, n):
                    self.n = n

                def tolist(self):
                    return list(range(self.n))
            return Index(len(self.rows))

        @property
        def values(self):
            rows = self.rows

            class Values:
                def tolist(self):
                    return [list(r) for r in rows]
            return Values()

    Frame.__qualname__ = "DataFrame"
    table = render_component(Table.from_dataframe(Frame([(i, str(i)) for i in range(8)])))
    assert table["columns"] == ["", "a", "b"] and len(table["data"]) == 5 and table["data"][2] == [2, 2, "2"]
    assert render_component(Table.from_dataframe([1]))["columns"] == ["Object type list not supported"]


def test_a_component_that_fails_to_render_becomes_a_log_line():
    class Broken(Markdown):
        def render(self):
            raise RuntimeError("no")

    out = render_component(Broken("x"))
    assert out["type"] == "log" and "Broken" in out["data"] and "RuntimeError: no" in out["data"]
    assert render_component(42)["type"] == "log"


# ------------------------------------------------------------ HTML


@pytest.mark.parametrize("component", [
    Markdown(HOSTILE), Table([[HOSTILE]], headers=[HOSTILE]), Artifact(HOSTILE, name=HOSTILE),
    Image(DOT, label=HOSTILE), ProgressBar(label=HOSTILE, metadata=HOSTILE), VegaChart({"title": HOSTILE}),
    Error(ValueError(HOSTILE), HOSTILE),
])
def test_user_strings_are_escaped_everywhere(component):
    html = page(HOSTILE, HOSTILE, [component_html(render_component(component))])
    assert "<script>" not in html and "<img src=x" not in html and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", "")


def test_markdown_links_keep_only_safe_addresses_and_fetch_nothing():
    html = to_html("[a](javascript:alert(1)) [b](https://example.org/x) ![i](https://example.org/i.png) `<b>` **s**")
    assert "javascript:" not in html and 'href="https://example.org/x"' in html
    assert "<img" not in html and "&lt;b&gt;" in html and "<strong>s</strong>" in html
    assert to_html("# T\n- a\n- b\n\n```\n<x>\n```") == \
        "<h1>T</h1>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<pre><code>&lt;x&gt;</code></pre>"


def test_a_card_page_fetches_nothing_and_forbids_scripts():
    html = page("t", "s", [component_html(render_component(c)) for c in (Image(DOT), Markdown("[x](https://a.b)"))])
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace('href="https://a.b"', ""))
    assert "default-src 'none'" in html and "<script" not in html


def test_an_image_source_that_is_not_an_embedded_image_is_not_shown():
    html = component_html({"type": "image", "src": "https://example.org/track.png"})
    assert "example.org" not in html


# ------------------------------------------------------------ current.card


def specs(*cards):
    return [dict(c) for c in cards]


def test_the_default_editable_card_is_chosen_as_metaflow_chooses():
    c = CardCollector()
    c.configure(specs({"type": None, "id": None}), None)
    c.append(Markdown("x"))
    assert len(c.cards[0]) == 1
    c.configure(specs({"type": "blank", "id": "a"}, {"type": None, "id": None}), None)
    c.append(Markdown("x"))
    assert (len(c["a"]), len(c.cards[1])) == (0, 1)
    c.configure(specs({"type": "blank", "id": "a"}, {"type": None, "id": "b", "customize": True}), None)
    c.append(Markdown("x"), id="m")
    assert len(c["b"]) == 1 and c["b"]["m"] is c["b"][0]


def test_with_no_default_card_appending_warns_once_and_keeps_the_named_cards(capsys):
    c = CardCollector()
    c.configure(specs({"type": "blank", "id": "a"}, {"type": "blank", "id": "b"}), None)
    c.append(Markdown("x"))
    c.append(Markdown("y"))
    err = capsys.readouterr().err
    assert err.count("none is the default one") == 1 and "'a', 'b'" in err
    assert len(c["a"]) == len(c["b"]) == 0
    c["a"] = [Markdown("z")]
    assert len(c["a"]) == 1
    c["nope"].append(Markdown("lost"))
    assert "no @card with id 'nope'" in capsys.readouterr().err


# ------------------------------------------------------------ in a run


FLOW = '''
from flowc import FlowSpec, card, current, step
from flowc.cards import Markdown, ProgressBar


class SlowCard(Markdown):
    def render(self):
        import time
        time.sleep(30)


class CardRunFlow(FlowSpec):
    @card(timeout=1)
    @step
    def start(self):
        current.card.append(SlowCard("never"))
        self.next(self.middle)

    @card(save_errors=False, timeout=1)
    @step
    def middle(self):
        current.card.append(SlowCard("never"))
        self.next(self.live)

    @card(type="blank", refresh_interval=1)
    @step
    def live(self):
        bar = ProgressBar(max=2, value=1)
        current.card.append(bar)
        current.card.refresh()
        from flowc.runtime import card_store
        from flowc.runtime.datastore import FlowDatastore
        ds = FlowDatastore(current.datastore, current.flow_name)
        (ref,) = card_store.list_cards(ds, current.run_id, "live", current.task_id)
        self.seen_running = card_store.read_card_data(ds, ref)["status"]
        bar.update(2)
        self.next(self.boom)

    @card
    @step
    def boom(self):
        current.card.append(Markdown("before"))
        raise ValueError("the step fails")
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.fixture(scope="module")
def card_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("card-run")
    (folder / "flow.py").write_text(FLOW)
    store = folder / "ds"
    proc = subprocess.run([sys.executable, "-m", "flowc", "run", "flow.py", "--datastore", str(store), "--quiet"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    return folder, store, proc


def test_cards_never_fail_their_task_and_time_out_into_an_error_card(card_run):
    folder, store, proc = card_run
    assert proc.returncode == 1 and "the step fails" in proc.stderr  # the step, not a card, failed the run
    ds = FlowDatastore(str(store), "CardRunFlow")
    (ref,) = card_store.list_cards(ds, "1", "start", "0")
    data = card_store.read_card_data(ds, ref)
    assert "timeout of 1 s" in data["error"] and "longer than its timeout" in card_store.read_card_html(ds, ref)
    assert card_store.list_cards(ds, "1", "middle", "0") == []  # save_errors=False: nothing stored
    assert ds.read_done("1", "middle", "0") is not None


def test_refresh_stores_the_card_while_the_task_runs(card_run):
    folder, store, proc = card_run
    ds = FlowDatastore(str(store), "CardRunFlow")
    import pickle

    meta = ds.read_done("1", "live", "0")
    assert pickle.loads(ds.get_blob(meta["artifacts"]["seen_running"])) == "running"
    (ref,) = card_store.list_cards(ds, "1", "live", "0")
    final = card_store.read_card_data(ds, ref)
    assert final["status"] == "succeeded" and final["components"][0]["value"] == 2


def test_a_failed_step_stores_its_card_for_that_attempt(card_run):
    folder, store, proc = card_run
    ds = FlowDatastore(str(store), "CardRunFlow")
    (ref,) = card_store.list_cards(ds, "1", "boom", "0")
    data = card_store.read_card_data(ds, ref)
    assert data["status"] == "failed" and data["components"][0]["source"] == "\nbefore"


def flowc_card(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flowc", "card", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_flowc_card_lists_gets_and_views(card_run, tmp_path):
    folder, store, _ = card_run
    listed = flowc_card("list", "CardRunFlow/1/boom/0", "--datastore", str(store), cwd=folder)
    assert listed.returncode == 0 and "CardRunFlow/1/boom/0  default  -   0" in listed.stdout
    got = flowc_card("get", "CardRunFlow/1/boom", "--datastore", str(store), cwd=folder)
    assert got.returncode == 0 and got.stdout.startswith("<!DOCTYPE html>") and "before" in got.stdout
    out = tmp_path / "card.html"
    viewed = flowc_card("view", "1/boom/0", "--datastore", str(store), "-o", str(out), cwd=folder)
    assert viewed.returncode == 0 and viewed.stdout.strip() == str(out) and out.read_text() == got.stdout


@pytest.mark.parametrize("args, message", [
    (["get", "CardRunFlow/9/boom"], "no run CardRunFlow/9"),
    (["get", "CardRunFlow/1/nope"], "nope"),
    (["get", "CardRunFlow/1/middle"], "has no card"),
    (["get", "CardRunFlow/1/end"], "has no step 'end'"),
    (["get", "CardRunFlow/1"], "name a step"),
    (["get", "CardRunFlow/1/boom", "--id", "x"], "has no card with id 'x'"),
])
def test_flowc_card_mistakes_are_one_line_and_exit_2(card_run, args, message):
    folder, store, _ = card_run
    proc = flowc_card(*args, "--datastore", str(store), cwd=folder)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------ the DAG picture


@pytest.mark.parametrize("path", ALL_FLOWS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_graph_svg_draws_every_step_of_every_flow(path):
    from flowc.compiler import draw

    flow = load_ir(path)
    svg = draw.svg(flow)
    root = ET.fromstring(svg.split("\n", 1)[1])
    drawn = {g.get("data-step") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert drawn == {s.name for s in flow.steps}
    assert svg == draw.svg(flow)  # the same bytes every time


def test_graph_svg_from_the_command_line(tmp_path):
    out = tmp_path / "dag.svg"
    proc = subprocess.run([sys.executable, "-m", "flowc", "graph", str(REPO / "tests/flows/switch.py"),
                           "--format", "svg", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("<?xml") and 'class="node switch' in text and "<polygon" in text
