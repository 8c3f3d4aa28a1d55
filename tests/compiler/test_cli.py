"""The command line of the front end: check, ir, graph, targets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def flowc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_check_clean_examples_exit_0() -> None:
    result = flowc("check", "examples")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 6 files, 6 flows: 0 errors" in result.stderr


def test_check_reports_every_error_at_once_and_exits_1(tmp_path: Path) -> None:
    for name in ("FC110_unknown_step.py", "FC201_read_unset.py", "FC403_bad_value.py"):
        shutil.copy(REPO / "tests" / "diagnostics" / name, tmp_path / name)
    result = flowc("check", str(tmp_path))
    assert result.returncode == 1
    codes = [line.split(" ")[2].rstrip(":") for line in result.stdout.splitlines() if ": error FC" in line]
    assert sorted(codes) == ["FC110", "FC201", "FC201", "FC403", "FC403", "FC403", "FC403"], result.stdout
    assert "^" in result.stdout and "hint:" in result.stdout


def test_folders_are_searched_recursively_and_only_for_flows(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "deep").mkdir(parents=True)
    shutil.copy(REPO / "tests/flows/linear.py", tmp_path / "pkg" / "deep" / "flow_a.py")
    (tmp_path / "pkg" / "helpers.py").write_text("def helper():\n    return 1\n")
    (tmp_path / ".venv").mkdir()
    shutil.copy(REPO / "tests/diagnostics/FC110_unknown_step.py", tmp_path / ".venv" / "ignored.py")
    result = flowc("check", str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert "checked 1 file, 1 flow" in result.stderr


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    shutil.copy(REPO / "tests/diagnostics/FC205_merge_conflict.py", tmp_path / "w.py")
    assert flowc("check", str(tmp_path / "w.py")).returncode == 0
    assert flowc("check", "--strict", str(tmp_path / "w.py")).returncode == 1


def test_json_format_for_editors() -> None:
    result = flowc("check", "--format", "json", "tests/diagnostics/FC110_unknown_step.py")
    assert result.returncode == 1
    (item,) = json.loads(result.stdout)
    assert item == {"code": "FC110", "severity": "error", "file": "tests/diagnostics/FC110_unknown_step.py",
                    "line": 7, "col": 19, "end_line": 7, "end_col": 29,
                    "message": "step 'start' goes to 'trian', which is not a step", "hint": "did you mean 'train'?"}


def test_github_format_annotations() -> None:
    result = flowc("check", "--format", "github", "tests/diagnostics/FC110_unknown_step.py",
                   "tests/diagnostics/FC205_merge_conflict.py")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=tests/diagnostics/FC110_unknown_step.py,line=7,col=19,endLine=7,endColumn=29,"
                               "title=FC110 transition to an unknown step::step 'start' goes to 'trian'")
    assert lines[1].startswith("::warning file=tests/diagnostics/FC205_merge_conflict.py,line=17,")


def test_unreadable_and_not_python_files_are_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00FlowSpec\x00")
    missing = tmp_path / "missing.py"
    result = flowc("check", str(tmp_path / "bin.py"), str(missing))
    assert result.returncode == 1
    assert result.stdout.count("error FC003") == 2 and "Traceback" not in result.stdout + result.stderr


def test_ir_prints_json_and_errors_go_to_stderr() -> None:
    ok = flowc("ir", "tests/flows/linear.py")
    assert ok.returncode == 0 and json.loads(ok.stdout)["name"] == "LinearFlow"
    bad = flowc("ir", "tests/diagnostics/FC110_unknown_step.py")
    assert bad.returncode == 1 and bad.stdout == "" and "FC110" in bad.stderr and "nothing was written" in bad.stderr


def test_several_flows_need_flow_flag() -> None:
    path = "tests/compiler/data/several_flows.py"
    assert flowc("check", path).returncode == 0
    ambiguous = flowc("ir", path)
    assert ambiguous.returncode == 1 and "FC004" in ambiguous.stderr and "--flow" in ambiguous.stderr
    one = flowc("ir", path, "--flow", "SecondFlow")
    assert one.returncode == 0 and json.loads(one.stdout)["name"] == "SecondFlow"
    steps = [s["name"] for s in json.loads(one.stdout)["steps"]]
    assert steps == ["middle", "start", "end"]
    wrong = flowc("ir", path, "--flow", "Nope")
    assert wrong.returncode == 1 and "FirstFlow, SecondFlow" in wrong.stderr


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot"])
def test_graph_formats(fmt: str) -> None:
    result = flowc("graph", "tests/flows/branch_switch.py", "--format", fmt)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    if fmt == "mermaid":
        assert out.startswith("flowchart TD") and 's_left -.->|"fast"| s_fast' in out
        assert 's_join{{"join: join of branch in start"}}' in out
    elif fmt == "dot":
        import pydot

        (graph,) = pydot.graph_from_dot_data(out)
        edges = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in graph.get_edges()}
        assert ("left", "fast") in edges and ("right", "join") in edges
    else:
        assert "[switch on self.mode]  ? fast -> fast | slow -> slow" in out


def test_graph_marks_foreach_and_joins_distinctly() -> None:
    out = flowc("graph", "examples/nested_foreach.py", "--format", "mermaid").stdout
    assert '==>|"foreach models"|' in out and '==>|"foreach folds"|' in out
    assert "{{" in out  # joins are hexagons
    text = flowc("graph", "examples/nested_foreach.py").stdout
    assert "      score " in text  # two foreach levels deep, indented twice


def test_unknown_target_and_bad_usage_exit_2() -> None:
    assert flowc("compile", "examples/recsys.py", "--target", "nope").returncode == 2
    assert flowc("check", "--format", "yaml").returncode == 2


def inproc(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """flowc in this process: exit code and stderr."""
    from flowc.cli import main

    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [
    (["chek", "."], "did you mean 'check'?"),
    (["targets", "argoo"], "did you mean 'argo'?"),
    (["compile", "examples/recsys.py", "-t", "airfow"], "did you mean 'airflow'?"),
    (["compile", "examples/recsys.py", "-t", "argo", "--imag", "x"], "did you mean '--image'?"),
    (["check", "examples", "--flw", "X"], "did you mean '--flow'?"),
    (["check", "examples/params_flow.py", "--flow", "ParamFlow"], "did you mean 'ParamsFlow'?"),
    (["runs", "--datastore", "s3x://bucket"], "did you mean 's3'?"),
    (["show", "LinearFlow/1", "--datastore", "examples/params_flow.py"], "is a file"),
    (["run", "examples/params_flow.py", "--max-workers", "0", "--plan"], "must be 1 or more"),
    (["resume", "ParamsFlow/"], "FLOW/RUN_ID"),
])
def test_user_mistakes_are_one_line_exit_2_with_did_you_mean(argv, says, capsys, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    code, err = inproc(argv, capsys)
    assert code == 2, err
    assert says in err, err
    assert "internal error" not in err and "Traceback" not in err


def test_a_parameter_prefix_of_a_flowc_option_reaches_the_flow(tmp_path: Path, capsys) -> None:
    # --n was taken as an abbreviation of --no-environments, and --data of --datastore
    flow = tmp_path / "f.py"
    flow.write_text(
        "from flowc import FlowSpec, Parameter, step\n\n\nclass F(FlowSpec):\n"
        "    n = Parameter('n', default=1)\n    data = Parameter('data', default='x')\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    code, err = inproc(["run", str(flow), "--n", "1000", "--data", "hello", "--plan"], capsys)
    assert code == 0, err
    code, err = inproc(["run", str(flow), "--nn", "3", "--plan"], capsys)
    assert code == 2 and "unknown option --nn" in err


def test_run_options_and_the_reserved_parameter_names_are_one_list() -> None:
    from flowc.cli import command_parser
    from flowc.compiler.cli_options import reserved_parameter_names

    for command in ("run", "resume"):
        flags = {o for a in command_parser(command)._actions for o in a.option_strings if o.startswith("--")}
        assert {f[2:] for f in flags} <= reserved_parameter_names(), command


def test_check_flow_narrows_to_one_flow(tmp_path: Path) -> None:
    shutil.copy(REPO / "tests/diagnostics/FC306_parameter_is_an_option.py", tmp_path / "bad.py")
    shutil.copy(REPO / "examples/params_flow.py", tmp_path / "good.py")
    assert flowc("check", str(tmp_path), "--flow", "ParamsFlow").returncode == 0
    bad = flowc("check", str(tmp_path), "--flow", "OptionNames")
    assert bad.returncode == 1 and "FC306" in bad.stdout


def test_python_output_without_py_is_refused(tmp_path: Path) -> None:
    result = flowc("compile", "examples/params_flow.py", "-t", "airflow", "-o", str(tmp_path / "airflow"))
    assert result.returncode == 2 and ".py" in result.stderr
    assert not (tmp_path / "airflow").exists()
    assert flowc("compile", "examples/params_flow.py", "-t", "airflow", "-o", str(tmp_path / "dag.py")).returncode == 0


def test_one_shot_commands_exit_without_losing_output_or_the_exit_code(tmp_path: Path) -> None:
    """check, ir, compile... leave by os._exit (cli.run): what they printed must
    still reach a pipe, however large, and the exit code must be the command's."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from gen import linear_flow
    finally:
        sys.path.pop(0)
    flow = tmp_path / "big.py"
    flow.write_text(linear_flow(300))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout block-buffered, as usual
    result = subprocess.run([sys.executable, "-m", "flowc", "ir", str(flow)], capture_output=True, text=True,
                            cwd=REPO, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # all of it: a truncated document would not load
    assert len(result.stdout) > 200_000 and len(data["steps"]) == 300
    small = REPO / "tests" / "flows" / "linear.py"  # an output smaller than the buffer: all of it waits there
    result = subprocess.run([sys.executable, "-m", "flowc", "graph", str(small)], capture_output=True, text=True,
                            cwd=REPO, timeout=120, env=env)
    assert result.returncode == 0 and result.stdout.splitlines()[-1].split() == ["end", "[end]"], result.stdout
    broken = tmp_path / "broken.py"
    broken.write_text(flow.read_text().replace("self.next(self.step_7)", "self.next(self.step_x)"))
    result = flowc("check", str(broken))
    assert result.returncode == 1 and "FC110" in result.stdout and "1 error" in result.stderr, result.stdout
    out = tmp_path / "flow.yaml"
    result = flowc("compile", str(flow), "--target", "argo", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().count("big.py:") >= 300  # every task points back to its line


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_help_reads_as_with_argparse_own_formatter(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's formatter asks the terminal its width only when help is printed
    (runtime/help_format.py); the help it prints is argparse's own, at any width."""
    import argparse

    from flowc import cli
    from flowc.runtime import help_format

    monkeypatch.setenv("COLUMNS", columns)
    ours = cli.build_parser()
    ours_helps = [ours.format_help()] + [cli.command_parser(name).format_help() for name in cli.COMMANDS]
    cli._PARSERS.clear()
    monkeypatch.setattr(help_format, "LazyWidthFormatter", argparse.HelpFormatter)
    stock = cli.build_parser()
    stock_helps = [stock.format_help()] + [cli.command_parser(name).format_help() for name in cli.COMMANDS]
    cli._PARSERS.clear()
    assert ours_helps == stock_helps


def test_a_command_that_prints_no_help_asks_the_terminal_nothing() -> None:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "flowc", "check", "-q", "examples/foreach_flow.py"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    loaded = {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "flowc.compiler.pipeline" in loaded and "shutil" not in loaded
