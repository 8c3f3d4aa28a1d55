"""Events on one machine: publishing from steps, end events, `flowc run --trigger`,
`current.trigger`, and `flowc trigger` following a chain of flows."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from flowc.runtime.client import Run

INGEST = '''
from flowc import FlowSpec, step, trigger
import flowc.events

@trigger(event="kickoff")
class Ingest(FlowSpec):
    @step
    def start(self):
        self.rows = 42
        flowc.events.publish("data_ready", {"table": "sales", "rows": 42})
        self.next(self.end)

    @step
    def end(self):
        pass
'''

TRAIN = '''
from metaflow import FlowSpec, step, current, trigger_on_finish

@trigger_on_finish(flow="Ingest")
class Train(FlowSpec):
    @step
    def start(self):
        t = current.trigger
        self.upstream = t.run.pathspec
        self.upstream_rows = t.run["start"].task.data.rows
        self.by_name = t["Ingest"].pathspec
        self.kind = t.event.type
        self.next(self.end)

    @step
    def end(self):
        self.seen_in_end = current.trigger.run.pathspec
'''

REPORT = '''
from metaflow import FlowSpec, Parameter, current, step, trigger
from metaflow.integrations import ArgoEvent

@trigger(event={"name": "data_ready", "parameters": {"table_name": "table"}})
class Report(FlowSpec):
    table_name = Parameter("table_name", default="none")
    limit = Parameter("limit", default=5)

    @step
    def start(self):
        self.got = (self.table_name, self.limit, current.trigger.event.name, current.trigger.event.payload)
        ArgoEvent(name="report_done").add_to_payload("table", self.table_name).publish()
        self.next(self.end)

    @step
    def end(self):
        pass
'''

BOTH = '''
from flowc import FlowSpec, step, trigger, current

@trigger(events=["report_done", "approved"])
class Both(FlowSpec):
    @step
    def start(self):
        self.names = sorted(e.name for e in current.trigger.events)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def flowc(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in (("ingest.py", INGEST), ("train.py", TRAIN), ("report.py", REPORT), ("both.py", BOTH)):
        (tmp_path / name).write_text(text)
    return tmp_path


def data(root: Path, pathspec: str):
    return Run(pathspec, str(root / ".flowc"))


def log(root: Path) -> list[dict]:
    path = root / ".flowc" / "events" / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_run_keeps_what_its_steps_publish_and_its_end_event(project: Path):
    done = flowc("run", "ingest.py", "-q", cwd=project)
    assert done.returncode == 0, done.stderr
    names = [(e["name"], e["type"]) for e in log(project)]
    assert names == [("data_ready", "event"), ("metaflow.Ingest.end", "run")]
    end = log(project)[-1]
    assert end["id"] == end["payload"]["pathspec"] == "Ingest/1/end/0"
    kept = json.loads((project / ".flowc" / "Ingest" / "runs" / "1" / "start" / "0" / "events.json").read_text())
    assert kept[0]["payload"] == {"table": "sales", "rows": 42}


def test_run_trigger_gives_current_trigger_run(project: Path):
    assert flowc("run", "ingest.py", "-q", cwd=project).returncode == 0
    done = flowc("run", "train.py", "-q", "--trigger", "Ingest/1", cwd=project)
    assert done.returncode == 0, done.stderr
    start = data(project, "Train/1")["start"].task.data
    assert (start.upstream, start.upstream_rows, start.by_name, start.kind) == ("Ingest/1", 42, "Ingest/1", "run")
    assert data(project, "Train/1")["end"].task.data.seen_in_end == "Ingest/1"


def test_run_trigger_of_an_unfinished_run_is_refused(project: Path):
    done = flowc("run", "train.py", "--trigger", "Ingest/7", cwd=project)
    assert done.returncode == 2 and "has not finished successfully" in done.stderr


def test_an_event_maps_its_payload_to_parameters_and_the_command_line_wins(project: Path):
    event = json.dumps({"name": "data_ready", "payload": {"table": "orders"}})
    assert flowc("run", "report.py", "-q", "--trigger", event, cwd=project).returncode == 0
    assert data(project, "Report/1")["start"].task.data.got == ("orders", 5, "data_ready", {"table": "orders"})
    assert flowc("run", "report.py", "-q", "--trigger", event, "--table_name", "mine", cwd=project).returncode == 0
    assert data(project, "Report/2")["start"].task.data.got[0] == "mine"


def test_an_untriggered_run_has_no_trigger(tmp_path: Path):
    (tmp_path / "plain.py").write_text(
        "from flowc import FlowSpec, current, step, trigger\n\n@trigger(event='e')\nclass Plain(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.trigger_is_none = current.trigger is None\n"
        "        self.next(self.end)\n    @step\n    def end(self):\n        pass\n")
    assert flowc("run", "plain.py", "-q", cwd=tmp_path).returncode == 0
    assert data(tmp_path, "Plain/1")["start"].task.data.trigger_is_none is True


def test_flowc_trigger_follows_the_chain_and_waits_for_all_events(project: Path):
    done = flowc("trigger", "kickoff", "-q", ".", cwd=project)
    assert done.returncode == 0, done.stderr
    started = [line for line in done.stdout.splitlines() if line.startswith("starting")]
    assert [s.split()[1] for s in started] == ["Ingest", "Report", "Train"]
    assert data(project, "Train/1")["start"].task.data.upstream == "Ingest/1"
    assert data(project, "Report/1")["start"].task.data.got[0] == "sales"
    assert not (project / ".flowc" / "Both").exists()  # report_done arrived, approved has not
    second = flowc("trigger", "approved", ".", cwd=project)
    assert second.returncode == 0, second.stderr
    assert "starting Both" in second.stdout and "1 run(s) started" in second.stdout
    assert data(project, "Both/1")["start"].task.data.names == ["approved", "report_done"]
    third = flowc("trigger", "approved", ".", cwd=project)  # report_done was used: Both waits again
    assert "0 run(s) started" in third.stdout


def test_a_flow_that_triggers_itself_is_stopped(tmp_path: Path):
    (tmp_path / "loop.py").write_text(
        "from flowc import FlowSpec, step, trigger_on_finish\n\n@trigger_on_finish(flow='Loop')\n"
        "class Loop(FlowSpec):\n    @step\n    def start(self):\n        self.next(self.end)\n"
        "    @step\n    def end(self):\n        pass\n")
    (tmp_path / "kick.py").write_text(
        "from flowc import FlowSpec, step, trigger\n\n@trigger(event='go')\nclass Loop2(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n    @step\n    def end(self):\n        pass\n")
    assert flowc("run", "loop.py", "-q", cwd=tmp_path).returncode == 0  # a first Loop: its end event is old
    quiet = flowc("trigger", "go", ".", cwd=tmp_path)
    assert quiet.returncode == 0 and "1 run(s) started" in quiet.stdout, quiet.stdout  # Loop2 only
    (tmp_path / "kick.py").write_text((tmp_path / "kick.py").read_text().replace("class Loop2", "class Kick"))
    chain = (tmp_path / "loop.py").read_text().replace("@trigger_on_finish(flow='Loop')",
                                                        "@trigger_on_finish(flows=['Loop'])")
    (tmp_path / "loop.py").write_text(chain)
    flowc("run", "loop.py", "-q", cwd=tmp_path)  # a new end event of Loop, newer than Loop's last start
    done = flowc("trigger", "go", "--max-runs", "3", ".", cwd=tmp_path)
    assert done.returncode == 1 and "stopped after 3 runs" in done.stderr, done.stdout + done.stderr


def test_events_go_to_a_webhook(project: Path):
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/flowc"
        done = flowc("run", "ingest.py", "-q", cwd=project, env={"FLOWC_EVENTS": url})
        assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
    assert [e["name"] for e in received] == ["data_ready", "metaflow.Ingest.end"]
    assert not log(project)  # the webhook, not the local log


def test_an_unknown_backend_fails_the_publishing_step_with_its_name(project: Path):
    done = flowc("run", "ingest.py", cwd=project, env={"FLOWC_EVENTS": "carrier-pigeon:x"})
    assert done.returncode != 0 and "unknown event backend 'carrier-pigeon'" in done.stderr


def test_bad_payload_is_a_usage_error(project: Path):
    done = flowc("trigger", "kickoff", "--payload", "[1]", cwd=project)
    assert done.returncode == 2 and "JSON object" in done.stderr and "Traceback" not in done.stderr


def test_a_resumed_run_keeps_its_trigger(project: Path):
    assert flowc("run", "ingest.py", "-q", cwd=project).returncode == 0
    failing = project / "train.py"
    failing.write_text(TRAIN.replace("self.seen_in_end = current.trigger.run.pathspec",
                                     "self.seen_in_end = current.trigger.run.pathspec\n        assert Path('ok').exists()")
                       .replace("import FlowSpec", "import FlowSpec").replace("\nfrom metaflow", "\nfrom pathlib import Path\nfrom metaflow", 1))
    assert flowc("run", "train.py", "-q", "--trigger", "Ingest/1", cwd=project).returncode == 1
    (project / "ok").write_text("")
    done = flowc("resume", "Train/1", "-q", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert data(project, "Train/2")["end"].task.data.seen_in_end == "Ingest/1"


def test_an_in_process_run_leaves_the_environment_alone(project: Path, monkeypatch):
    """The event backend reaches the run's tasks, not the process that ran it (a
    notebook or a test calling flowc.cli.main would send later runs' events astray)."""
    from flowc.cli import main

    monkeypatch.chdir(project)
    monkeypatch.delenv("FLOWC_EVENTS", raising=False)
    before = dict(os.environ)
    assert main(["run", "ingest.py", "-q"]) == 0
    assert dict(os.environ) == before
    assert [e["name"] for e in log(project)] == ["data_ready", "metaflow.Ingest.end"]
