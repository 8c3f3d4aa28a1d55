"""python= in @pypi/@conda (and their _base forms) read like pip specifiers."""

from __future__ import annotations

import sys

import pytest

from flowc.build_context import base_image
from flowc.compiler.environments import image_python, resolve
from flowc.compiler.pipeline import analyze_source
from flowc.runtime import environment as envs
from flowc.runtime.python_spec import allows, pick


def flow(python: str, deco: str = "pypi") -> str:
    return "\n".join([
        f"from metaflow import FlowSpec, step, {deco}", "",
        "class Py(FlowSpec):",
        f"    @{deco}(python={python!r}, packages={{'tabulate': '0.9.0'}})",
        "    @step", "    def start(self):", "        self.next(self.end)", "",
        "    @step", "    def end(self):", "        pass", ""])


@pytest.mark.parametrize("spec,series", [
    ("3.10.*", "3.10"), ("==3.10.*", "3.10"), (">=3.10,<3.11", "3.10"), (">=3.11, <3.13", "3.12"),
    ("~=3.10", "3.15"), ("3.12", "3.12"), ("3.11.4", "3.11.4"), ("!=3.11.*,<3.12", "3.10"), (">=3.8", "3.15"),
])
def test_specifiers_compile_and_pick_a_series(spec, series):
    analysis = analyze_source(flow(spec), "py.py")
    assert not [d for d in analysis.diagnostics if d.is_error], [d.message for d in analysis.diagnostics]
    env = resolve(analysis.flow()).of("start")
    assert env.python == spec
    assert image_python(env.python) == series
    assert base_image(env) == f"python:{'.'.join(series.split('.')[:2])}-slim"


@pytest.mark.parametrize("spec,why", [
    ("<3.9", "older than flowc's runtime supports (3.10+)"),
    ("3.8.*", "older than flowc's runtime supports (3.10+)"),
    ("3.9", "older than flowc's runtime supports (3.10+)"),
    (">=3.99", "allows no CPython 3 release"),
    ("3.99", "does not exist"),
    (">=3.12,<3.11", "allows no CPython 3 release"),
    ("three", "is not a Python version or specifier"),
    (">=3.10,", "is not a Python version or specifier"),
    (">=3.*", "is not a Python version or specifier"),
])
def test_bad_specifiers_are_fc602(spec, why):
    analysis = analyze_source(flow(spec, "conda"), "py.py")
    errors = [d for d in analysis.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["FC602"], [d.message for d in errors]
    assert why in errors[0].message and errors[0].span.line == 4


def test_pip_semantics():
    assert allows(">=3.10,<3.11", (3, 10, 14)) and not allows(">=3.10,<3.11", (3, 11, 0))
    assert allows("3.10.*", (3, 10, 0)) and not allows("3.10.*", (3, 1, 0))
    assert allows("==3.10", (3, 10, 0)) and not allows("==3.10", (3, 10, 2))  # pip pads with zeros
    assert allows("3.10", (3, 10, 2))  # a bare version is its series, as flowc always read it
    assert allows("~=3.10.2", (3, 10, 9)) and not allows("~=3.10.2", (3, 11, 0))
    assert not allows("!=3.11.*", (3, 11, 4))
    assert pick(None, (3, 10), (3, 15)) is None


def test_the_runtime_takes_this_interpreter_when_the_spec_allows_it():
    here = sys.version_info
    spec = f">={here.major}.{here.minor},<{here.major}.{here.minor + 1}"
    assert envs.matches(spec) and envs.find_python(spec) == sys.executable
    assert envs.matches(f"{here.major}.{here.minor}.*")
    assert not envs.matches(f"<{here.major}.{here.minor}")
