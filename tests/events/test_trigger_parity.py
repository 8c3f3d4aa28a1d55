"""`current.trigger` against Metaflow itself: the same two flows run by
`metaflow` (`run --trigger Ingest/ID`, Metaflow's local way to try
@trigger_on_finish) and by `flowc run --trigger`, and what the downstream
step read of its trigger compared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.artifacts import REPO  # noqa: F401 (the repository root on sys.path)

pytestmark = pytest.mark.engine

INGEST = '''
from metaflow import FlowSpec, step

class Ingest(FlowSpec):
    @step
    def start(self):
        self.rows = 42
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    Ingest()
'''

TRAIN = '''
import json
from metaflow import FlowSpec, current, step, trigger_on_finish

@trigger_on_finish(flow="Ingest")
class Train(FlowSpec):
    @step
    def start(self):
        t = current.trigger
        run = t.run
        self.seen = json.dumps({
            "event_name": t.event.name, "event_type": t.event.type, "events": len(t.events),
            "run_flow": run.pathspec.split("/")[0], "runs": len(t.runs),
            "rows": run["start"].task.data.rows, "by_name": t["Ingest"].pathspec == run.pathspec,
            "event_id_is_end_task": t.event.id.split("/")[2:3] == ["end"],
        }, sort_keys=True)
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    Train()
'''


def metaflow_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAFLOW_")}
    env.update(METAFLOW_USER=os.environ.get("METAFLOW_USER") or "flowc-parity", METAFLOW_HOME=str(root / "home"),
               METAFLOW_DATASTORE_SYSROOT_LOCAL=str(root / "sysroot"), METAFLOW_DEFAULT_DATASTORE="local",
               METAFLOW_DEFAULT_METADATA="local", PYTHONDONTWRITEBYTECODE="1")
    return env


def run(argv: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_current_trigger_reads_as_in_metaflow(tmp_path: Path):
    mf, fc = tmp_path / "mf", tmp_path / "fc"
    for folder in (mf, fc):
        folder.mkdir()
        (folder / "ingest.py").write_text(INGEST)
        (folder / "train.py").write_text(TRAIN)
    env = metaflow_env(mf)
    run(["ingest.py", "run"], mf, env)
    read = "from metaflow import Flow, namespace; namespace(None); print(Flow('{0}').latest_run.{1})"
    ingest_id = run(["-c", read.format("Ingest", "id")], mf, env).strip().splitlines()[-1]
    run(["train.py", "--trigger", f"Ingest/{ingest_id}", "run"], mf, env)  # a top-level option in Metaflow
    theirs = json.loads(run(["-c", read.format("Train", "data.seen")], mf, env).strip().splitlines()[-1])

    run(["-m", "flowc", "run", "ingest.py", "-q"], fc, dict(os.environ))
    run(["-m", "flowc", "run", "train.py", "-q", "--trigger", "Ingest/1"], fc, dict(os.environ))
    from flowc.runtime.client import Run

    ours = json.loads(Run("Train/1", str(fc / ".flowc"))["start"].task.data.seen)
    assert ours == theirs
    assert theirs["event_name"] == "metaflow.Ingest.end" and theirs["rows"] == 42
