"""`--config NAME PATH`, `--config-value NAME JSON` (Metaflow's spelling) and
an IncludeFile's `--NAME PATH` on `flowc run` and `flowc compile`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.artifacts import REPO, run_artifacts

COMPAT = REPO / "tests" / "flows" / "metaflow_compat"
TRAIN = COMPAT / "config_train.py"
INCLUDE = COMPAT / "include_csv.py"
OTHER = {"project": "other", "model": {"name": "cnn", "layers": [4]},
         "train": {"epochs": 1, "lr": 0.5, "memory": 8192, "cpu": 1}, "folds": ["x", "y"]}


def flowc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def run(flow: Path, ds: Path, *extra: str) -> dict:
    result = flowc("run", str(flow), "--datastore", str(ds), "--run-id", "r", "--quiet", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    name = {"config_train": "ConfigTrainFlow", "include_csv": "IncludeCsvFlow"}[flow.stem]
    return run_artifacts(str(ds), name, "r")


def test_config_file_and_value_overrides_reach_every_task_and_the_parameter_default(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps(OTHER))
    for how in (["--config", "cfg", str(other)], ["--config-value", "cfg", json.dumps(OTHER)]):
        arts = run(TRAIN, tmp_path / how[0].strip("-"), *how)
        assert sorted(arts["train"]) == ["0", "1"]  # the config's two folds
        for step, tasks in arts.items():
            for artifacts in tasks.values():
                assert artifacts["cfg"] == OTHER, step
                assert artifacts["lr"] == 0.5  # Parameter("lr", default=cfg.train.lr)
        assert arts["end"]["0"]["summary"] == "cnn: 2 folds, lr=0.5"


def test_a_flag_given_parameter_still_wins_over_its_config_default(tmp_path):
    arts = run(TRAIN, tmp_path / "ds", "--lr", "0.25")
    assert arts["start"]["0"]["lr"] == 0.25 and arts["start"]["0"]["cfg"]["train"]["lr"] == 0.01


def test_config_mistakes_on_the_command_line_exit_2_or_name_the_config(tmp_path):
    unknown = flowc("run", str(TRAIN), "--datastore", str(tmp_path), "--config", "cgf", "x.json")
    assert unknown.returncode == 2 and "has no config 'cgf'" in unknown.stderr and "'cfg'" in unknown.stderr
    both = flowc("run", str(TRAIN), "--datastore", str(tmp_path), "--config", "cfg", "a.json",
                 "--config-value", "cfg", "{}")
    assert both.returncode == 2 and "both as a file" in both.stderr
    missing = flowc("run", str(TRAIN), "--datastore", str(tmp_path), "--config", "cfg", str(tmp_path / "gone.json"))
    assert missing.returncode == 1 and "FC701" in missing.stdout + missing.stderr
    bad = flowc("run", str(TRAIN), "--datastore", str(tmp_path), "--config-value", "cfg", '{"train": {}}')
    assert bad.returncode == 1 and "FC703" in bad.stdout + bad.stderr and "cfg.train has no key" in bad.stdout + bad.stderr


def test_run_help_lists_the_config_and_included_file_options():
    assert "--config NAME PATH" in flowc("run", str(TRAIN), "--help").stdout
    assert "--data PATH" in flowc("run", str(INCLUDE), "--help").stdout


def test_an_included_file_is_read_from_the_given_path_and_reaches_every_task(tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("a,b,species\n1.0,2,x\n3.0,4,y\n")
    arts = run(INCLUDE, tmp_path / "ds", "--data", str(data))
    for tasks in arts.values():
        for artifacts in tasks.values():
            assert artifacts["data"] == data.read_text()
            assert artifacts["blob"] == (COMPAT / "data" / "blob.bin").read_bytes()
    assert arts["end"]["0"]["report"].startswith("2 species, mean length 2.0")
    gone = flowc("run", str(INCLUDE), "--datastore", str(tmp_path), "--data", str(tmp_path / "gone.csv"))
    assert gone.returncode == 2 and "--data" in gone.stderr and "no such file" in gone.stderr


def test_an_edited_config_file_is_read_again_by_the_next_run(tmp_path):
    folder = tmp_path / "proj"
    shutil.copytree(COMPAT, folder, ignore=shutil.ignore_patterns("__pycache__"))
    flow = folder / "config_train.py"
    assert run(flow, tmp_path / "ds1")["start"]["0"]["cfg"]["model"]["name"] == "mlp"
    (folder / "configs" / "train.json").write_text(json.dumps(OTHER))
    assert run(flow, tmp_path / "ds2")["start"]["0"]["cfg"]["model"]["name"] == "cnn"


def test_compile_takes_the_same_overrides(tmp_path):
    out = tmp_path / "wf.yaml"
    result = flowc("compile", str(TRAIN), "--target", "argo", "-o", str(out), "--config-value", "cfg", json.dumps(OTHER))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "memory: 8192M" in text and "flowc/project: other" in text and "value: '0.5'" in text
    assert '"cnn"' not in text  # config values travel in the IR inside the code package, not in the spec
    lone = flowc("compile", "--config", "cfg", "x.json")
    assert lone.returncode == 2 and "name its FLOW.py" in lone.stderr


def test_the_code_package_carries_the_included_files(tmp_path):
    result = flowc("package", str(INCLUDE), "--datastore", str(tmp_path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "data/iris.csv" in result.stderr and "data/blob.bin" in result.stderr


def test_resume_compiles_the_flow_with_the_configs_the_run_was_given(tmp_path):
    ds = tmp_path / "ds"
    run(TRAIN, ds, "--config-value", "cfg", json.dumps(OTHER))
    result = flowc("resume", "ConfigTrainFlow/r", "--from", "start", "--datastore", str(ds), "--run-id", "again",
                   "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    arts = run_artifacts(str(ds), "ConfigTrainFlow", "again")
    assert arts["start"]["0"]["cfg"] == OTHER and arts["start"]["0"]["lr"] == 0.5
    assert sorted(arts["train"]) == ["0", "1"]


def test_a_required_included_file_must_be_given(tmp_path):
    flow = tmp_path / "req.py"
    flow.write_text('from metaflow import FlowSpec, IncludeFile, step\n\n\nclass ReqFlow(FlowSpec):\n'
                    '    """Needs a file."""\n\n    data = IncludeFile("data", required=True)\n\n'
                    '    @step\n    def start(self):\n        self.n = len(self.data)\n        self.next(self.end)\n\n'
                    '    @step\n    def end(self):\n        pass\n')
    missing = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"))
    assert missing.returncode == 2 and "give --data PATH" in missing.stderr
    (tmp_path / "in.txt").write_text("hello")
    result = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r", "--quiet",
                   "--data", str(tmp_path / "in.txt"))
    assert result.returncode == 0, result.stderr
    assert run_artifacts(str(tmp_path / "ds"), "ReqFlow", "r")["end"]["0"]["n"] == 5


def test_a_flow_without_configs_keeps_its_parameter_named_config(tmp_path):
    flow = REPO / "examples" / "params_flow.py"
    result = flowc("run", str(flow), "--datastore", str(tmp_path), "--run-id", "r", "--quiet",
                   "--config", '{"names": ["x"]}')
    assert result.returncode == 0, result.stderr
    assert run_artifacts(str(tmp_path), "ParamsFlow", "r")["start"]["0"]["config"] == {"names": ["x"]}


def test_a_flow_importing_from_metaflow_runs_with_its_configs(tmp_path):
    folder = tmp_path / "proj"
    shutil.copytree(COMPAT, folder, ignore=shutil.ignore_patterns("__pycache__"))
    flow = folder / "config_formats.py"
    flow.write_text(flow.read_text().replace("from flowc import", "from metaflow import"))
    result = flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--run-id", "r", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    arts = run_artifacts(str(tmp_path / "ds"), "ConfigFormatsFlow", "r")
    assert arts["end"]["0"]["labels"] == {"labels": ["spam", "ham"], "threshold": 0.75}
    assert arts["end"]["0"]["tuning"] == {"batch": 16, "seeds": [1, 2]} and arts["end"]["0"]["seeds"] == [10, 20]
