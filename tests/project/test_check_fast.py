"""`flowc compile --check` answers from the manifest and the hashes: an
unchanged project is confirmed without compiling (nor loading the parser or
a target), and a change is still found and compiled again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.project.conftest import make_project

PROBE = """
import sys
from flowc.cli import main
code = main(["compile", "--check"])
loaded = sorted({m.split(".")[0] if not m.startswith("flowc.") else m for m in sys.modules
                 if m.split(".")[0] in ("libcst", "jinja2") or m.startswith("flowc.targets.")})
print(code, loaded, file=sys.stderr)
"""


def _check(project: Path, cache: Path) -> tuple[int, str, str]:
    env = {"PATH": "/usr/bin:/bin", "FLOWC_CACHE_DIR": str(cache), "HOME": str(project)}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=project, env=env,
                            timeout=120)
    *_, last = result.stderr.splitlines()
    return result.returncode, result.stdout, last


def test_an_unchanged_project_is_checked_without_compiling(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    cache = tmp_path / "cache"
    subprocess.run([sys.executable, "-m", "flowc", "compile", "-q"], cwd=project, check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "FLOWC_CACHE_DIR": str(cache), "HOME": str(project)})
    assert _check(project, cache)[2] == "0 []"
    flow = project / "flows" / "foreach_flow.py"
    flow.write_text(flow.read_text().replace("default=5", "default=7"))
    _, out, loaded = _check(project, cache)
    assert loaded.startswith("1 [") and "flowc.targets.airflow" in loaded and "libcst" in loaded
    assert "dags/ForeachFlow.py: stale: flows/foreach_flow.py changed since it was compiled" in out
