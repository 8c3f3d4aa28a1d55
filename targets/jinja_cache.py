"""Compiled templates kept between processes.

Jinja compiles every template to Python on first use in each process: 40 to
130 ms of a one-flow `flowc compile`. Its bytecode cache keeps the compiled
code, keyed on each template's source; the environment's options are not in
that key, so each target gets its own folder named after a hash of the module
that sets them (and of jinja's version). It lives beside the analysis cache
(compiler/cache.py: ``FLOWC_CACHE_DIR``, ``off`` turns it off); a folder that
cannot be written or read only means compiling the templates again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def bytecode_cache(module_file: str):
    """A jinja2 bytecode cache for the environment ``module_file`` builds, or None."""
    import jinja2
    from jinja2.bccache import FileSystemBytecodeCache

    from flowc.compiler.cache import folder

    base = folder()
    if base is None:
        return None
    try:
        source = Path(module_file).read_bytes()
    except OSError:
        return None
    tag = hashlib.sha256(source + b"\0" + jinja2.__version__.encode()).hexdigest()[:20]

    class Quiet(FileSystemBytecodeCache):
        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError):
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:
            try:
                Path(self.directory).mkdir(parents=True, exist_ok=True)
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return Quiet(str(base / "jinja" / f"{Path(module_file).stem}-{tag}"))
