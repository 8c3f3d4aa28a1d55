"""The dataflow check never rejects a flow Metaflow runs (compiler/artifacts.py,
compiler/checks.py). Each case below was run under Metaflow 2.19: where
Metaflow runs the flow, flowc says at most a warning; where Metaflow fails,
flowc keeps the error. tests/flows/metaflow_compat/bases_guarded_reads.py
runs the accepted cases under both, side by side."""

from __future__ import annotations

import textwrap

import pytest

from flowc.compiler import analyze_source


END = "\n    @step\n    def end(self):\n        pass\n"


def found(body: str, extra_steps: str = "", class_attrs: str = "") -> list[tuple[str, str, int]]:
    """(code, severity, line within `body`) of each dataflow diagnostic of a
    flow start -> middle -> end whose `middle` step is `body`."""
    head = textwrap.dedent(f'''\
        from flowc import FlowSpec, Parameter, step


        class F(FlowSpec):
            alpha = Parameter("alpha", default=1)
        {textwrap.indent(textwrap.dedent(class_attrs), "    ")}
            @step
            def start(self):
                self.seed = 1
                self.next(self.middle)

            @step
            def middle(self):
        ''')
    first = head.count("\n") + 1
    text = head + textwrap.indent(textwrap.dedent(body), "        ") + END + textwrap.indent(textwrap.dedent(extra_steps), "    ")
    analysis = analyze_source(text, "flow.py")
    assert not [d for d in analysis.diagnostics if d.code.startswith("FC1")], "the test flow itself is broken"
    return [(d.code, d.severity, d.span.line - first + 1) for d in analysis.diagnostics if d.code[2] == "2"]


# ---------------------------------------------------------------- FC201: reads no step sets


def test_an_unguarded_read_of_a_missing_artifact_is_an_error() -> None:
    assert found("print(self.missing)\nself.next(self.end)\n") == [("FC201", "error", 1)]


@pytest.mark.parametrize("guard", [
    "if hasattr(self, 'missing'):\n    print(self.missing)\n",
    "print(self.missing if hasattr(self, 'missing') else 0)\n",
    "try:\n    print(self.missing)\nexcept AttributeError:\n    pass\n",
    "try:\n    print(self.missing)\nexcept (KeyError, AttributeError):\n    pass\n",
    "try:\n    print(self.missing)\nexcept Exception:\n    pass\n",
    "try:\n    print(self.missing)\nexcept:\n    pass\n",
    "try:\n    print(getattr(self, 'missing'))\nexcept AttributeError:\n    pass\n",
])
def test_a_guarded_read_of_a_missing_artifact_is_a_warning(guard: str) -> None:
    got = found(guard + "self.next(self.end)\n")
    assert [(c, s) for c, s, _ in got] == [("FC201", "warning")]


def test_getattr_with_a_default_is_not_a_read() -> None:
    assert found("self.x = getattr(self, 'missing', None)\nself.next(self.end)\n") == []


def test_a_try_that_catches_something_else_does_not_guard() -> None:
    got = found("try:\n    print(self.missing)\nexcept KeyError:\n    pass\nself.next(self.end)\n")
    assert got == [("FC201", "error", 2)]


def test_one_unguarded_read_beside_a_guarded_one_is_still_an_error() -> None:
    body = "try:\n    print(self.missing)\nexcept AttributeError:\n    pass\nprint(self.missing)\nself.next(self.end)\n"
    assert [(c, s) for c, s, _ in found(body)] == [("FC201", "error")]


def test_artifacts_set_through_self_dict_make_the_step_opaque() -> None:
    got = found("self.__dict__.update({'x': 1})\nprint(self.x)\nself.next(self.end)\n")
    assert [(c, s) for c, s, _ in got] == [("FC208", "warning")]


# ---------------------------------------------------------------- FC202, FC203: class attributes


def test_a_class_attribute_may_be_the_foreach_and_the_switch_value() -> None:
    flow = textwrap.dedent('''\
        from flowc import FlowSpec, step


        class F(FlowSpec):
            items = [1, 2]
            mode = "a"

            @step
            def start(self):
                self.next({"a": self.a, "b": self.b}, condition="mode")

            @step
            def a(self):
                self.next(self.fan)

            @step
            def b(self):
                self.next(self.fan)

            @step
            def fan(self):
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.v = self.input
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        ''')
    assert analyze_source(flow, "flow.py").diagnostics == ()
    broken = flow.replace('items = [1, 2]', 'other = [1, 2]').replace('mode = "a"', 'other_mode = "a"')
    assert sorted(d.code for d in analyze_source(broken, "flow.py").diagnostics if d.is_error) == ["FC202", "FC203"]


# ---------------------------------------------------------------- FC204: joins


def join_flow(join_body: str) -> list[tuple[str, str]]:
    text = textwrap.dedent('''\
        from flowc import FlowSpec, step


        class F(FlowSpec):
            @step
            def start(self):
                self.shared = 1
                self.next(self.a, self.b)

            @step
            def a(self):
                self.score = 1
                self.only_a = 1
                self.next(self.join)

            @step
            def b(self):
                self.score = 2
                self.next(self.join)

            @step
            def join(self, inputs):
        ''') + textwrap.indent(textwrap.dedent(join_body), "        ") + END
    assert not [d for d in analyze_source(text, "flow.py").diagnostics if d.code.startswith("FC1")]
    return sorted((d.code, d.severity) for d in analyze_source(text, "flow.py").diagnostics if d.code[2] == "2")


def test_a_join_reading_an_unmerged_artifact_is_an_error_unless_guarded() -> None:
    assert join_flow("print(self.shared)\nself.next(self.end)\n") == [("FC204", "error")]
    guarded = "try:\n    print(self.shared)\nexcept AttributeError:\n    pass\nself.next(self.end)\n"
    assert join_flow(guarded) == [("FC204", "warning")]
    assert join_flow("if hasattr(self, 'shared'):\n    print(self.shared)\nself.next(self.end)\n") == [("FC204", "warning")]


def test_merge_artifacts_with_exclude_and_include() -> None:
    # exclude: everything else is merged; the excluded one is set by the join itself
    body = "self.score = max(i.score for i in inputs)\nself.merge_artifacts(inputs, exclude=['score'])\n" \
           "print(self.shared, self.only_a, self.score)\nself.next(self.end)\n"
    assert join_flow(body) == []
    # include: only those are merged (Metaflow fails on reading another)
    body = "self.merge_artifacts(inputs, include=['shared'])\nprint(self.shared)\nself.next(self.end)\n"
    assert join_flow(body) == []
    body = "self.merge_artifacts(inputs, include=['shared'])\nprint(self.only_a)\nself.next(self.end)\n"
    assert join_flow(body) == [("FC204", "error")]
    # an excluded artifact read behind a guard
    body = "self.merge_artifacts(inputs, exclude=['score'])\ntry:\n    print(self.score)\nexcept AttributeError:\n" \
           "    pass\nself.next(self.end)\n"
    assert join_flow(body) == [("FC204", "warning")]


def test_a_possible_merge_conflict_is_only_a_warning() -> None:
    body = "self.merge_artifacts(inputs)\nself.next(self.end)\n"
    assert join_flow(body) == [("FC205", "warning")]


# ---------------------------------------------------------------- FC206, FC207: assignments


def test_assigning_a_parameter_is_an_error_unless_the_step_catches_it() -> None:
    assert found("self.alpha = 2\nself.next(self.end)\n") == [("FC206", "error", 1)]
    body = "try:\n    self.alpha = 2\nexcept AttributeError:\n    pass\nself.next(self.end)\n"
    assert found(body) == [("FC206", "warning", 2)]


@pytest.mark.parametrize("name", ["name", "cmd", "foreach_stack", "merge_artifacts"])
def test_api_names_metaflow_lets_a_step_assign_are_a_warning(name: str) -> None:
    assert found(f"self.{name} = 'x'\nself.next(self.end)\n") == [("FC207", "warning", 1)]


@pytest.mark.parametrize("name", ["index", "input", "script_name", "next"])
def test_api_names_metaflow_refuses_are_an_error(name: str) -> None:
    assert found(f"self.{name} = 1\nself.next(self.end)\n") == [("FC207", "error", 1)]


def test_graph_is_an_ordinary_artifact() -> None:
    """Metaflow's FlowSpec has no `graph` attribute: self.graph is an artifact."""
    extra = '''
        @step
        def after(self):
            print(self.graph)
            self.next(self.end)
    '''
    assert found("self.graph = {'a': 1}\nself.next(self.after)\n", extra) == []


# ---------------------------------------------------------------- every dataflow code


def test_no_dataflow_error_in_the_guarded_corpus_flow() -> None:
    from tests.conftest import REPO

    from flowc.compiler import analyze_file

    analysis = analyze_file(REPO / "tests" / "flows" / "metaflow_compat" / "bases_guarded_reads.py")
    assert [d for d in analysis.diagnostics if d.is_error] == []
    assert sorted({d.code for d in analysis.diagnostics}) == ["FC201", "FC204", "FC206", "FC207"]
