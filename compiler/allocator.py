"""glibc's allocator, told to keep no "fast bins" before flowc reads a
large file, in a process that is flowc's own.

libcst's parser (Rust, on the C allocator) makes and drops millions of
small blocks; with fast bins, glibc keeps those freed blocks apart and
merges them in bulk later (malloc_consolidate, with unlink_chunk a seventh
of the parse of a 10,000-step flow under perf). Without them (mallopt
M_MXFAST=0, the setting glibc documents for this) that parse takes ~10%
less CPU, and the whole `flowc check` of that flow ~5% (before the parse
only) to ~7% (before CPython's precheck of the file too, as here).

The setting holds for the rest of the process, so only ``flowc`` as a
process asks for it (cli.run calls allow()); analyze_file called in a
process of someone else's leaves the allocator alone. Elsewhere than
glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

LARGE = 256 * 1024  # characters of source: a small file's parse gains nothing worth a mallopt
M_MXFAST = 1

_state = {"allowed": False, "done": False}


def allow() -> None:
    """This process is flowc's own: its allocator may be tuned."""
    _state["allowed"] = True


def before_parse(size: int) -> None:
    """Before flowc parses ``size`` characters: for a large file, once per
    process, glibc's fast bins off."""
    if size < LARGE or not _state["allowed"] or _state["done"]:
        return
    _state["done"] = True
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(M_MXFAST, 0)
    except (OSError, AttributeError, TypeError):  # no C library to load, or one without mallopt
        pass
