"""Step.body_run_when (compiler/graph.py ``body_run_conditions``): when a step
runs within one item of its own foreach body, from that body's switches alone,
derived once for every target (Kubeflow's ParallelFor bodies read it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flowc.compiler import ir, load_flow
from tests.conftest import REPO, load_ir


def when(flow: ir.Flow) -> dict[str, tuple]:
    return {s.name: s.body_run_when for s in flow.steps}


def test_a_switch_inside_a_foreach_conditions_its_cases_and_merges_at_convergence():
    flow = load_ir(REPO / "tests" / "flows" / "switch_in_foreach.py")
    assert when(flow) == {
        "start": (), "classify": (), "tag": (), "join": (), "end": (),  # every item runs tag: all cases meet
        "big": ((("classify", "big"),),), "mid": ((("classify", "mid"),),), "small": ((("classify", "small"),),)}
    # run_when stops at the outermost split: the body's steps run whenever the foreach does
    assert all(s.run_when == () for s in flow.steps)


def test_a_switch_and_a_branch_in_one_body():
    flow = load_ir(REPO / "tests" / "flows" / "switch_branch_in_foreach.py")
    assert when(flow) == {
        "start": (), "classify": (), "fork": (), "left": (), "right": (), "meet": (), "decide": (),
        "join": (), "end": (),
        "even": ((("classify", "even"),),), "odd": ((("classify", "odd"),),),
        "big": ((("decide", "big"),),), "small": ((("decide", "small"),),)}


NESTED = '''
from flowc import FlowSpec, step

class NestedRouteFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.pick, foreach="items")

    @step
    def pick(self):
        self.route = "deep" if self.input > 1 else "flat"
        self.next({"deep": self.deep, "flat": self.flat}, condition="route")

    @step
    def deep(self):
        self.cells = [1, 2]
        self.next(self.cell, foreach="cells")

    @step
    def cell(self):
        self.kind = "a" if self.input == 1 else "b"
        self.next({"a": self.a, "b": self.b}, condition="kind")

    @step
    def a(self):
        self.next(self.cell_join)

    @step
    def b(self):
        self.next(self.cell_join)

    @step
    def cell_join(self, inputs):
        self.next(self.merge)

    @step
    def flat(self):
        self.next(self.merge)

    @step
    def merge(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_nested_body_is_its_split_in_the_outer_body_and_has_conditions_of_its_own(tmp_path: Path):
    path = tmp_path / "nested_route.py"
    path.write_text(textwrap.dedent(NESTED))
    flow = load_flow(path)
    got = when(flow)
    assert got["deep"] == ((("pick", "deep"),),) and got["flat"] == ((("pick", "flat"),),)
    assert got["cell"] == ()  # the entry of the nested body: every inner item reaches it
    assert got["a"] == ((("cell", "a"),),) and got["b"] == ((("cell", "b"),),)
    assert got["cell_join"] == ((("pick", "deep"),),)  # after the nested loop, as its split
    assert got["merge"] == () and got["join"] == () and got["end"] == ()
    assert ir.load(ir.dump(flow)) == flow  # the field round-trips through the IR's JSON
