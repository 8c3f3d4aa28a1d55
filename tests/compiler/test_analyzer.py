"""The analyzer's reading of flows: inheritance, mixins, helper methods,
module constants, literal-only decorator arguments."""

from __future__ import annotations

import textwrap

from flowc.compiler import analyze_source, ir


def analyze(src: str):
    return analyze_source(textwrap.dedent(src), "flow.py")


def codes(analysis) -> list[str]:
    return sorted(d.code for d in analysis.diagnostics)


def test_subclass_of_a_flow_and_a_mixin_in_the_same_module() -> None:
    a = analyze('''
        from flowc import FlowSpec, Parameter, step

        class Shared:
            """A mixin: steps and parameters flows can reuse."""
            size = Parameter("size", default=3)

            @step
            def prepare(self):
                self.data = list(range(self.size))
                self.next(self.end)

        class Base(FlowSpec):
            @step
            def end(self):
                print(self.data)

        class Child(Shared, Base):
            @step
            def start(self):
                self.next(self.prepare)
    ''')
    assert a.ok, codes(a)
    (flow,) = a.flows
    assert flow.name == "Child"
    assert [s.name for s in flow.steps] == ["prepare", "end", "start"]
    assert flow.order == ("start", "prepare", "end")
    assert [p.name for p in flow.parameters] == ["size"]


def test_a_subclass_overrides_a_step() -> None:
    a = analyze('''
        from flowc import FlowSpec, step

        class Base(FlowSpec):
            @step
            def start(self):
                self.x = 1
                self.next(self.end)

            @step
            def end(self):
                pass

        class Override(Base):
            @step
            def start(self):
                self.y = 2
                self.next(self.end)
    ''')
    (flow,) = a.flows
    assert flow.name == "Override" and flow.step("start").writes == ("y",)


def test_helper_methods_count_for_the_calling_step() -> None:
    a = analyze('''
        from flowc import FlowSpec, step

        class Helpers(FlowSpec):
            def load(self):
                self.rows = [1, 2]
                self.tidy()

            def tidy(self):
                self.clean = [r for r in self.rows]

            @step
            def start(self):
                self.load()
                self.next(self.end)

            @step
            def end(self):
                print(self.clean)
    ''')
    assert a.ok, codes(a)
    assert a.flows[0].step("start").writes == ("clean", "rows")


def test_module_constants_fold_and_calls_do_not() -> None:
    a = analyze('''
        import os
        from flowc import FlowSpec, resources, retry, step

        GB = 1024
        MEM = 16 * GB
        TIMES = int("3")

        class Constants(FlowSpec):
            @resources(memory=MEM, cpu=0.5)
            @retry(times=TIMES)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    assert codes(a) == ["FC401"]
    d = a.diagnostics[0]
    assert "TIMES" in d.message or "times" in d.message
    flow = a.flows[0]
    assert flow.step("start").decorators.resources.memory == 16384


def test_a_name_bound_twice_is_not_a_constant() -> None:
    a = analyze('''
        from flowc import FlowSpec, retry, step

        N = 1
        N = 2

        class Twice(FlowSpec):
            @retry(times=N)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    assert codes(a) == ["FC401"] and "not bound to one literal" in a.diagnostics[0].message


def test_aliased_and_module_imports() -> None:
    a = analyze('''
        import metaflow as mf
        from flowc import step as flow_step

        class Aliased(mf.FlowSpec):
            @mf.retry(times=1)
            @flow_step
            def start(self):
                self.next(self.end)

            @flow_step
            def end(self):
                pass
    ''')
    assert a.ok, codes(a)
    assert a.flows[0].step("start").decorators.retry.times == 1


def test_getattr_and_setattr_with_literal_names() -> None:
    a = analyze('''
        from flowc import FlowSpec, step

        class Attrs(FlowSpec):
            @step
            def start(self):
                setattr(self, "x", 1)
                self.next(self.end)

            @step
            def end(self):
                print(getattr(self, "x"))
    ''')
    assert a.ok, codes(a)
    assert a.flows[0].step("start").writes == ("x",) and a.flows[0].step("end").reads == ("x",)


def test_class_attributes_and_methods_are_not_artifacts() -> None:
    a = analyze('''
        from flowc import FlowSpec, step

        class Members(FlowSpec):
            LIMIT = 10

            def helper(self):
                return self.LIMIT

            @step
            def start(self):
                self.value = self.helper() + self.LIMIT
                print(self.name, self.index)
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    assert a.ok, codes(a)
    assert a.flows[0].step("start").reads == ()


def test_schedule_shorthands_become_cron_lines() -> None:
    for arg, cron in (("hourly=True", "0 * * * *"), ("daily=True", "0 0 * * *"), ("weekly=True", "0 0 * * 0"),
                      ("", "0 0 * * *")):
        a = analyze(f'''
            from flowc import FlowSpec, schedule, step

            @schedule({arg})
            class Sched(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
        ''')
        assert a.ok, codes(a)
        assert a.flows[0].decorators.schedule.cron == cron


def test_conda_libraries_alias_and_base_decorators() -> None:
    a = analyze('''
        from metaflow import FlowSpec, conda, conda_base, step

        @conda_base(python="3.10", packages={"numpy": "1.26.4"})
        class Conda(FlowSpec):
            @conda(libraries={"scikit-learn": "0.21.1"})
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    assert a.ok, codes(a)
    flow = a.flows[0]
    assert flow.decorators.conda_base.packages == {"numpy": "1.26.4"}
    assert flow.step("start").decorators.conda.packages == {"scikit-learn": "0.21.1"}


def test_step_kinds() -> None:
    a = analyze('''
        from flowc import FlowSpec, step

        class Kinds(FlowSpec):
            @step
            def start(self):
                self.items = [1]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, results):
                self.n = len(results)
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    kinds = {s.name: s.kind for s in a.flows[0].steps}
    assert kinds == {"start": ir.FOREACH, "body": ir.LINEAR, "join": ir.JOIN, "end": ir.END}
    assert a.flows[0].step("join").join_arg == "results"
