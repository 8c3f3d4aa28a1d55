"""Find flow modules under the paths a user names (files or folders)."""

from __future__ import annotations

import os
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".flowc"}


def looks_like_flow(path: Path) -> bool:
    """A cheap text test: a module that never says FlowSpec defines no flow."""
    try:
        return b"FlowSpec" in path.read_bytes()
    except OSError:
        return False


def flow_files(paths: list[str]) -> list[Path]:
    """Files named directly are always included; folders are searched for
    ``*.py`` files that mention FlowSpec. Sorted, without duplicates."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    fp = Path(root) / f
                    if f.endswith(".py") and looks_like_flow(fp):
                        out.append(fp)
        else:
            out.append(p)
    seen = set()
    unique = []
    for p in out:
        key = os.path.normpath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
