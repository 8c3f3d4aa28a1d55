"""Code packages: the flow module, the modules it imports from beside it, and
its IR, in one content-hashed archive.

The archive is byte-for-byte deterministic (sorted entries, zero times and
owners, no gzip timestamp), so ``flowc compile`` can compute its URL without
building it, and ``flowc package`` uploads exactly that. A task started with
``--package URL`` fetches it once per machine, checks its hash, and unpacks
it into a cache folder.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile


def build(files: dict[str, bytes]) -> bytes:
    """A deterministic .tar.gz of {archive name: content}."""
    raw = io.BytesIO()
    # PAX: USTAR bytes for short ASCII names, a pax header only for a name USTAR cannot hold (long flow names)
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def package_files(flow_path: str, ir_json: bytes, flow_name: str, modules: tuple[str, ...]) -> dict[str, bytes]:
    """What goes in a flow's package, read from disk next to the flow file."""
    folder = os.path.dirname(os.path.abspath(flow_path))
    files = {os.path.basename(flow_path): _read(flow_path), f"{flow_name}.ir.json": ir_json}
    for rel in modules:
        files[rel] = _read(module_path(flow_path, rel))
    return files


def module_path(flow_path: str, rel: str) -> str:
    """Where a module the IR lists is on disk: beside the flow, or else under
    the project root (the nearest folder up with pyproject.toml or .git),
    where the compiler found a base class's module by its import path."""
    folder = os.path.dirname(os.path.abspath(flow_path))
    beside = os.path.join(folder, *rel.split("/"))
    if os.path.exists(beside):
        return beside
    root = project_root(flow_path)
    if root is not None and os.path.isfile(os.path.join(root, *rel.split("/"))):
        return os.path.join(root, *rel.split("/"))
    return beside


def project_root(flow_path: str) -> str | None:
    folder = os.path.dirname(os.path.abspath(flow_path))
    while True:
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
        if os.path.isfile(os.path.join(folder, "pyproject.toml")) or os.path.exists(os.path.join(folder, ".git")):
            return folder


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url_for(datastore_url: str, flow_name: str, sha: str) -> str:
    return f"{datastore_url.rstrip('/')}/{flow_name}/packages/{sha}.tar.gz"


class PackageError(Exception):
    pass


def fetch(url: str, cache_root: str | None = None) -> str:
    """Fetch and unpack a package (once per machine); return its folder."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    expected = name[: -len(".tar.gz")] if name.endswith(".tar.gz") else None
    cache_root = cache_root or os.environ.get("FLOWC_PACKAGE_CACHE") or os.path.join(tempfile.gettempdir(), "flowc-packages")
    target = os.path.join(cache_root, expected or sha256(url.encode()))
    if os.path.isfile(os.path.join(target, ".complete")):
        return target
    from .storage import open_storage

    folder, _, base = url.rstrip("/").rpartition("/")
    data = open_storage(folder).read(base)
    if data is None:
        raise PackageError(f"code package {url} does not exist; run `flowc package FLOW.py --datastore ...` first")
    if expected and sha256(data) != expected:
        raise PackageError(f"code package {url} does not match its hash")
    os.makedirs(cache_root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".unpack-", dir=cache_root)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name.startswith("/") or ".." in member.name.split("/") or not member.isfile():
                raise PackageError(f"code package {url} holds an unsafe entry {member.name!r}")
        tar.extractall(tmp)
    open(os.path.join(tmp, ".complete"), "w").close()
    try:
        os.rename(tmp, target)
    except OSError:  # another task unpacked it first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target
