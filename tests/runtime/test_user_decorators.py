"""User step decorators run around their step as Metaflow runs them, and
@retry's delay is for orchestrators only.

The flows are written to a temporary folder with their decorators in a
sibling module, run with `flowc run`, and their artifacts read back. The same
decorators under real Metaflow are compared by the parity test
(tests/flows/metaflow_compat/options_runtime.py); engines run that flow too.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from flowc.compiler.pipeline import analyze_file
from flowc.targets import registry
from tests.support.artifacts import flowc_run, run_artifacts

DECORATORS = '''
from metaflow import USER_SKIP_STEP, UserStepDecorator, user_step_decorator


@user_step_decorator
def trace(step_name, flow, inputs, attributes):
    flow.trace = getattr(flow, "trace", []) + [f"{attributes['tag']} before {step_name}"]
    yield
    flow.trace = flow.trace + [f"{attributes['tag']} after {step_name}"]


@user_step_decorator
def replaced(step_name, flow, inputs):
    def instead(self):
        self.replaced_by = "instead"
        return True  # Metaflow then makes the self.next() call the step would have made
    yield instead


@user_step_decorator
def skipped(step_name, flow, inputs):
    flow.skipped = True
    yield USER_SKIP_STEP


@user_step_decorator
def swallow(step_name, flow, inputs):
    try:
        yield
    except KeyError as exc:
        flow.swallowed = repr(exc)


class Outer(UserStepDecorator):
    def pre_step(self, step_name, flow, inputs=None):
        flow.trace = getattr(flow, "trace", []) + ["class before"]

    def post_step(self, step_name, flow, exception=None):
        flow.trace = flow.trace + ["class after"]
        return (exception, None) if exception else (None, None)
'''

FLOW = '''
from metaflow import FlowSpec, step
from team.decos import Outer, replaced, skipped, swallow, trace


class WrappedFlow(FlowSpec):
    @Outer
    @trace(tag="outer")
    @trace(tag="inner")
    @step
    def start(self):
        self.trace = self.trace + ["body"]
        self.next(self.middle)

    @replaced
    @step
    def middle(self):
        self.replaced_by = "the step itself"
        self.next(self.gone)

    @skipped
    @step
    def gone(self):
        self.never = True
        self.next(self.tolerant)

    @swallow
    @step
    def tolerant(self):
        {}["missing"]
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.trace, self.replaced_by, self.skipped, self.swallowed)
'''


def project(tmp_path: Path, flow: str, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent(flow))
    return path


def test_user_decorators_wrap_the_step_as_in_metaflow(tmp_path):
    path = project(tmp_path, FLOW, {"team/__init__.py": "", "team/decos.py": DECORATORS})
    analysis = analyze_file(path)
    assert analysis.ok, [d.message for d in analysis.diagnostics]
    flow = analysis.flow()
    assert flow.step("start").wrappers == ("Outer", "trace", "trace")
    assert "team/decos.py" in flow.source.modules  # carried in the code package
    flowc_run(path, tmp_path / "ds", "r1")
    end = run_artifacts(str(tmp_path / "ds"), "WrappedFlow", "r1")["end"]["0"]
    trace, replaced_by, skipped, swallowed = end["seen"]
    # outermost first before the step, innermost first after it
    assert trace == ["class before", "outer before start", "inner before start", "body",
                     "inner after start", "outer after start", "class after"]
    assert replaced_by == "instead" and skipped is True and swallowed == "KeyError('missing')"
    assert "never" not in end


def test_decorators_reached_through_their_module(tmp_path):
    flow = """
    import metaflow as mf
    import team.decos as d
    from team import decos


    class ModuleFlow(mf.FlowSpec):
        @d.trace(tag="t")
        @decos.swallow
        @mf.step
        def start(self):
            {}["missing"]
            self.next(self.end)

        @mf.step
        def end(self):
            self.seen = (self.trace, self.swallowed)
    """
    path = project(tmp_path, flow, {"team/__init__.py": "", "team/decos.py": DECORATORS})
    analysis = analyze_file(path)
    assert analysis.ok, [d.message for d in analysis.diagnostics]
    assert analysis.flow().step("start").wrappers == ("d.trace", "decos.swallow")
    flowc_run(path, tmp_path / "ds", "r1")
    end = run_artifacts(str(tmp_path / "ds"), "ModuleFlow", "r1")["end"]["0"]
    assert end["seen"] == (["t before start", "t after start"], "KeyError('missing')")


def test_a_user_decorator_below_step_is_refused(tmp_path):
    flow = FLOW.replace("    @replaced\n    @step\n    def middle", "    @step\n    @replaced\n    def middle")
    path = project(tmp_path, flow, {"team/__init__.py": "", "team/decos.py": DECORATORS})
    errors = [(d.code, d.span.line) for d in analyze_file(path).diagnostics if d.is_error]
    assert errors == [("FC406", 16)]


def test_a_step_mutator_in_a_sibling_module_is_refused(tmp_path):
    mutator = "from metaflow import StepMutator\n\nclass AddRetry(StepMutator):\n    def mutate(self, s):\n" \
              "        s.add_decorator('retry')\n"
    flow = "from metaflow import FlowSpec, step\nfrom helpers import AddRetry\n\nclass M(FlowSpec):\n" \
           "    @AddRetry\n    @step\n    def start(self):\n        pass\n"
    path = project(tmp_path, flow, {"helpers.py": mutator})
    errors = [d for d in analyze_file(path).diagnostics if d.is_error]
    assert [(d.code, d.span.line) for d in errors] == [("FC740", 5)]
    assert "StepMutator" in errors[0].message and errors[0].hint


FLAKY = '''
from metaflow import FlowSpec, current, retry, step


class FlakyFlow(FlowSpec):
    @retry(times=2)
    @step
    def start(self):
        if current.retry_count < 2:
            raise ConnectionError("not yet")
        self.tries = current.retry_count + 1
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_local_retries_do_not_wait(tmp_path):
    """Metaflow's local runtime retries at once, whatever minutes_between_retries
    says (2 by default): a flaky step retried twice takes seconds, not 4 minutes."""
    path = project(tmp_path, FLAKY, {})
    began = time.monotonic()
    flowc_run(path, tmp_path / "ds", "r1")
    took = time.monotonic() - began
    assert run_artifacts(str(tmp_path / "ds"), "FlakyFlow", "r1")["start"]["0"]["tries"] == 3
    assert took < 60, f"flowc run took {took:.0f} s"


@pytest.mark.parametrize("target,expected", [
    ("argo", "duration: 120s"), ("airflow", "retry_delay=timedelta(minutes=2)"),
    ("prefect", "retry_delay_seconds=120"), ("stepfunctions", '"IntervalSeconds": 120'),
])
def test_orchestrators_keep_the_retry_delay(tmp_path, target, expected):
    flow = analyze_file(project(tmp_path, FLAKY, {})).flow()
    files = registry.get(target)({}).compile(flow).files
    text = "\n".join(v.decode() for v in files.values())
    if target == "stepfunctions":
        text = "\n".join(json.dumps(json.loads(v), indent=1) for k, v in files.items() if k.endswith(".json"))
    assert expected in text
