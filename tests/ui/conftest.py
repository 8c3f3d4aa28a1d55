"""One datastore for the UI tests, made by `flowc run` of real flows, plus
the states a run passes through that a finished run cannot show (one still
going, an artifact this Python cannot unpickle), written by hand."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest.importorskip("starlette", reason="flowc ui needs the ui extra (pip install 'flowc[ui]')")

# a failing step whose output and artifacts hold markup: the pages must show it as text
FAILING = '''
from flowc import FlowSpec, step


class BrokenFlow(FlowSpec):
    """Fails in its second step."""

    @step
    def start(self):
        self.html = "<img src=x onerror=alert(1)>"
        print("<script>alert('log')</script>")
        self.next(self.boom)

    @step
    def boom(self):
        raise ValueError("bad value <b>42</b>")
        self.next(self.end)

    @step
    def end(self):
        pass
'''

CARD_HTML = ("<!doctype html><html><body><h1 id='card-title'>Model card</h1>"
             "<p id='card-script'>no script ran</p>"
             "<script>document.getElementById('card-script').textContent = 'script ran in the sandbox'</script>"
             "</body></html>")


def flowc(*args: str, cwd: Path = REPO, check_code: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                            timeout=180)
    if check_code is not None:
        assert result.returncode == check_code, result.stdout + result.stderr
    return result


def unpicklable() -> bytes:
    """A pickle of a class from a module that exists nowhere here."""
    return b"cno_such_module_for_flowc_ui\nThing\n)\x81."


@pytest.fixture(scope="session")
def datastore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowc.runtime.card_store import write_card
    from flowc.runtime.datastore import FlowDatastore

    root = tmp_path_factory.mktemp("ui")
    ds = root / "ds"
    flowc("run", "examples/foreach_flow.py", "--datastore", str(ds), "--count", "3")
    flowc("run", "tests/flows/retry_catch.py", "--datastore", str(ds))
    (root / "broken.py").write_text(FAILING)
    flowc("run", str(root / "broken.py"), "--datastore", str(ds), check_code=1)

    # a card on a task, written as the cards runtime will write it
    retry = FlowDatastore(str(ds), "RetryCatchFlow")
    write_card(retry, "1", "broken", "0", 1, "default", None, CARD_HTML, {"components": []})
    # an artifact whose class cannot be imported by the UI's Python
    foreach = FlowDatastore(str(ds), "ForeachFlow")
    meta = foreach.read_done("1", "end", "0")
    meta["artifacts"]["mystery"] = foreach.put_blob(unpicklable())
    foreach.write_done("1", "end", "0", meta)
    running_run(foreach)
    return ds


def running_run(ds) -> None:
    """ForeachFlow/2 as it is while its foreach goes on: start done, two of
    three squares done, its runner (this process) alive."""
    claim = {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time(), "params": {}}
    assert ds.claim_run_id("2", json.dumps(claim).encode())
    now = time.time()
    ds.write_run_file("2", "run.json", json.dumps({"flow": "ForeachFlow", "run_id": "2", "params": {},
                                                   "started_at": now - 5, "status": "running",
                                                   "runner": "flowc run"}).encode())
    ds.write_run_file("2", "ir.json", ds.read_run_file("1", "ir.json"))
    for step, task in (("start", "0"), ("square", "0"), ("square", "1")):
        meta = ds.read_done("1", step, task)
        meta.update(run_id="2", started_at=now - 4, finished_at=now - 3)
        ds.write_done("2", step, task, meta)


@pytest.fixture
def client(datastore: Path):
    from starlette.testclient import TestClient

    from flowc.ui.app import create_app

    with TestClient(create_app(str(datastore)), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def copy_of(datastore: Path, tmp_path: Path):
    """A private copy of the datastore, for tests that break it."""
    def make() -> Path:
        target = tmp_path / "ds"
        shutil.copytree(datastore, target)
        return target
    return make
