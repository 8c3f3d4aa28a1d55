"""A foreach's items stored one by one beside their value (datastore.put_items):
each task of the foreach reads its own item, not the whole list, so a foreach
over n items costs n reads of one item rather than n reads of n items."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime import datastore as D
from flowc.runtime.datastore import FlowDatastore, dumps
from tests.conftest import REPO


class Counting:
    """A storage that counts whole reads and ranged reads."""

    def __init__(self, inner):
        self.inner = inner
        self.reads: list[str] = []
        self.ranges: list[str] = []

    def read(self, key):
        self.reads.append(key)
        return self.inner.read(key)

    def read_range(self, key, start, size):
        self.ranges.append(key)
        return self.inner.read_range(key, start, size)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def store(tmp_path: Path, value) -> tuple[FlowDatastore, str, bool]:
    writer = FlowDatastore(str(tmp_path / "ds"), "F")
    data = dumps(value)
    sha = writer.put_blob(data)
    written = writer.put_items(sha, value, len(data))
    reader = FlowDatastore(str(tmp_path / "ds"), "F")  # a new task: nothing loaded
    reader.storage = Counting(reader.storage)
    return reader, sha, written


VALUES = [
    [{"path": f"s3://bucket/{i:05d}.parquet", "n": i} for i in range(100)],
    tuple(range(-50, 150)),
    ["text", None, 1.5, math.inf, b"\x00\xff", ("nested", [1, 2]), {"k": {"v"}}, 2 ** 100] * 10,
]


@pytest.mark.parametrize("value", VALUES, ids=["dicts", "tuple", "mixed"])
def test_each_item_is_read_alone_and_equals_the_whole_values(tmp_path: Path, value) -> None:
    reader, sha, written = store(tmp_path, value)
    assert written
    n = len(value)
    picked = [0, 7, n - 1, n // 2]
    for i in picked:
        assert reader.get_item(sha, i, n) == value[i]
    assert reader.storage.reads == []  # the whole value was never read
    assert len(reader.storage.ranges) == 2 * len(picked)  # where the item is, then the item


def test_a_reader_of_many_items_reads_the_whole_value_once(tmp_path: Path) -> None:
    value = list(range(1000))
    reader, sha, _ = store(tmp_path, value)
    assert [reader.get_item(sha, i, 1000) for i in range(1000)] == value
    assert len(reader.storage.reads) == 1 and len(reader.storage.ranges) == 2 * D.ITEM_READS


@pytest.mark.parametrize("kind", [list, tuple])
def test_an_item_read_alone_is_the_one_in_the_whole_value(tmp_path: Path, kind) -> None:
    """As in Metaflow, self.input is self.items[self.index]: a change to one shows in the other."""
    reader, sha, _ = store(tmp_path, kind({"i": i} for i in range(100)))
    item = reader.get_item(sha, 5, 100)
    item["seen"] = True
    whole = reader.get_value(sha)
    assert type(whole) is kind and whole[5] is item and whole[5]["seen"] and "seen" not in whole[6]
    assert reader.get_item(sha, 5, 100) is item and reader.get_item(sha, 6, 100) is whole[6]


def test_items_that_share_an_object_are_not_stored_one_by_one(tmp_path: Path) -> None:
    shared = list(range(20000))
    value = [(shared, i) for i in range(100)]  # one list, referenced by every item
    reader, sha, written = store(tmp_path, value)
    assert not written
    assert not list((tmp_path / "ds").rglob("*.items"))
    assert reader.get_item(sha, 42, 100) == (shared, 42)  # from the whole value


def test_a_value_without_items_file_and_an_index_past_the_end(tmp_path: Path) -> None:
    writer = FlowDatastore(str(tmp_path / "ds"), "F")
    sha = writer.put_value(list("abc"))
    reader = FlowDatastore(str(tmp_path / "ds"), "F")
    assert reader.get_item(sha, 2, 3) == "c"  # e.g. a datastore written before items files existed
    reader, sha, _ = store(tmp_path / "b", list(range(100)))
    with pytest.raises(IndexError):
        reader.get_item(sha, 100, 100)  # not a read past the offsets into the items


def test_a_foreach_task_needs_only_its_item(tmp_path: Path) -> None:
    """The task command, as every target runs it: with the whole list removed
    from the datastore after the split, each task still gets its own item."""
    from flowc.compiler import ir, load_flow

    flow_file = REPO / "tests" / "flows" / "wide_foreach.py"
    ir_path = tmp_path / "flow.ir.json"
    ir_path.write_text(ir.dump(load_flow(flow_file)))
    ds = tmp_path / "ds"

    def task(step: str, index: str, *extra: str) -> dict:
        out = tmp_path / f"{step}-{index}.json"
        r = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", str(flow_file), "--ir",
                            str(ir_path), "--step", step, "--run-id", "r1", "--index", index, "--attempt", "0",
                            "--datastore", str(ds), "--output", str(out), *extra],
                           capture_output=True, text=True, cwd=REPO, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(out.read_text())

    assert task("start", "0", "--param", "width=300")["foreach_count"] == 300
    (items_file,) = ds.rglob("*.items")
    whole = items_file.with_suffix("")
    assert whole.exists()
    whole.unlink()
    for i in (0, 123, 299):
        task("square", str(i))
        done = json.loads((ds / "WideForeachFlow" / "runs" / "r1" / "square" / str(i) / "done.json").read_text())
        value_sha = done["artifacts"]["value"]
        assert FlowDatastore(str(ds), "WideForeachFlow").get_value(value_sha) == i * i


def test_items_one_by_one_on_s3() -> None:
    """The ranged reads through fsspec, against a real S3 API (moto's server)."""
    from tests.support.s3 import moto_s3

    value = [f"item-{i}" * 5 for i in range(200)]
    with moto_s3("flowc-items"):  # this process's AWS settings point at it meanwhile
        writer = FlowDatastore("s3://flowc-items/ds", "F")
        data = dumps(value)
        sha = writer.put_blob(data)
        assert writer.put_items(sha, value, len(data))
        reader = FlowDatastore("s3://flowc-items/ds", "F")
        reader.storage = Counting(reader.storage)
        assert [reader.get_item(sha, i, 200) for i in (0, 99, 199)] == [value[0], value[99], value[199]]
        assert reader.storage.reads == [] and len(reader.storage.ranges) == 6
