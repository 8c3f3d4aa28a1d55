"""`flowc compile` with no FLOW.py: every configured flow for every
configured target, into each target's folder, with a manifest; only changed
files are rewritten; `--check` and `--diff` for CI."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from flowc import __version__
from tests.project.conftest import FLOWS, PYPROJECT, files_under, flowc, make_project

AIRFLOW = ["dags/ForeachFlow.py", "dags/ParamsFlow.py", "dags/SwitchFlow.py"]
SFN = [f"generated/stepfunctions/{flow}/{flow}.{kind}.json" for flow in ("ForeachFlow", "ParamsFlow", "SwitchFlow")
       for kind in ("asl", "batch-jobs", "template")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stamps(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def compile_ok(project: Path, *args: str):
    result = flowc("compile", *args, cwd=project)
    assert result.code == 0, result.text
    return result


def test_every_flow_for_every_target_with_a_manifest(project: Path) -> None:
    result = compile_ok(project)
    files = files_under(project)
    assert sorted(f for f in files if f.startswith(("dags/", "generated/"))) == sorted(
        AIRFLOW + SFN + ["dags/flowc-manifest.json", "generated/stepfunctions/flowc-manifest.json"])
    assert "3 flow files, 2 targets: 12 generated files, 14 written" in result.err
    # the same bytes `flowc compile FLOW.py --target T` writes
    single = flowc("compile", "flows/switch_flow.py", "--target", "airflow", "-o", "single/", cwd=project)
    assert single.code == 0, single.err
    assert files["dags/SwitchFlow.py"] == (project / "single/SwitchFlow.py").read_bytes()
    # the pyproject's options reached the target
    assert b"data" in files["dags/SwitchFlow.py"] and b"s3://team-bucket/flows" in files["dags/SwitchFlow.py"]
    manifest = json.loads(files["dags/flowc-manifest.json"])
    assert manifest["target"] == "airflow" and manifest["flowc_version"] == __version__
    assert set(manifest["files"]) == {"ForeachFlow.py", "ParamsFlow.py", "SwitchFlow.py"}
    for name, rec in manifest["files"].items():
        assert rec["sha256"] == sha(files[f"dags/{name}"])
        assert rec["source_sha256"] == sha(files[rec["source"]])
        assert rec["flow"] == name[:-3]
        assert rec["code_package"].startswith(f"s3://team-bucket/flows/{rec['flow']}/packages/")
    sfn = json.loads(files["generated/stepfunctions/flowc-manifest.json"])
    assert sfn["target"] == "stepfunctions"
    assert sfn["files"]["SwitchFlow/SwitchFlow.asl.json"]["source"] == "flows/switch_flow.py"


def test_compile_is_deterministic_and_holds_no_path_of_this_machine(tmp_path: Path) -> None:
    a = make_project(tmp_path / "one" / "a")
    b = make_project(tmp_path / "elsewhere" / "deeper" / "b")
    compile_ok(a)
    compile_ok(b, "--project", str(b))  # from another folder, too
    generated_a = {k: v for k, v in files_under(a).items() if not k.startswith("flows/")}
    generated_b = {k: v for k, v in files_under(b).items() if not k.startswith("flows/")}
    assert generated_a == generated_b
    for data in generated_a.values():
        assert str(tmp_path).encode() not in data
    # a second compile, forced, writes the very same bytes
    compile_ok(a, "--force")
    assert {k: v for k, v in files_under(a).items() if not k.startswith("flows/")} == generated_a


def test_only_changed_files_are_rewritten(project: Path) -> None:
    compile_ok(project)
    before = stamps(project)
    again = compile_ok(project)
    assert "0 written" in again.err and stamps(project) == before
    flow = project / "flows/params_flow.py"
    flow.write_text(flow.read_text() + "\n# a comment\n")  # new bytes: a new code package, so new outputs
    changed = compile_ok(project)
    after = stamps(project)
    touched = sorted(k for k in after if after[k] != before.get(k))
    assert touched == ["dags/ParamsFlow.py", "dags/flowc-manifest.json", "flows/params_flow.py",
                       "generated/stepfunctions/ParamsFlow/ParamsFlow.asl.json",
                       "generated/stepfunctions/ParamsFlow/ParamsFlow.batch-jobs.json",
                       "generated/stepfunctions/ParamsFlow/ParamsFlow.template.json",
                       "generated/stepfunctions/flowc-manifest.json"], changed.err


def test_a_flow_whose_inputs_did_not_change_is_not_compiled_again(project: Path, monkeypatch) -> None:
    from flowc.commands import _project

    compile_ok(project)
    seen = []
    real = _project._Inputs.analysis

    def counting(self, rel):
        seen.append(rel)
        return real(self, rel)

    monkeypatch.setattr(_project._Inputs, "analysis", counting)
    compile_ok(project)
    assert seen == []
    (project / "flows/foreach_flow.py").write_text(FLOWS["foreach_flow.py"].replace("default=5", "default=6"))
    result = compile_ok(project)
    assert seen == ["flows/foreach_flow.py"]
    assert "wrote dags/ForeachFlow.py" in result.err and "ParamsFlow" not in result.err
    # a generated file edited by hand is put back
    seen.clear()
    (project / "dags/SwitchFlow.py").write_text("# edited\n")
    result = compile_ok(project)
    assert seen == ["flows/switch_flow.py"] and "wrote dags/SwitchFlow.py" in result.err
    # a module beside the flow is one of its inputs
    (project / "flows/helpers.py").write_text("FACTOR = 2\n")
    flow = FLOWS["switch_flow.py"].replace("from flowc import", "from helpers import FACTOR\nfrom flowc import")
    (project / "flows/switch_flow.py").write_text(flow)
    compile_ok(project)
    manifest = json.loads((project / "dags/flowc-manifest.json").read_text())
    assert manifest["sources"]["flows/switch_flow.py"]["modules"] == {"helpers.py": sha(b"FACTOR = 2\n")}
    seen.clear()
    (project / "flows/helpers.py").write_text("FACTOR = 3\n")
    compile_ok(project)
    assert seen == ["flows/switch_flow.py"]
    # settings are inputs too
    seen.clear()
    text = (project / "pyproject.toml").read_text().replace('namespace = "data"', 'namespace = "prod"')
    (project / "pyproject.toml").write_text(text)
    result = compile_ok(project)
    assert sorted(seen) == ["flows/foreach_flow.py", "flows/params_flow.py", "flows/switch_flow.py"]
    assert result.err.count("wrote dags/") == 4 and "wrote generated" not in result.err.replace(
        "wrote generated/stepfunctions/flowc-manifest.json", "")


def test_fail_on_change_is_for_the_pre_commit_hook(project: Path) -> None:
    first = flowc("compile", "--fail-on-change", cwd=project)
    assert first.code == 1 and "generated files changed; add them to the commit" in first.err
    assert flowc("compile", "--fail-on-change", cwd=project).code == 0
    (project / "dags/ParamsFlow.py").unlink()
    assert flowc("compile", "--fail-on-change", cwd=project).code == 1
    assert flowc("compile", "--fail-on-change", "--quiet", cwd=project).text == ""


def test_removed_flows_lose_their_files_but_nothing_else_is_deleted(project: Path) -> None:
    compile_ok(project)
    (project / "dags/mine.py").write_text("# a DAG written by hand\n")
    (project / "flows/params_flow.py").unlink()
    result = compile_ok(project)
    assert "removed dags/ParamsFlow.py" in result.err
    assert not (project / "dags/ParamsFlow.py").exists()
    assert not (project / "generated/stepfunctions/ParamsFlow").exists()
    assert (project / "dags/mine.py").read_text() == "# a DAG written by hand\n"
    # a generated file someone changed is not flowc's to delete
    (project / "dags/SwitchFlow.py").write_text("# taken over\n")
    (project / "flows/switch_flow.py").unlink()
    result = compile_ok(project)
    assert "kept dags/SwitchFlow.py" in result.err and "changed since flowc wrote it" in result.err
    assert (project / "dags/SwitchFlow.py").read_text() == "# taken over\n"
    assert "SwitchFlow.py" not in json.loads((project / "dags/flowc-manifest.json").read_text())["files"]


def test_errors_write_nothing(project: Path) -> None:
    broken = FLOWS["switch_flow.py"].replace("self.next(self.end)", "self.next(self.ned)", 1)
    assert broken != FLOWS["switch_flow.py"]
    (project / "flows/switch_flow.py").write_text(broken)
    result = flowc("compile", cwd=project)
    assert result.code == 1
    assert "flows/switch_flow.py:" in result.err and "FC110" in result.err and "nothing was written" in result.err
    assert not (project / "dags").exists() and not (project / "generated").exists()
    github = flowc("compile", "--format", "github", cwd=project)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "self.ned" in text)
    assert f"::error file=flows/switch_flow.py,line={line}," in github.out


def test_a_construct_a_target_cannot_express_fails_before_writing(tmp_path: Path, monkeypatch) -> None:
    from flowc.targets import base, registry

    class NoForeach(base.Target):
        """A target without foreach (registered for this test only)."""

        name = "noforeach"
        CAPABILITIES = {c: base.yes() for c in base.CONSTRUCTS if c != "foreach"}

        def emit(self, flow):
            return {f"{flow.name}.txt": flow.name.encode()}

    monkeypatch.setitem(registry._loaded, "noforeach", NoForeach)
    project = make_project(tmp_path / "p", '[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow", "noforeach"]\n')
    result = flowc("compile", cwd=project)
    assert result.code == 1 and "FC501" in result.err and "noforeach: the foreach in step 'start'" in result.err
    assert "flows/foreach_flow.py:" in result.err and "nothing was written" in result.err
    assert not (project / "generated").exists()
    # compiling only the target that can express it works
    assert flowc("compile", "--target", "airflow", cwd=project).code == 0
    assert (project / "generated/airflow/ForeachFlow.py").exists() and not (project / "generated/noforeach").exists()
    # or the user may accept the loss, loudly
    warned = flowc("compile", "--unsupported", "warn", cwd=project)
    assert warned.code == 0 and "warning FC501" in warned.err
    assert (project / "generated/noforeach/SwitchFlow.txt").read_text() == "SwitchFlow"


def test_check_lists_missing_and_stale_files_and_why(project: Path) -> None:
    never = flowc("compile", "--check", cwd=project)
    assert never.code == 1
    assert "dags/ForeachFlow.py: missing: never compiled" in never.out
    assert "dags/flowc-manifest.json: missing" in never.out
    assert not (project / "dags").exists()  # --check writes nothing
    compile_ok(project)
    clean = flowc("compile", "--check", cwd=project)
    assert clean.code == 0 and clean.out == "" and "up to date" in clean.err
    (project / "flows/foreach_flow.py").write_text(FLOWS["foreach_flow.py"].replace("default=5", "default=7"))
    (project / "dags/SwitchFlow.py").write_text("# edited\n")
    (project / "dags/ParamsFlow.py").unlink()
    shutil.move(project / "flows/params_flow.py", project / "params_flow.py.bak")
    stale = flowc("compile", "--check", cwd=project)
    assert stale.code == 1
    out = stale.out
    assert "dags/ForeachFlow.py: stale: flows/foreach_flow.py changed since it was compiled" in out
    assert "dags/SwitchFlow.py: stale: edited by hand since flowc wrote it" in out
    assert ("generated/stepfunctions/ParamsFlow/ParamsFlow.asl.json: orphan: flow ParamsFlow no longer exists "
            "(flows/params_flow.py is gone)") in out
    assert "dags/ParamsFlow.py" not in out  # gone, as it should be
    assert "dags/flowc-manifest.json: stale" in out
    # settings
    compile_ok(project)
    (project / "pyproject.toml").write_text(PYPROJECT.replace('namespace = "data"', 'namespace = "prod"'))
    settings = flowc("compile", "--check", cwd=project)
    assert "dags/ForeachFlow.py: stale: the airflow settings changed since it was compiled" in settings.out
    assert "generated/stepfunctions" not in settings.out


def test_diff_shows_what_compile_would_change(project: Path) -> None:
    compile_ok(project)
    dag = project / "dags/ForeachFlow.py"
    original = dag.read_text()
    dag.write_text(original.replace("ForeachFlow", "HandEdited", 1))
    result = flowc("compile", "--check", "--diff", cwd=project)
    assert result.code == 1
    assert "--- a/dags/ForeachFlow.py\n+++ b/dags/ForeachFlow.py\n" in result.out
    removed = [line[1:] for line in result.out.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in result.out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 1 and "HandEdited" in removed[0] and "ForeachFlow" in added[0]
    # applying the diff gives exactly what compile writes
    dag.unlink()
    missing = flowc("compile", "--check", "--diff", cwd=project)
    assert "--- /dev/null\n+++ b/dags/ForeachFlow.py\n" in missing.out
    body = [line[1:] for line in missing.out.split("+++ b/dags/ForeachFlow.py\n")[1].splitlines()[1:]
            if line.startswith("+")]
    assert "\n".join(body) + "\n" == original


def test_check_annotations_point_at_the_flow(project: Path) -> None:
    compile_ok(project)
    (project / "flows/foreach_flow.py").write_text(FLOWS["foreach_flow.py"].replace("default=5", "default=9"))
    result = flowc("compile", "--check", "--format", "github", cwd=project)
    line = next(n for n, text in enumerate(FLOWS["foreach_flow.py"].splitlines(), 1) if text.startswith("class "))
    annotations = [x for x in result.out.splitlines() if x.startswith("::error ")]
    on_outputs = [a for a in annotations if "flowc-manifest.json is stale" not in a]
    assert len(on_outputs) == 4  # the DAG and the three Step Functions files
    assert all(a.startswith(f"::error file=flows/foreach_flow.py,line={line},") for a in on_outputs)
    assert "dags/ForeachFlow.py is stale: flows/foreach_flow.py changed since it was compiled" in on_outputs[0]
    manifests = [a for a in annotations if a not in on_outputs]
    assert [a.split(",")[0] for a in manifests] == ["::error file=dags/flowc-manifest.json",
                                                    "::error file=generated/stepfunctions/flowc-manifest.json"]


def test_output_folders_and_targets_from_flags(project: Path) -> None:
    result = flowc("compile", "--target", "stepfunctions", "--set", "output=build/x", "--set", "mode=worker",
                   "--set", "queue_url=https://sqs.example/q", cwd=project)
    assert result.code == 0, result.err
    asl = json.loads((project / "build/x/stepfunctions/ForeachFlow/ForeachFlow.asl.json").read_text())
    assert "sqs" in json.dumps(asl)
    assert not (project / "dags").exists()
    own = flowc("compile", "--target", "stepfunctions", "--set", "stepfunctions.output=sfn", cwd=project)
    assert own.code == 0 and (project / "sfn/ForeachFlow/ForeachFlow.asl.json").exists()
    clash = make_project(project.parent / "clash", PYPROJECT.replace('output = "dags"', 'output = "generated/x"')
                         + '\n[tool.flowc.stepfunctions]\noutput = "generated/x"\n')
    bad = flowc("compile", cwd=clash)
    assert bad.code == 2 and "targets airflow and stepfunctions both write to generated/x/" in bad.err
    outside = make_project(project.parent / "outside", PYPROJECT.replace('output = "dags"', 'output = "../dags"'))
    bad = flowc("compile", cwd=outside)
    assert bad.code == 2 and "must be a folder inside the project" in bad.err


def test_generated_folders_are_never_read_as_flows(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT.replace('flows = ["flows/"]', 'flows = ["."]'))
    compile_ok(project)
    (project / "dags/extra.py").write_text(FLOWS["foreach_flow.py"])  # a flow-looking file in an output folder
    listed = flowc("config", "--list-flows", cwd=project).out.split()
    assert listed == ["flows/foreach_flow.py", "flows/params_flow.py", "flows/switch_flow.py"]


def test_without_configuration_it_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    result = flowc("compile", cwd=tmp_path)
    assert result.code == 2 and "no targets" in result.err
    assert flowc("compile", "--check", "flows/a.py", cwd=tmp_path).code == 2
    assert "-o and --flow need a FLOW.py" in flowc("compile", "-o", "x", cwd=tmp_path).err


@pytest.mark.parametrize("target", ["argo", "prefect"])
def test_other_targets_lay_out_their_files(tmp_path: Path, target: str) -> None:
    project = make_project(tmp_path, f'[tool.flowc]\nflows = ["flows"]\ntargets = ["{target}"]\n')
    compile_ok(project)
    manifest = json.loads((project / f"generated/{target}/flowc-manifest.json").read_text())
    if target == "argo":  # one file per flow, side by side
        assert all("/" not in name and name.endswith(".yaml") for name in manifest["files"])
    else:  # several files per flow: a folder each
        assert {name.split("/")[0] for name in manifest["files"]} == {"ForeachFlow", "ParamsFlow", "SwitchFlow"}
    assert len({rec["flow"] for rec in manifest["files"].values()}) == 3
    assert flowc("compile", "--check", cwd=project).code == 0


def test_unusual_file_names_survive_the_manifest_and_annotations(tmp_path: Path) -> None:
    name = "flows/a, b: ünï $x {{y}}.py"
    project = make_project(tmp_path / "p", '[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow"]\n',
                           flows={name.split("/", 1)[1]: FLOWS["switch_flow.py"]})
    compile_ok(project)
    manifest = json.loads((project / "generated/airflow/flowc-manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["sources"]) == [name]
    assert manifest["files"]["SwitchFlow.py"]["source"] == name
    (project / name).write_text(FLOWS["switch_flow.py"] + "\n# changed\n")
    result = flowc("compile", "--check", "--format", "github", cwd=project)
    annotation = next(x for x in result.out.splitlines() if "SwitchFlow.py is stale" in x)
    # GitHub's escaping of a property: the file name comes back whole
    props = annotation.split("::")[1][len("error "):]
    file_prop = next(p for p in props.split(",") if p.startswith("file="))[len("file="):]
    assert file_prop.replace("%3A", ":").replace("%2C", ",").replace("%25", "%") == name


def test_another_flowc_means_compiling_again(project: Path, monkeypatch) -> None:
    from flowc.commands import _project

    compile_ok(project)
    manifest = project / "dags/flowc-manifest.json"
    manifest.write_text(manifest.read_text().replace(f'"flowc_version": "{__version__}"', '"flowc_version": "0.0.1"'))
    check = flowc("compile", "--check", cwd=project)
    assert check.code == 1
    assert f"dags/flowc-manifest.json: stale: written by flowc 0.0.1; this is flowc {__version__}" in check.out
    seen = []
    real = _project._Inputs.analysis
    monkeypatch.setattr(_project._Inputs, "analysis", lambda self, rel: seen.append(rel) or real(self, rel))
    assert flowc("compile", "--fail-on-change", cwd=project).code == 1
    assert sorted(seen) == ["flows/foreach_flow.py", "flows/params_flow.py", "flows/switch_flow.py"]
    # the same version built from other code (an edited checkout, say): the same
    seen.clear()
    monkeypatch.setattr(_project, "compiler_sha256", lambda: "0" * 64)
    check = flowc("compile", "--check", cwd=project)
    assert "written by another build of flowc" in check.out
    seen.clear()
    assert flowc("compile", cwd=project).code == 0
    assert sorted(seen) == ["flows/foreach_flow.py", "flows/params_flow.py", "flows/switch_flow.py"]


def test_a_config_file_the_flow_reads_is_one_of_its_inputs(project: Path) -> None:
    flow = FLOWS["foreach_flow.py"].replace("from flowc import", "from flowc import Config,").replace(
        "class ForeachFlow(FlowSpec):\n", 'class ForeachFlow(FlowSpec):\n    cfg = Config("cfg", default="conf.json")\n')
    assert "Config(" in flow
    (project / "flows/conf.json").write_text('{"mem": 1}')
    (project / "flows/foreach_flow.py").write_text(flow)
    compile_ok(project)
    manifest = json.loads((project / "dags/flowc-manifest.json").read_text())
    assert manifest["sources"]["flows/foreach_flow.py"]["modules"] == {"conf.json": sha(b'{"mem": 1}')}
    assert flowc("compile", "--check", cwd=project).code == 0
    (project / "flows/conf.json").write_text('{"mem": 2}')  # the IR, so the code package, changes
    stale = flowc("compile", "--check", cwd=project)
    assert stale.code == 1 and "ForeachFlow" in stale.text
