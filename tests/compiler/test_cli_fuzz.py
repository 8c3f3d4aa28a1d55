"""Random command lines never end in an internal error or a traceback.

The CLI runs in this process (flowc.cli.main) with the current folder in a tmp
copy of examples/, so whatever a command writes stays there. Left out, because
they start long or outside work: `worker` (it polls SQS), `ui` (it serves
until stopped; tests/ui runs it), and real runs: every
`run` gets `--plan`, which parses the flow's parameters and stops before a task
starts. One tiny run (LinearFlow/1) is made first so that show, logs and resume
meet a real run; every `resume` ends with `--from` naming no step, so it stops
before it reruns anything. Words have no `/` and no
`://`, so no path or URL leaves the tmp folder (`..` reaches at most its parent, also tmp).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO

from flowc.cli import COMMANDS, command_parser, main

COMMAND_NAMES = sorted(set(COMMANDS) - {"worker", "ui"})
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.py"))
PARAMS = sorted({m for p in (REPO / "examples").glob("*.py")
                 for m in re.findall(r"Parameter\(\s*[\"']([\w-]+)", p.read_text())})
OPTIONS = {name: sorted({o for a in command_parser(name)._actions for o in a.option_strings})
           for name in COMMAND_NAMES}
WORDS = ["argo", "airflow", "prefect", "stepfunctions", "argoo", "start", "end", "ParamsFlow", "NoFlow",
         "ParamsFlow/1", "1", "0", "-1", "x=1", "image=x", "true", "json", "text", "github", "dot", "mermaid",
         "memory://ds", "s3x://ds", "linear.py", "out", "out.py", ".", "..", "missing.py", "examples", "--", "-", "=",
         "FLOW/RUN/STEP/TASK", "a/b", "/", "badcfg", "badcfg/params_flow.py",
         "linear.py", "LinearFlow", "LinearFlow/1", "LinearFlow/1/a", "LinearFlow/1/a/1", "LinearFlow/2",
         "LinearFlow/1/nostep", "LinearFlow/1/a/99", "1/a"]
LINEAR_STEPS = {"start", "a", "b", "end"}
JUNK = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_=.,:@% ", max_size=12).filter(lambda w: "/" not in w)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli_fuzz")
    shutil.copytree(REPO / "examples", root / "examples")
    (root / "examples" / "badcfg").mkdir()  # a project whose pyproject.toml is not TOML
    shutil.copy(REPO / "examples" / "params_flow.py", root / "examples" / "badcfg")
    (root / "examples" / "badcfg" / "pyproject.toml").write_text("[tool.flowc\nflows = ")
    shutil.copy(REPO / "tests" / "flows" / "linear.py", root / "examples")
    before = os.getcwd()
    os.chdir(root / "examples")
    try:
        code, text = call(["run", "linear.py", "-q"])
    finally:
        os.chdir(before)
    assert code == 0, text
    return root / "examples"


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(COMMAND_NAMES) | JUNK)
    options = OPTIONS.get(command, [])
    token = st.one_of(
        st.sampled_from(options or ["--help"]),
        st.sampled_from(["--" + p for p in PARAMS] + ["--" + p[:2] for p in PARAMS]),
        st.sampled_from(EXAMPLES),
        st.sampled_from(WORDS),
        JUNK,
    )
    argv = [command, *draw(st.lists(token, max_size=6))]
    if command == "run":
        argv.append("--plan")
    if command == "resume":  # never a real rerun: the last --from names no step
        argv += ["--from", draw(JUNK.filter(lambda w: w.strip() and w not in LINEAR_STEPS))]
    prefix = draw(st.sampled_from([[], [], ["--debug"], ["--version"]]))
    return [*prefix, *argv]


def call(argv: list[str]) -> tuple[int, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    out.flush()
    return code, out.buffer.getvalue().decode("utf-8", "replace") + err.getvalue()


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(argv=command_lines())
def test_random_command_lines_exit_cleanly(argv: list[str], workdir: Path, monkeypatch) -> None:
    monkeypatch.delenv("FLOWC_DEBUG", raising=False)
    monkeypatch.delenv("FLOWC_DATASTORE", raising=False)
    before = os.getcwd()
    os.chdir(workdir)
    try:
        code, text = call(argv)
    finally:
        os.chdir(before)
    assert code in (0, 1, 2, 130), (argv, code, text)
    assert "internal error" not in text, (argv, text)
    assert "Traceback" not in text, (argv, text)
