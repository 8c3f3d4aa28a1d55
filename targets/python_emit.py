"""Writing Python for people, for the targets that emit Python (Airflow DAG
files, Prefect flows): literals that evaluate to exactly the value on one
line whatever the text holds, comments and docstrings user text cannot break
out of, unique names, and the one way templates are set up.

Templates are compiled to Python by Jinja on first use in each process (40
to 130 ms of a one-flow `flowc compile`); its bytecode cache keeps the
compiled code between processes, keyed on each template's source. The
environment's options are not in that key, so each target gets its own
folder named after a hash of the module that builds it (and of jinja's
version). It lives beside the analysis cache (compiler/cache.py:
``FLOWC_CACHE_DIR``, ``off`` turns it off); a folder that cannot be written
or read only means compiling the templates again.
"""

from __future__ import annotations

import hashlib
import keyword
from pathlib import Path
from typing import Any, Callable

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_str(text: str) -> str:
    """A double-quoted string literal; every non-printable character escaped,
    so the source shows the exact value and each line stays one line."""
    if text.isprintable() and "\\" not in text and '"' not in text:  # most strings: nothing to escape
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:  # controls, separators, surrogates
            n = ord(ch)
            out.append(f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")
    return '"' + "".join(out) + '"'


def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like value (tuples stay tuples)."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def comment_text(text: str) -> str:
    """Text for one '# ' comment line (Python or YAML): every character that is
    not printable (newlines, NUL, U+0085, U+2028...) shown escaped, so user
    text can never end the comment and start code or YAML."""
    return "".join(ch if ch.isprintable() else py_str(ch)[1:-1] for ch in str(text))


def comment_lines(text: str) -> list[str]:
    """Text for '# ' comments, one entry per line, each made safe by comment_text."""
    return [comment_text(line).rstrip() for line in str(text).splitlines() or [""]]


def py_docstring(text: str, indent: str = "") -> str:
    """A triple-quoted literal whose value is ``text``, continuation lines indented."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\n")
        elif ch.isprintable() or ch == "\t":
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    lines = "".join(out).split("\n")
    body = "\n".join(indent + line if i and (line or i == len(lines) - 1) else line for i, line in enumerate(lines))
    return f'"""{body}"""'


class PyNames:
    """Python names of a generated module: unique, never a keyword or a reserved name."""

    def __init__(self, reserved: frozenset | set = frozenset()):
        self.reserved = set(reserved)
        self.used: list[str] = []

    def reserve(self, names) -> None:
        self.reserved |= set(names)

    def claim(self, want: str, suffix: str = "_") -> str:
        name = want
        n = 1
        while name in self.reserved or keyword.iskeyword(name):
            name = f"{want}{suffix}" if n == 1 else f"{want}{suffix}{n}"
            n += 1
        self.reserved.add(name)
        self.used.append(name)
        return name


def jinja_environment(module_file: str, filters: dict[str, Callable[..., Any]], folder: str | Path | None = None):
    """The Jinja environment of a target's templates (``folder``, by default
    targets/templates): strict about undefined names, no autoescape (the
    filters write literals), with the bytecode cache of ``module_file``, the
    module that builds it."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or Path(__file__).parent / "templates")),
        undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, bytecode_cache=bytecode_cache(module_file),
    )
    env.filters.update(filters)
    return env



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
