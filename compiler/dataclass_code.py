"""Dataclass methods compiled once and kept between processes, as a module's
bytecode is.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``
(and, for frozen classes, more) as source text and compiles it with exec()
when the class is made. libcst defines ~200 node classes that way:
compiling their ~1,000 methods is a third of ``import libcst`` (~35 ms of
~110), paid by every process that parses a flow; the IR's 24 classes cost
every command ~7 ms more. The text is the same in every process, so its
code is kept for flowc's and libcst's classes (KEPT), keyed by the exact
text, one file per package, per Python bytecode version, in flowc's cache folder
(compiler/cache.folder; ``FLOWC_CACHE_DIR=off`` turns this off too).

exec() of a kept code object does what exec() of the text does: the code
is compiled from that text, under the name "<string>", and with no
``__future__`` flag inherited (dataclasses.py has none), so a class made
either way is the same class.

install() puts a caching exec in dataclasses' namespace (the module calls
exec by that name: 3.10 to 3.13); save() adds what this process compiled
anew to the files. Only ``flowc`` as a process does this (cli.run, and the
analysis child of compiler/apart.py); main() called in a long-lived process
leaves dataclasses alone.
"""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys

# A file grown past this many texts (the code of many libcst versions) is
# written again with only what this process used.
MAX_TEXTS = 4096
# The packages whose classes are kept: flowc's and libcst's, the ones every
# command makes. Any other (a flow's own module, in a task forked from
# `flowc run`) is compiled as dataclasses would compile it, and nothing of it
# is read or written.
KEPT = frozenset({"flowc", "libcst"})

_kept: dict[str, dict[str, object]] = {}  # package -> text -> code (loaded on first use, and compiled here)
_changed: set[str] = set()  # the packages whose code this process compiled anew
_used: dict[str, set[str]] = {}  # package -> the texts this process made classes from
_folder: list[str] = []
_counts = {"kept": 0, "compiled": 0}


def _where() -> str | None:
    from . import cache

    base = cache.folder()
    if base is None:
        return None
    tag = sys.implementation.cache_tag or "python"
    magic = int.from_bytes(_magic(), "little")
    return os.path.join(base, "dataclass-code", f"{tag}-{magic}")


def _magic() -> bytes:
    import _frozen_importlib_external  # loaded by the interpreter itself: no cost

    return _frozen_importlib_external.MAGIC_NUMBER


def _package(namespace: object) -> str:
    name = namespace.get("__name__") if isinstance(namespace, dict) else None
    top = name.partition(".")[0] if isinstance(name, str) else ""
    return top if top.isidentifier() else "_"


def _load(package: str) -> dict[str, object]:
    kept = _kept.get(package)
    if kept is None:
        kept = {}
        if _folder and _folder[0]:
            try:
                with open(os.path.join(_folder[0], package + ".marshal"), "rb") as f:
                    loaded = marshal.loads(f.read())  # one read: marshal.load reads a file piece by piece
                if isinstance(loaded, dict):
                    kept = loaded
            except Exception:  # noqa: BLE001 - missing, unreadable or damaged: compile as usual
                pass
        _kept[package] = kept
    return kept


def _compile(source: str) -> object:
    """What exec(source) in dataclasses compiles: no __future__ flag of this module inherited."""
    return compile(source, "<string>", "exec", dont_inherit=True)


def _exec(source, globals=None, locals=None, /, **kw):  # noqa: A002 - exec's own parameter names
    if type(source) is not str or kw:
        return builtins.exec(source, globals, locals, **kw)
    package = _package(globals)
    if package not in KEPT:
        return builtins.exec(_compile(source), globals, locals)
    kept = _load(package)
    _used.setdefault(package, set()).add(source)
    code = kept.get(source)
    if code is None:
        code = kept[source] = _compile(source)
        _changed.add(package)
        _counts["compiled"] += 1
    else:
        _counts["kept"] += 1
    return builtins.exec(code, globals, locals)


def install() -> None:
    """Make dataclasses compile through the kept code (a no-op when the
    cache is off or something else already stands in for its exec)."""
    if "exec" in vars(dataclasses) or _folder:
        return
    _folder.append(_where() or "")
    if _folder[0]:
        dataclasses.exec = _exec


def uninstall() -> None:
    """Let dataclasses call the builtin exec again (for tests)."""
    if vars(dataclasses).get("exec") is _exec:
        del dataclasses.exec
    _folder.clear()
    _kept.clear()
    _changed.clear()
    _used.clear()
    _counts.update(kept=0, compiled=0)


def save() -> None:
    """Add the code this process compiled to the files; a folder that
    cannot be written only means nothing is kept."""
    if not _changed or not _folder or not _folder[0]:
        return
    try:
        os.makedirs(_folder[0], exist_ok=True)
    except OSError:
        return
    for package in sorted(_changed):
        path = os.path.join(_folder[0], package + ".marshal")
        merged: dict[str, object] = {}
        try:  # another process may have added code since this one loaded the file
            with open(path, "rb") as f:
                on_disk = marshal.loads(f.read())
            if isinstance(on_disk, dict):
                merged = on_disk
        except Exception:  # noqa: BLE001 - missing or damaged: written anew
            pass
        kept = _kept.get(package, {})
        merged.update(kept)
        if len(merged) > MAX_TEXTS:
            merged = {text: kept[text] for text in _used[package]}  # every text used is in kept
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(merged))
            os.replace(tmp, path)
        except (OSError, ValueError):
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _changed.clear()


def counts() -> dict[str, int]:
    """How many texts this process found kept and compiled anew (for tests
    and benchmarks)."""
    return dict(_counts)
