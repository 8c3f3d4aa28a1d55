"""A real `flowc ui` process: port 0, the address record it leaves in the
datastore, `flowc run` printing the run's page while it serves (and nothing
once it stopped), a clear message when the ui extra is missing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ui.conftest import flowc


def start_ui(datastore: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "flowc", "ui", "--datastore", str(datastore), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    line = proc.stdout.readline()
    match = re.fullmatch(rf"flowc ui: {re.escape(str(datastore))} at (http://127\.0\.0\.1:(\d+))/ \(Ctrl-C to stop\)\n",
                         line)
    if not match:
        proc.kill()
        pytest.fail(f"unexpected first line {line!r}; stderr: {proc.stderr.read()}")
    assert int(match.group(2)) > 0
    return proc, match.group(1)


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out, err


def test_flowc_run_prints_the_runs_page_while_a_ui_serves_its_datastore(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    proc, url = start_ui(ds)
    try:
        record = json.loads((ds / ".flowc-ui.json").read_text())
        assert record["pid"] == proc.pid and url == f"http://127.0.0.1:{record['port']}"
        run = flowc("run", "examples/foreach_flow.py", "--datastore", str(ds), "--count", "2")
        page = f"{url}/runs/ForeachFlow/1"
        assert f"View it: {page}\n" in run.stderr, run.stderr
        with urllib.request.urlopen(page, timeout=30) as response:  # the page is there, over real HTTP
            assert response.status == 200 and "ForeachFlow/1" in response.read().decode()
    finally:
        out, _ = stop(proc)
    assert out.endswith("flowc ui: stopped\n")
    assert not (ds / ".flowc-ui.json").exists()  # removed on exit
    again = flowc("run", "examples/foreach_flow.py", "--datastore", str(ds), "--count", "2")
    assert "View it" not in again.stderr + again.stdout and "http://" not in again.stderr + again.stdout


def test_a_stale_record_is_ignored(tmp_path: Path) -> None:
    from flowc.runtime.storage import open_storage
    from flowc.ui import address

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    storage = open_storage(str(tmp_path))
    address.publish(storage, "127.0.0.1", 9)
    record = json.loads((tmp_path / address.RECORD).read_text())
    (tmp_path / address.RECORD).write_text(json.dumps({**record, "pid": int(dead.stdout)}))
    assert address.run_page(storage, "F", "1") is None  # its process is gone
    (tmp_path / address.RECORD).write_text(json.dumps({**record, "machine": "elsewhere"}))
    assert address.run_page(storage, "F", "1") is None  # another machine's loopback
    (tmp_path / address.RECORD).write_text(json.dumps(record))
    assert address.run_page(storage, "F", "1") is None  # alive (this process) but nothing listens on port 9
    (tmp_path / address.RECORD).write_text("{not json")
    assert address.run_page(storage, "F", "1") is None
    address.withdraw(storage)  # not ours any more: left alone
    assert (tmp_path / address.RECORD).exists()


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = flowc("ui", "--datastore", str(tmp_path), "--port", str(port), check_code=2)
    assert result.stderr.startswith(f"flowc ui: cannot listen on 127.0.0.1:{port}: ") and "Traceback" not in result.stderr
    assert "--port 0 for a free one" in result.stderr


def test_without_the_ui_extra_flowc_ui_says_how_to_install_it(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['starlette'] = None; from flowc.cli import main; "
            f"sys.exit(main(['ui', '--datastore', {str(tmp_path)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                            env={**os.environ})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == ("flowc ui: the web UI needs starlette, not installed here: "
                             "pip install 'flowc[ui]'\n")
