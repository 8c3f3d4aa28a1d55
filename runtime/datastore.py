"""The datastore: content-addressed artifacts and per-task metadata.

Layout (docs/runtime-contract.md):

    <root>/<Flow>/data/<sha[:2]>/<sha>                  pickled artifact values
    <root>/<Flow>/packages/<sha>.tar.gz                 code packages
    <root>/<Flow>/runs/<run>/<step>/<task>/done.json    a finished task (written last)
    <root>/<Flow>/runs/<run>/<step>/<task>/attempt-<N>/ its logs and failure record

A value stored twice is stored once. ``done.json`` is published in one
atomic write after everything it points to exists, so any reader that sees
it can read the whole task.
"""

from __future__ import annotations

import errno
import hashlib
import json
import pickle
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any

from .storage import StorageError, open_storage

PICKLE_PROTOCOL = 4  # readable by every Python 3 a step environment may pin


# A foreach over at least this many items gets an items file (put_items):
# below it, reading the whole value costs a task less than the file's writing.
ITEMS_MIN = 64
# Item reads of one value from its items file before the whole value is read
# instead (a join reading every input's item reads the value once).
ITEM_READS = 16


class DatastoreError(Exception):
    pass


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=PICKLE_PROTOCOL)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FlowDatastore:
    """One flow's part of a datastore."""

    def __init__(self, url: str, flow: str):
        self.url = url
        self.flow = flow
        self.storage = open_storage(url)
        self._blob_cache: dict[str, Any] = {}
        self._items_given: dict[str, dict[int, Any]] = {}  # sha -> {index: item read alone}

    def check(self) -> None:
        try:
            self.storage.check()
        except StorageError as exc:
            raise DatastoreError(str(exc)) from None

    # ------------------------------------------------------------ keys

    def _data_key(self, sha: str) -> str:
        return f"{self.flow}/data/{sha[:2]}/{sha}"

    def task_key(self, run: str, step: str, task: str) -> str:
        return f"{self.flow}/runs/{run}/{step}/{task}"

    def location(self, key: str = "") -> str:
        base = self.storage.url.rstrip("/")
        return f"{base}/{self.flow}/{key}".rstrip("/")

    def _write(self, key: str, data: bytes) -> None:
        """Publish one object whole; a failed write (a full disk, a quota)
        becomes one clear error and leaves nothing readable behind."""
        try:
            self.storage.write_atomic(key, data)
        except OSError as exc:
            what = errno.errorcode.get(exc.errno or 0, "")
            hint = " (the disk is full: free space, then `flowc resume` the run)" \
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else ""
            raise DatastoreError(f"cannot write {self.location(key.split('/', 1)[1])} ({len(data)} bytes): "
                                 f"{exc.strerror or exc}{' [' + what + ']' if what else ''}{hint}") from None

    # ------------------------------------------------------------ artifacts

    def put_blob(self, data: bytes) -> str:
        sha = digest(data)
        key = self._data_key(sha)
        if not self.storage.exists(key):
            self._write(key, data)
        return sha

    def put_value(self, value: Any) -> str:
        return self.put_blob(dumps(value))

    def get_blob(self, sha: str) -> bytes:
        data = self.storage.read(self._data_key(sha))
        if data is None:
            raise DatastoreError(f"artifact {sha[:12]} is missing from {self.location('data')}")
        return data

    def get_value(self, sha: str) -> Any:
        if sha not in self._blob_cache:
            value = pickle.loads(self.get_blob(sha))
            given = self._items_given.get(sha)
            if given:  # items already read alone (get_item) are the value's own: self.input is self.items[i]
                if type(value) is list:
                    for i, item in given.items():
                        value[i] = item
                elif type(value) is tuple:
                    value = tuple(given.get(i, item) for i, item in enumerate(value))
            self._blob_cache[sha] = value
        return self._blob_cache[sha]

    # ------------------------------------------------------------ a foreach's items, one by one

    def _items_key(self, sha: str) -> str:
        return self._data_key(sha) + ".items"

    def put_items(self, sha: str, items: list | tuple, whole_size: int) -> bool:
        """Beside the stored value ``sha``, the list or tuple a foreach splits
        over, each item pickled on its own, so that a task of the foreach reads
        its item alone (get_item): reading the value would cost each of n tasks
        the whole list, n times n in all. Not written (False) where the items
        share objects, which pickling them one by one would store many times
        over (more than twice the whole value's ``whole_size`` bytes).

        Layout: the item count n, n + 1 offsets into the file (each item runs
        from its offset to the next), then the items; integers are 8 bytes,
        little-endian."""
        key = self._items_key(sha)
        if self.storage.exists(key):
            return True
        limit = 2 * whole_size + (1 << 16)
        parts, total = [], 0
        for item in items:
            data = dumps(item)
            total += len(data)
            if total > limit:
                return False
            parts.append(data)
        offsets, at = [], 8 * (len(parts) + 2)
        for data in parts:
            offsets.append(at)
            at += len(data)
        offsets.append(at)
        self._write(key, b"".join([struct.pack(f"<{len(offsets) + 1}Q", len(parts), *offsets), *parts]))
        return True

    def get_item(self, sha: str, index: int, count: int) -> Any:
        """Item ``index`` of the stored list or tuple ``sha`` of ``count``
        items: read alone from its items file while there is one and the whole
        value is not loaded, for the first ITEM_READS reads of that value;
        else the whole value's."""
        given = self._items_given.setdefault(sha, {})
        if index in given:
            return given[index]
        if sha not in self._blob_cache and len(given) < ITEM_READS and 0 <= index < count:
            key = self._items_key(sha)
            span = self.storage.read_range(key, 8 + 8 * index, 16)
            if span is not None and len(span) == 16:
                start, end = struct.unpack("<QQ", span)
                data = self.storage.read_range(key, start, end - start)
                if data is not None and len(data) == end - start:
                    item = given[index] = pickle.loads(data)
                    return item
        return self.get_value(sha)[index]

    # ------------------------------------------------------------ tasks

    def read_done(self, run: str, step: str, task: str) -> dict | None:
        data = self.storage.read(f"{self.task_key(run, step, task)}/done.json")
        return json.loads(data) if data is not None else None

    def write_done(self, run: str, step: str, task: str, meta: dict) -> None:
        # one line: json's C encoder (an indented dump takes its pure-Python one)
        text = json.dumps(meta, sort_keys=True, default=str).encode("utf-8")
        self._write(f"{self.task_key(run, step, task)}/done.json", text)

    def write_task_file(self, run: str, step: str, task: str, name: str, data: bytes) -> str:
        key = f"{self.task_key(run, step, task)}/{name}"
        self._write(key, data)
        return key

    def write_attempt_file(self, run: str, step: str, task: str, attempt: int, name: str, data: bytes) -> None:
        self._write(f"{self.task_key(run, step, task)}/attempt-{attempt}/{name}", data)

    def read_attempt_file(self, run: str, step: str, task: str, attempt: int, name: str) -> bytes | None:
        return self.storage.read(f"{self.task_key(run, step, task)}/attempt-{attempt}/{name}")

    def attempts(self, run: str, step: str, task: str) -> list[int]:
        names = self.storage.list(self.task_key(run, step, task))
        return sorted(int(n.split("-", 1)[1]) for n in names if n.startswith("attempt-") and n[8:].isdigit())

    def tasks(self, run: str, step: str) -> list[str]:
        return self.storage.list(f"{self.flow}/runs/{run}/{step}")

    def steps(self, run: str) -> list[str]:
        return [s for s in self.storage.list(f"{self.flow}/runs/{run}") if not s.endswith(".json")]

    def runs(self) -> list[str]:
        return self.storage.list(f"{self.flow}/runs")

    # ------------------------------------------------------------ runs

    def write_run_file(self, run: str, name: str, data: bytes) -> None:
        self._write(f"{self.flow}/runs/{run}/{name}", data)

    def read_run_file(self, run: str, name: str) -> bytes | None:
        return self.storage.read(f"{self.flow}/runs/{run}/{name}")

    def new_run_id(self, record: bytes = b"{}") -> str:
        """The next free integer run id, claimed (claim_run_id), so two runs
        started at once never share one."""
        existing = [int(r) for r in self.runs() if r.isdigit()]
        n = max(existing, default=0) + 1
        while not self.claim_run_id(str(n), record):
            n += 1
        return str(n)

    def claim_run_id(self, run: str, record: bytes = b"{}") -> bool:
        """Take a run id, once: an exclusive create of runs/<run>/claim.json
        (O_EXCL on a disk, a conditional PUT on an object store). False when
        another run holds it."""
        key = f"{self.flow}/runs/{run}/claim.json"
        try:
            return self.storage.create_exclusive(key, record)
        except OSError as exc:
            raise DatastoreError(f"cannot claim run id {run} in {self.location()}: {exc.strerror or exc}") from None

    # ------------------------------------------------------------ packages

    def package_key(self, sha: str) -> str:
        return f"{self.flow}/packages/{sha}.tar.gz"
