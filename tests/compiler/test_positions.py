"""compiler/positions.py against libcst's own PositionProvider: every node
it gives a position has the one libcst's (syntactic) provider gives, on
every flow of the corpus and on standard-library modules that use most of
Python's syntax."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from flowc.compiler.positions import positions
from tests.conftest import ALL_FLOWS, REPO

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# every diagnostic fixture but the one that is not Python (FC001: no tree to place)
FILES = (ALL_FLOWS + sorted(p for p in (REPO / "tests" / "diagnostics").glob("*.py") if not p.name.startswith("FC001"))
         + [STDLIB / name for name in ("dataclasses.py", "argparse.py", "typing.py", "asyncio/tasks.py",
                                       "pathlib.py", "enum.py", "functools.py", "json/encoder.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_positions_are_libcsts_own(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    mine = positions(module)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert len(mine) > 0
    differ = []
    for node, ((line, col), (end_line, end_col)) in mine.items():
        ref = reference[node]
        if (ref.start.line, ref.start.column, ref.end.line, ref.end.column) != (line, col, end_line, end_col):
            differ.append((type(node).__name__, (line, col, end_line, end_col), ref))
    assert differ == []
    # every statement and expression has one (what the analyzer reports on)
    missing = [type(n).__name__ for n in reference
               if isinstance(n, (cst.BaseExpression, cst.BaseStatement, cst.BaseSmallStatement)) and n not in mine]
    assert missing == []
