"""`flowc compile --lint FILE...`, the flowc-check hook: only the named files
that are flows of their project are checked."""

from __future__ import annotations

from pathlib import Path

from tests.project.conftest import FLOWS, flowc, make_project

BROKEN = FLOWS["params_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)


def test_only_configured_flows_are_checked(tmp_path: Path) -> None:
    project = make_project(tmp_path, '[tool.flowc]\nflows = ["flows"]\nexclude = ["flows/old_*"]\ntargets = []\n')
    (project / "flows/helpers.py").write_text("def helper():\n    return 1\n")
    (project / "flows/old_params.py").write_text(BROKEN)  # excluded
    (project / "scripts").mkdir()
    (project / "scripts/broken_elsewhere.py").write_text(BROKEN)  # not under flows
    named = ["flows/helpers.py", "flows/old_params.py", "scripts/broken_elsewhere.py", "flows/foreach_flow.py",
             "README.md"]
    clean = flowc("compile", "--lint", *named, cwd=project)
    assert clean.code == 0 and clean.text == "", clean.text
    (project / "flows/params_flow.py").write_text(BROKEN)
    line = next(n for n, text in enumerate(BROKEN.splitlines(), 1) if "self.ned" in text)
    failed = flowc("compile", "--lint", *named, "flows/params_flow.py", cwd=project)
    assert failed.code == 1
    assert f"flows/params_flow.py:{line}:" in failed.out and "FC110" in failed.out and "hint:" in failed.out
    assert "checked 2 files, 2 flows: 1 error" in failed.err
    github = flowc("compile", "--lint", "--format", "github", "flows/params_flow.py", cwd=project)
    assert github.out.startswith(f"::error file=flows/params_flow.py,line={line},")
    assert flowc("compile", "--lint", cwd=project).code == 0  # nothing staged


def test_without_configuration_files_mentioning_flowspec_are_flows(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "flow.py").write_text(BROKEN)
    (tmp_path / "util.py").write_text("x = 1\n")
    result = flowc("compile", "--lint", "flow.py", "util.py", cwd=tmp_path)
    assert result.code == 1 and "flow.py:" in result.out and "util.py" not in result.text


def test_each_file_is_judged_by_its_own_project(tmp_path: Path) -> None:
    """A repository with two projects: each file's nearest pyproject.toml decides."""
    make_project(tmp_path / "a", '[tool.flowc]\nflows = ["flows"]\n', flows={"p.py": BROKEN})
    make_project(tmp_path / "b", '[tool.flowc]\nflows = ["pipelines"]\n', flows={"p.py": BROKEN})
    (tmp_path / "b/pipelines").mkdir()
    result = flowc("compile", "--lint", "a/flows/p.py", "b/flows/p.py", cwd=tmp_path)
    assert result.code == 1
    assert "checked 1 file, 1 flow: 1 error" in result.err  # b/flows is not b's flow folder
