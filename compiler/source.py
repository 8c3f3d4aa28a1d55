"""Reading a flow file and naming it: the light half of stage 1 (no libcst),
so a cached analysis is found without loading the parser."""

from __future__ import annotations

import os
from pathlib import Path

from .diagnostics import ERROR, Diagnostic
from .spans import Span


def project_root(path: Path) -> Path:
    """The nearest folder above a file holding pyproject.toml or .git (else the cwd)."""
    for folder in path.resolve().parents:
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return Path.cwd()


def display_path(path: str | Path, root: Path | None = None) -> str:
    """A stable, relative, POSIX spelling of a path: relative to its project's
    root, so the IR, golden files and CI annotations do not depend on the
    folder flowc runs from (and hold no absolute path)."""
    base = (root or project_root(Path(path))).resolve()
    try:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()
    except ValueError:  # another drive
        return Path(path).name


def read(path: str | Path) -> tuple[bytes | None, str | None, Diagnostic | None]:
    """The file's bytes and text, or the FC003 that says why there are none."""
    shown = display_path(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, None, Diagnostic("FC003", ERROR, f"cannot read {shown}: {exc.strerror or exc}", Span.at(shown, 1))
    try:
        return data, data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return data, None, Diagnostic("FC003", ERROR, f"{shown} is not UTF-8 text: {exc.reason} at byte {exc.start}",
                                      Span.at(shown, 1), "save the file as UTF-8")


def read_source(path: str | Path) -> tuple[str | None, Diagnostic | None]:
    _data, text, error = read(path)
    return text, error
