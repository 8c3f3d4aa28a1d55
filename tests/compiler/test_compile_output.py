"""`flowc compile -o` naming a file where a folder is written is a usage
error (exit 2, one line), never an internal error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("target, output", [("argo", "taken/"), ("prefect", "taken")])
def test_a_file_where_a_folder_goes(tmp_path: Path, target: str, output: str) -> None:
    (tmp_path / "taken").write_text("mine\n")
    result = subprocess.run([sys.executable, "-m", "flowc", "compile", str(REPO / "examples" / "foreach_flow.py"),
                             "--target", target, "-o", output, "--code-package", "s3://bucket/f.tar.gz"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "is a file" in result.stderr and "internal error" not in result.stderr
    assert (tmp_path / "taken").read_text() == "mine\n"
