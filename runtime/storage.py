"""Byte storage under a root URL: a local folder, or anything fsspec reaches.

Local paths use the os module directly (fast, and fsspec's import costs more
than a whole small task); URLs with a protocol (s3://, gs://, memory://...)
go through fsspec, imported only then. Both give the same small interface,
and the one guarantee the datastore relies on: ``write_atomic`` either
publishes the whole object or nothing (rename on a local disk, one PUT on an
object store).
"""

from __future__ import annotations

import itertools
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Iterable


class StorageError(Exception):
    pass


class LocalStorage:
    def __init__(self, root: str):
        if root.startswith("file://"):
            root = root[len("file://"):]
        self.root = os.path.abspath(os.path.expanduser(root))
        self.url = self.root

    def _p(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def check(self) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot use datastore {self.root}: {exc.strerror or exc}") from None
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"cannot write to datastore {self.root}")

    def read(self, key: str) -> bytes | None:
        try:
            with open(self._p(key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def read_range(self, key: str, start: int, size: int) -> bytes | None:
        """``size`` bytes from ``start`` (fewer past the end); None if there is no such file."""
        try:
            with open(self._p(key), "rb") as f:
                f.seek(start)
                return f.read(size)
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return os.path.exists(self._p(key))

    def write(self, key: str, data: bytes) -> None:
        self.write_atomic(key, data)

    def write_atomic(self, key: str, data: bytes) -> None:
        path = self._p(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = _temp_file(folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a datastore is shared
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def create_exclusive(self, key: str, data: bytes = b"") -> bool:
        """Write a file only if it does not exist (atomic: O_EXCL); False if it did."""
        path = self._p(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True

    def list(self, key: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self._p(key)) if not n.startswith(".tmp-"))
        except (FileNotFoundError, NotADirectoryError):
            return []



_temp_names = itertools.count()


def _temp_file(folder: str) -> tuple[int, str]:
    """A new file in ``folder`` to write and then rename: named by this
    process and a counter (tempfile's random names cost more than the write
    of a small file, in a task that writes a few)."""
    while True:
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_temp_names)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:  # left by an earlier process with the same id
            continue


class FsspecStorage:
    def __init__(self, url: str):
        import fsspec

        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.root = self.root.rstrip("/")

    def _p(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def check(self) -> None:
        try:
            self.fs.makedirs(self.root, exist_ok=True)
            probe = self._p(".flowc-probe")
            self.fs.pipe_file(probe, b"ok")
        except Exception as exc:  # any backend error means: cannot use it
            raise StorageError(f"cannot use datastore {self.url}: {type(exc).__name__}: {exc}") from None

    def read(self, key: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._p(key))
        except FileNotFoundError:
            return None

    def read_range(self, key: str, start: int, size: int) -> bytes | None:
        """One ranged GET; None if there is no such object."""
        try:
            return self.fs.cat_file(self._p(key), start=start, end=start + size)
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.fs.exists(self._p(key))

    def write(self, key: str, data: bytes) -> None:
        self.write_atomic(key, data)

    def write_atomic(self, key: str, data: bytes) -> None:
        # One PUT: object stores publish whole objects or nothing.
        self._pipe(self._p(key), data, "overwrite")

    def _pipe(self, path: str, data: bytes, mode: str) -> None:
        try:
            self.fs.pipe_file(path, data, mode=mode)
        except FileNotFoundError:  # a filesystem with real folders (sftp, a local one)
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(path, data, mode=mode)

    def create_exclusive(self, key: str, data: bytes = b"") -> bool:
        """Write an object only if it does not exist: one conditional PUT
        (S3's If-None-Match: *, fsspec's mode="create"); False if it did."""
        path = self._p(key)
        try:
            self._pipe(path, data, "create")
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if "PreconditionFailed" in str(exc) or "412" in str(exc):
                return False
            raise

    def list(self, key: str) -> list[str]:
        try:
            entries = self.fs.ls(self._p(key), detail=False)
        except FileNotFoundError:
            return []
        names = sorted({e.rstrip("/").rsplit("/", 1)[-1] for e in entries})
        return [n for n in names if not n.startswith(".")]



def open_storage(url: str) -> LocalStorage | FsspecStorage:
    if "://" in url and not url.startswith("file://"):
        return FsspecStorage(url)
    return LocalStorage(url)


def join(*parts: Iterable[str]) -> str:
    return "/".join(p.strip("/") for p in parts if p)
