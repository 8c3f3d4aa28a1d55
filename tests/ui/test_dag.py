"""The stand-in DAG picture: every construct drawn distinctly, names escaped."""

from __future__ import annotations

import re

from tests.conftest import REPO, load_ir
from flowc.compiler import ir as ir_mod
from flowc.ui.dag import draw


def ir_of(name: str) -> dict:
    import json

    return json.loads(ir_mod.dump(load_ir(REPO / "tests" / "flows" / name)))


def nodes(svg: str) -> dict[str, tuple[str, str]]:
    return {n: (k, s) for k, s, n in re.findall(r'<g class="node (\w+) (\w+)" data-step="(\w+)"', svg)}


def test_a_switch_is_a_hexagon_with_its_cases_on_the_edges() -> None:
    svg = draw(ir_of("switch.py"), {"start": "done", "medium": "running"})
    assert nodes(svg)["start"] == ("switch", "done") and nodes(svg)["medium"] == ("linear", "running")
    assert nodes(svg)["big"] == ("linear", "pending")
    start = svg.split('data-step="start"', 1)[1].split("</g>", 1)[0]
    assert "<polygon" in start
    for case in ("big", "medium", "small"):
        assert f'class="edge-label"' in svg and f">{case}</text>" in svg


def test_nested_foreach_bodies_are_stacked_and_joins_marked() -> None:
    data = ir_of("nested_foreach.py")
    svg = draw(data, {s["name"]: "failed" for s in data["steps"]})
    for step in data["steps"]:
        kind, state = nodes(svg)[step["name"]]
        assert state == "failed" and kind == step["kind"]
        body = svg.split(f'data-step="{step["name"]}"', 1)[1].split("</g>", 1)[0]
        rects = body.count("<rect")
        if step["kind"] == "join":
            rects -= 1  # the bar where the inputs meet
        assert rects == (3 if step["foreach_stack"] else 1) or step["kind"] == "switch"
    assert svg.count('stroke-dasharray="5,4"') == sum(len(s["next"]) for s in data["steps"] if s["kind"] == "foreach")


def test_a_recursive_switch_loops_back_and_names_are_escaped() -> None:
    data = ir_of("recursive_switch.py")
    svg = draw(data)
    assert all(s["name"] in nodes(svg) for s in data["steps"])
    hostile = {"start": "start", "steps": [{"name": "start", "kind": "linear", "next": ["<b>&x"]},
                                           {"name": "<b>&x", "kind": "end", "next": []}]}
    svg = draw(hostile, {"<b>&x": "done"}, link=lambda s: f"#step-{s}")
    assert "<b>" not in svg and "&lt;b&gt;&amp;x" in svg
