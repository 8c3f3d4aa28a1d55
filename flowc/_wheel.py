"""A wheel of the flowc that is running, built from its installed files.

The default runtime image must hold exactly this flowc, whether it was
installed from a wheel or is an editable checkout; rebuilding from the
imported package folders works for both and needs no build backend. The
bytes are deterministic (fixed timestamps, sorted entries).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path

from flowc import __version__

# Each import package of flowc and the folder it is imported from.
ROOTS = ("flowc", "flowc.compiler", "flowc.targets", "flowc.runtime")
SKIP_SUFFIXES = {".pyc", ".pyo"}


def wheel_name() -> str:
    return f"flowc-{__version__}-py3-none-any.whl"


def installed_files() -> dict[str, bytes]:
    """{path inside the wheel: bytes} of every file of flowc's packages."""
    import importlib

    files: dict[str, bytes] = {}
    for name in ROOTS:
        base = Path(importlib.import_module(name).__path__[0])
        prefix = name.replace(".", "/")
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if not path.is_file() or "__pycache__" in rel.parts or path.suffix in SKIP_SUFFIXES:
                continue
            files.setdefault(f"{prefix}/{rel.as_posix()}", path.read_bytes())
    return files


def requires() -> list[str]:
    try:
        return sorted(metadata.requires("flowc") or [])
    except metadata.PackageNotFoundError:
        return []


def build() -> bytes:
    """The wheel's bytes."""
    dist = f"flowc-{__version__}.dist-info"
    files = installed_files()
    files[f"{dist}/METADATA"] = ("Metadata-Version: 2.1\nName: flowc\n"
                                 f"Version: {__version__}\nRequires-Python: >=3.10\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires())).encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: flowc\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist}/entry_points.txt"] = b"[console_scripts]\nflowc = flowc.cli:run\n"
    record = []
    for path, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()
