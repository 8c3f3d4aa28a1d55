"""A content-addressed cache of analyses, shared by check, compile and run.

Parsing a flow means loading libcst (a tenth of a second per process); an
unchanged flow should not pay it. An entry is keyed on everything the
analysis reads: the file's bytes, the path it is shown as (spans carry it),
its folder (the modules beside it), flowc's compiler code and the Python
version; and it records the modules the flow imports from beside it, each
re-hashed on every hit, and the import names that found no file (one that
appears later makes the entry stale). It stores the whole result, warnings
and errors included, so every command prints the same diagnostics, byte for
byte, with or without it.

The cache lives in ``$FLOWC_CACHE_DIR``, else ``$XDG_CACHE_HOME/flowc``, else
``~/.cache/flowc``; ``FLOWC_CACHE_DIR=off`` turns it off. A folder that
cannot be written only means no cache. This module stays light: it never
imports libcst.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

FORMAT = 2  # 1: JSON; 2: pickled
SUFFIX = ".pickle"


def folder() -> Path | None:
    """Where entries live; None when the cache is off."""
    chosen = os.environ.get("FLOWC_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no", "false") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowc"


def resolve_module(folder: Path, name: str) -> list[Path]:
    """The files an absolute import of ``name`` finds beside a flow: ``name.py``,
    or every file of the package (or namespace package) ``name/``; none for
    any other module. compiler/modules.py and the cache share this rule."""
    single = folder / f"{name}.py"
    if single.is_file():
        return [single]
    package = folder / name
    if package.is_dir():  # a package, or a namespace package
        return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts
                      and not any(part.startswith(".") for part in p.relative_to(package).parts))
    return []


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _files(folder: Path, name: str) -> dict[str, str | None]:
    return {p.relative_to(folder).as_posix(): _sha(p) for p in resolve_module(folder, name)}


_CODE: list[str] = []


def _compiler() -> str:
    """The compiler's code as name, size and modification time of each file
    (as Python's own .pyc check does): a stat per file, not a read."""
    if not _CODE:
        here = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for path in sorted(here.glob("*.py")):
            st = path.stat()
            h.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def key(shown: str, real: Path, data: bytes) -> str:
    from flowc import __version__

    h = hashlib.sha256()
    for part in (b"flowc-analysis", str(FORMAT).encode(), __version__.encode(), _compiler().encode(),
                 f"{sys.version_info[0]}.{sys.version_info[1]}".encode(), shown.encode("utf-8", "surrogateescape"),
                 str(real.resolve()).encode("utf-8", "surrogateescape"), data):
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


def _entry(k: str) -> Path | None:
    base = folder()
    return None if base is None else base / "analysis" / k[:2] / f"{k}{SUFFIX}"


# ------------------------------------------------------------ (de)serializing
#
# An entry is the analysis pickled: the IR's frozen dataclasses and the
# diagnostics, as they are (no libcst node is in either). For a 10,000-step
# flow that is 0.05 s each way, where JSON took 0.19 s to write and 0.46 s to
# read back through the IR's typed loader. Like __pycache__ (and the compiled
# templates and dataclass code beside it), the folder is trusted: reading an
# entry runs what it says, so FLOWC_CACHE_DIR names a folder only its user
# writes.


def dumps(analysis, probed: dict[str, dict[str, str | None]]) -> bytes:
    import pickle

    data = {
        "format": FORMAT,
        "modules": probed,
        "path": analysis.path,
        "flows": tuple(analysis.flows),
        "diagnostics": tuple(analysis.diagnostics),
        # insertion order kept: a loaded analysis lists its flows' diagnostics as the analysis did
        "by_flow": dict(analysis.by_flow),
    }
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def loads(raw: bytes, real: Path) -> dict[str, Any] | None:
    """The fields of the Analysis an entry holds (all but the source lines),
    or None when it is stale or unreadable."""
    import pickle

    data = pickle.loads(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    base = real.resolve().parent
    for name, files in data["modules"].items():
        if _files(base, name) != files:
            return None
    from . import ir
    from .diagnostics import Diagnostic

    flows, diagnostics, by_flow = data["flows"], data["diagnostics"], data["by_flow"]
    if not (all(type(f) is ir.Flow for f in flows) and all(type(d) is Diagnostic for d in diagnostics)
            and all(type(d) is Diagnostic for ds in by_flow.values() for d in ds)):
        return None
    return {"path": data["path"], "flows": flows, "diagnostics": diagnostics, "by_flow": by_flow}


# ------------------------------------------------------------ the API


def lookup(shown: str, real: Path, data: bytes) -> dict[str, Any] | None:
    """The cached analysis of this file (the fields of its Analysis but the
    source lines, which the caller has), or None."""
    entry = _entry(key(shown, real, data))
    if entry is None:
        return None
    try:
        raw = entry.read_bytes()
    except OSError:
        return None
    try:
        return loads(raw, real)
    except Exception:  # noqa: BLE001 - a damaged entry (any unpickling error) is a miss; the store that follows replaces it
        return None


def store(shown: str, real: Path, data: bytes, analysis, probed_names: set[str]) -> None:
    entry = _entry(key(shown, real, data))
    if entry is None:
        return
    base = real.resolve().parent
    probed = {name: _files(base, name) for name in sorted(probed_names)}
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        tmp.write_bytes(dumps(analysis, probed))
        os.replace(tmp, entry)
    except OSError:
        pass  # no cache, the same result
