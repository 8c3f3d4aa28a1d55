"""A hash of flowc's own code, so caches and manifests know when the code
that produced something has changed (even under the same version)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path


@functools.lru_cache(maxsize=None)
def code_sha256(packages: tuple[str, ...], modules: tuple[str, ...] = ()) -> str:
    """sha256 over the .py and .j2 files of ``packages`` and the files of
    ``modules``, found without importing them. Once per process: the code a
    process runs does not change under it."""
    h = hashlib.sha256()
    files: list[tuple[str, Path]] = []
    for pkg in packages:
        spec = importlib.util.find_spec(pkg)
        for location in (spec.submodule_search_locations or []) if spec else []:
            base = Path(location)
            for path in base.rglob("*"):
                if path.suffix in (".py", ".j2") and "__pycache__" not in path.parts:
                    files.append((f"{pkg}/{path.relative_to(base).as_posix()}", path))
    for module in modules:
        spec = importlib.util.find_spec(module)
        if spec and spec.origin:
            files.append((module, Path(spec.origin)))
    for name, path in sorted(files):
        h.update(name.encode("utf-8") + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()
