"""`flowc check` loads only the compiler: never jinja2, hera, yaml or a target."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import sys
from flowc.cli import main
code = main(["check", "-q", "examples"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jinja2", "hera", "yaml", "fsspec", "pydantic")
               or m.startswith("flowc.targets."))
print(code, heavy)
"""


def test_check_never_loads_a_target_or_template_engine() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []", result.stdout


def test_importing_the_runtime_loads_no_compiler() -> None:
    probe = ("import sys, flowc.runtime, flowc.runtime.task, flowc\n"
             "bad = sorted(m for m in sys.modules if m.startswith(('flowc.compiler', 'flowc.targets', 'libcst', "
             "'jinja2', 'hera', 'yaml')))\nprint(bad)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
