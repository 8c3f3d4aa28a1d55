"""An analysis computed in a forked child (compiler/apart.py), as `flowc run`
asks for a flow the cache does not hold: the same result as computed in
process, the cache filled the same way, and a runner that never loads libcst."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compiler.test_cache import DIAGNOSTIC_FLOWS, _entries, _fingerprint
from tests.conftest import ALL_FLOWS, REPO


@pytest.mark.parametrize("path", DIAGNOSTIC_FLOWS + ALL_FLOWS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_apart_gives_what_in_process_gives(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowc.compiler import analyze_file

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("FLOWC_CACHE_DIR", "off")
    here, apart = analyze_file(path), analyze_file(path, apart=True)
    assert _fingerprint(apart) == _fingerprint(here)
    assert (apart.other_sources, apart.cacheable) == (here.other_sources, here.cacheable)


def test_apart_fills_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowc.compiler import analyze_file

    monkeypatch.setenv("FLOWC_CACHE_DIR", str(tmp_path / "cache"))
    flow = REPO / "examples" / "foreach_flow.py"
    first = analyze_file(flow, apart=True)
    assert len(_entries(tmp_path / "cache")) == 1
    assert _fingerprint(analyze_file(flow)) == _fingerprint(first)


def test_a_child_that_fails_leaves_the_analysis_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """An internal error shows as it would have: raised here, not lost in the child."""
    from flowc.compiler import analyze_file, pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("an internal error")

    monkeypatch.setenv("FLOWC_CACHE_DIR", "off")
    monkeypatch.setattr(pipeline, "analyze_source", broken)
    with pytest.raises(RuntimeError, match="an internal error"):
        analyze_file(REPO / "examples" / "foreach_flow.py", apart=True)


def test_a_run_of_a_new_flow_never_loads_libcst_in_the_runner(tmp_path: Path) -> None:
    script = ("import sys\nfrom flowc.cli import main\ncode = main(sys.argv[1:])\n"
              "print('loaded:', sorted(m for m in sys.modules if m == 'libcst' or m.endswith('.analyzer')))\n"
              "sys.exit(code)\n")
    r = subprocess.run([sys.executable, "-c", script, "run", "examples/foreach_flow.py", "-q", "--datastore",
                        str(tmp_path / "ds")], cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "FLOWC_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert "loaded: []" in r.stdout
    assert _entries(tmp_path / "cache")  # analyzed (in the child), not found
