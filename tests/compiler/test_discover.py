"""Which files `flowc check` and the pre-commit hook take as flows: those
that define a class deriving from flowc's or metaflow's FlowSpec, not those
that merely mention it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler.discover import flow_files, looks_like_flow

STEPS = '''
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''

FLOWS = {
    "direct": "from flowc import FlowSpec, step\n\n\nclass A(FlowSpec):" + STEPS,
    "metaflow_alias": "from metaflow import FlowSpec as FS, step\n\n\nclass A(FS):" + STEPS,
    "module_attribute": "import metaflow\nfrom metaflow import step\n\n\nclass A(metaflow.FlowSpec):" + STEPS,
    "base_defined_later": ("from flowc import FlowSpec, step\n\n\nclass A(Base):" + STEPS
                           + "\n\nclass Base(FlowSpec):\n    pass\n"),
    "guarded_import": ("try:\n    from metaflow import FlowSpec, step\nexcept ImportError:\n"
                       "    from flowc import FlowSpec, step\n\n\nclass A(FlowSpec):" + STEPS),
    "syntax_error": "from flowc import FlowSpec\n\nclass A(FlowSpec:\n    pass\n",
}

NOT_FLOWS = {
    "docstring": '"""Helpers for FlowSpec subclasses: from flowc import FlowSpec."""\n\n\ndef helper():\n    return 1\n',
    "comment_and_string": ("# class A(FlowSpec): see the docs\nTEXT = 'class A(FlowSpec): pass'\n\n\n"
                           "def f():\n    return TEXT\n"),
    "other_flowspec": "from mylib import FlowSpec\n\n\nclass A(FlowSpec):\n    pass\n",
    "imported_only": "from flowc import FlowSpec\n\nKINDS = [FlowSpec]\n",
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_a_class_deriving_from_flowspec_is_a_flow(tmp_path: Path, name: str) -> None:
    (tmp_path / f"{name}.py").write_text(FLOWS[name])
    assert looks_like_flow(tmp_path / f"{name}.py")


@pytest.mark.parametrize("name", sorted(NOT_FLOWS))
def test_a_mention_of_flowspec_is_not_a_flow(tmp_path: Path, name: str) -> None:
    (tmp_path / f"{name}.py").write_text(NOT_FLOWS[name])
    assert not looks_like_flow(tmp_path / f"{name}.py")


def test_a_base_class_from_a_module_beside_it(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text('"""A base for flows."""\nfrom flowc import FlowSpec\n\n\nclass Base(FlowSpec):\n    pass\n')
    (pkg / "child.py").write_text("from flowc import step\nfrom .base import Base\n\n\nclass Child(Base):" + STEPS)
    (pkg / "sibling.py").write_text("from flowc import step\nfrom base import Base as B\n\n\nclass C(B):" + STEPS)
    (pkg / "uses.py").write_text("from .base import Base\n\n\ndef make():\n    return Base\n")
    assert looks_like_flow(pkg / "child.py") and looks_like_flow(pkg / "sibling.py")
    assert not looks_like_flow(pkg / "uses.py")
    assert [p.name for p in flow_files([str(pkg)])] == ["base.py", "child.py", "sibling.py"]


def _flowc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_check_and_the_hook_skip_a_docstring_mention(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text(NOT_FLOWS["docstring"])
    (tmp_path / "flow.py").write_text("from flowc import FlowSpec, step\n\n\nclass A(FlowSpec):\n"
                                      "    @step\n    def start(self):\n        self.next(self.nowhere)\n")
    check = _flowc("check", ".", cwd=tmp_path)
    assert "checked 1 file, 1 flow" in check.stderr and "notes.py" not in check.stdout + check.stderr, check.stderr
    hook_clean = _flowc("compile", "--lint", "notes.py", cwd=tmp_path)  # what the pre-commit hook runs
    assert hook_clean.returncode == 0 and hook_clean.stdout + hook_clean.stderr == ""
    hook_flow = _flowc("compile", "--lint", "notes.py", "flow.py", cwd=tmp_path)
    assert hook_flow.returncode == 1 and "flow.py:" in hook_flow.stdout + hook_flow.stderr
