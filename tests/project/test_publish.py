"""`flowc publish`: to a folder and to a real S3 API (moto's server); only
changed files, each atomically; --prune removes only what flowc wrote;
--dry-run; kubectl for Argo; code packages."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from tests.project.conftest import FLOWS, files_under, flowc, make_project

DAGS = ["ForeachFlow.py", "ParamsFlow.py", "SwitchFlow.py"]


def stamps(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def compiled(project: Path) -> Path:
    result = flowc("compile", cwd=project)
    assert result.code == 0, result.text
    return project


def publish(project: Path, *args: str):
    return flowc("publish", "--target", "airflow", *args, cwd=project)


def test_publish_to_a_folder_writes_only_what_changed(project: Path, tmp_path: Path) -> None:
    compiled(project)
    dest = tmp_path / "airflow" / "dags"
    first = publish(project, "--to", str(dest))
    assert first.code == 0, first.text
    assert sorted(files_under(dest)) == sorted(DAGS + ["flowc-manifest.json"])
    assert files_under(dest) == {k: v for k, v in files_under(project / "dags").items()}
    assert f"write {dest}/ForeachFlow.py" in first.out and "3 written, 0 unchanged, 0 removed" in first.err
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in dest.iterdir())  # the scheduler must read them
    before = stamps(dest)
    again = publish(project, "--to", str(dest))
    assert again.code == 0 and again.out == "" and "0 written, 3 unchanged" in again.err
    assert stamps(dest) == before
    (project / "flows/params_flow.py").write_text(FLOWS["params_flow.py"] + "\n# changed\n")
    compiled(project)
    third = publish(project, "--to", str(dest))
    assert third.out.splitlines() == [f"write {dest}/ParamsFlow.py", f"write {dest}/flowc-manifest.json"]
    after = stamps(dest)
    assert sorted(k for k in after if after[k] != before[k]) == ["ParamsFlow.py", "flowc-manifest.json"]
    assert (dest / "ParamsFlow.py").read_bytes() == (project / "dags/ParamsFlow.py").read_bytes()


def test_dry_run_changes_nothing(project: Path, tmp_path: Path) -> None:
    compiled(project)
    dest = tmp_path / "dest"
    result = publish(project, "--to", str(dest), "--dry-run")
    assert result.code == 0
    assert result.out.splitlines() == [f"would write {dest}/{name}" for name in DAGS + ["flowc-manifest.json"]]
    assert "would publish airflow" in result.err
    assert not dest.exists()


def test_prune_removes_only_files_flowc_published(project: Path, tmp_path: Path) -> None:
    compiled(project)
    dest = tmp_path / "dest"
    publish(project, "--to", str(dest))
    (dest / "handwritten_dag.py").write_text("# not flowc's\n")
    (project / "flows/params_flow.py").unlink()
    (project / "flows/switch_flow.py").unlink()
    compiled(project)
    (dest / "SwitchFlow.py").write_text("# someone changed it after flowc published it\n")
    kept = publish(project, "--to", str(dest))
    assert kept.code == 0
    assert f"left {dest}/ParamsFlow.py: no flow generates it any more; --prune removes it" in kept.out
    assert f"left {dest}/SwitchFlow.py: no flow generates it any more, but it changed since flowc published it" \
        in kept.out
    assert (dest / "ParamsFlow.py").exists()
    # still flowc's: the destination's manifest remembers it, so a later --prune can remove it
    assert "ParamsFlow.py" in json.loads((dest / "flowc-manifest.json").read_text())["files"]
    dry = publish(project, "--to", str(dest), "--prune", "--dry-run")
    assert f"would remove {dest}/ParamsFlow.py (no flow generates it any more)" in dry.out
    assert (dest / "ParamsFlow.py").exists()
    pruned = publish(project, "--to", str(dest), "--prune")
    assert pruned.code == 0 and f"remove {dest}/ParamsFlow.py" in pruned.out
    assert sorted(files_under(dest)) == ["ForeachFlow.py", "SwitchFlow.py", "flowc-manifest.json",
                                         "handwritten_dag.py"]
    assert (dest / "handwritten_dag.py").read_text() == "# not flowc's\n"
    assert (dest / "SwitchFlow.py").read_text().startswith("# someone changed it")
    assert set(json.loads((dest / "flowc-manifest.json").read_text())["files"]) == {"ForeachFlow.py"}


def test_publish_refuses_what_it_cannot_vouch_for(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    none = publish(project, "--to", str(dest))
    assert none.code == 2 and "run `flowc compile` first" in none.err
    compiled(project)
    assert flowc("publish", "--to", str(dest), cwd=project).code == 2  # which target?
    (project / "flows/foreach_flow.py").write_text(FLOWS["foreach_flow.py"].replace("default=5", "default=6"))
    stale = publish(project, "--to", str(dest))
    assert stale.code == 2 and "flows/foreach_flow.py changed since they were compiled" in stale.err
    compiled(project)
    (project / "dags/SwitchFlow.py").write_text("# edited\n")
    edited = publish(project, "--to", str(dest))
    assert edited.code == 2 and "dags/SwitchFlow.py is missing or changed since flowc wrote it" in edited.err
    compiled(project)
    flowc("publish", "--target", "stepfunctions", "--to", str(dest), cwd=project)
    other = publish(project, "--to", str(dest))
    assert other.code == 2 and "holds stepfunctions's files" in other.err
    assert not dest.exists() or "ForeachFlow.py" not in os.listdir(dest)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "flowc-manifest.json").write_text("{not json")
    junk = publish(project, "--to", str(tmp_path / "junk"))
    assert junk.code == 2 and "not a flowc manifest" in junk.err


def test_each_file_is_written_atomically(project: Path, tmp_path: Path, monkeypatch) -> None:
    compiled(project)
    dest = tmp_path / "dest"
    publish(project, "--to", str(dest))
    old = files_under(dest)
    for flow in ("foreach_flow.py", "switch_flow.py"):
        (project / "flows" / flow).write_text(FLOWS[flow] + "\n# v2\n")
    compiled(project)
    real = os.replace
    calls = []

    def crash_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second)
    failed = publish(project, "--to", str(dest))
    monkeypatch.setattr(os, "replace", real)
    assert failed.code == 2 and "cannot publish to" in failed.err and "disk full" in failed.err
    now = files_under(dest)
    assert sorted(now) == sorted(old)  # no temporary file left behind
    assert now["ForeachFlow.py"] == (project / "dags/ForeachFlow.py").read_bytes()  # written whole
    assert now["SwitchFlow.py"] == old["SwitchFlow.py"]  # the old one, whole
    assert now["flowc-manifest.json"] == old["flowc-manifest.json"]  # the manifest goes last
    finished = publish(project, "--to", str(dest))
    assert finished.code == 0 and "1 written" in finished.err
    assert files_under(dest) == files_under(project / "dags")


# ------------------------------------------------------------ S3


@pytest.fixture(scope="module")
def s3():
    from tests.support.s3 import moto_s3

    with moto_s3("airflow-dags") as (_, client):
        yield client


def objects(client, prefix: str) -> dict[str, tuple[bytes, object]]:
    out = {}
    for item in client.list_objects_v2(Bucket="airflow-dags", Prefix=prefix).get("Contents", []):
        body = client.get_object(Bucket="airflow-dags", Key=item["Key"])["Body"].read()
        out[item["Key"][len(prefix):]] = (body, item["LastModified"])
    return out


def test_publish_to_s3(project: Path, s3) -> None:
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    compiled(project)
    url = "s3://airflow-dags/team/dags"
    dry = publish(project, "--to", url, "--dry-run")
    assert dry.code == 0, dry.text
    assert f"would write {url}/ForeachFlow.py" in dry.out and objects(s3, "team/dags/") == {}
    first = publish(project, "--to", url)
    assert first.code == 0, first.text
    there = objects(s3, "team/dags/")
    assert {k: v[0] for k, v in there.items()} == files_under(project / "dags")
    time.sleep(1.1)  # S3 times have whole seconds: a rewrite would show
    again = publish(project, "--to", url)
    assert again.out == "" and "0 written, 3 unchanged" in again.err
    (project / "flows/switch_flow.py").write_text(FLOWS["switch_flow.py"] + "\n# v2\n")
    (project / "flows/params_flow.py").unlink()
    compiled(project)
    s3.put_object(Bucket="airflow-dags", Key="team/dags/not_flowc.py", Body=b"# someone else's\n")
    pruned = publish(project, "--to", url, "--prune")
    assert pruned.code == 0, pruned.text
    assert pruned.out.splitlines() == [f"write {url}/SwitchFlow.py", f"remove {url}/ParamsFlow.py (no flow generates "
                                       f"it any more)", f"write {url}/flowc-manifest.json"]
    now = objects(s3, "team/dags/")
    assert sorted(now) == ["ForeachFlow.py", "SwitchFlow.py", "flowc-manifest.json", "not_flowc.py"]
    assert now["ForeachFlow.py"][1] == there["ForeachFlow.py"][1]  # untouched
    assert now["SwitchFlow.py"][0] == (project / "dags/SwitchFlow.py").read_bytes()
    assert now["not_flowc.py"][0] == b"# someone else's\n"


# ------------------------------------------------------------ kubectl (Argo)


@pytest.fixture(scope="module")
def argo_project(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("argo") / "proj",
                           '[tool.flowc]\nflows = ["flows"]\ntargets = ["argo", "airflow"]\n\n'
                           '[tool.flowc.argo]\nnamespace = "flows"\n')
    return compiled(project)


def test_kubectl_dry_run_prints_the_command(argo_project: Path) -> None:
    result = flowc("publish", "--target", "argo", "--kubectl", "--dry-run", "--context", "prod cluster", cwd=argo_project)
    assert result.code == 0, result.text
    files = sorted(json.loads((argo_project / "generated/argo/flowc-manifest.json").read_text())["files"])
    assert len(files) == 3
    expected = "kubectl apply --context 'prod cluster' " + " ".join(f"-f generated/argo/{f}" for f in files)
    assert result.out.strip() == expected


def test_kubectl_missing_is_a_clear_error(argo_project: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no kubectl on it
    monkeypatch.delenv("KUBECTL", raising=False)
    result = flowc("publish", "--target", "argo", "--kubectl", cwd=argo_project)
    assert result.code == 2
    assert "kubectl not found ('kubectl' is not on PATH): install kubectl, set KUBECTL" in result.err
    # printing the command needs no kubectl
    assert flowc("publish", "--target", "argo", "--kubectl", "--dry-run", cwd=argo_project).code == 0


def fake_kubectl(folder: Path, code: int = 0) -> Path:
    """A kubectl that records its arguments and the files it was given."""
    script = folder / "kubectl"
    script.write_text(f"""#!{sys.executable}
import json, sys
args = sys.argv[1:]
files = {{f: open(f).read() for f in args[args.index('-f') + 1::2]}} if '-f' in args else {{}}
with open({str(folder / 'calls.jsonl')!r}, 'a') as log:
    log.write(json.dumps({{'args': args, 'files': files}}) + '\\n')
print('workflowtemplate.argoproj.io/x configured')
sys.exit({code})
""")
    script.chmod(0o755)
    return script


def test_kubectl_applies_the_templates(argo_project: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    fake_kubectl(tmp_path)
    result = flowc("publish", "--target", "argo", "--kubectl", "--namespace", "flows", cwd=argo_project)
    assert result.code == 0, result.text
    (call,) = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert call["args"][:3] == ["apply", "-n", "flows"]
    assert sorted(call["files"]) == [f"generated/argo/{f}" for f in sorted(
        json.loads((argo_project / "generated/argo/flowc-manifest.json").read_text())["files"])]
    for path, text in call["files"].items():
        assert text == (argo_project / path).read_text() and "kind: WorkflowTemplate" in text


def test_workflows_are_created_and_failures_reported(tmp_path: Path, monkeypatch) -> None:
    project = compiled(make_project(tmp_path / "p", '[tool.flowc]\nflows = ["flows"]\ntargets = ["argo"]\n\n'
                                                     '[tool.flowc.argo]\nkind = "workflow"\n'))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("KUBECTL", str(fake_kubectl(bin_dir, code=1)))
    dry = flowc("publish", "--kubectl", "--dry-run", cwd=project)
    assert dry.out.startswith(f"{bin_dir}/kubectl create -f generated/argo/")  # generateName: create, not apply
    failed = flowc("publish", "--kubectl", cwd=project)
    assert failed.code == 1 and "kubectl exited with 1" in failed.err


def test_kubectl_is_for_argo(argo_project: Path) -> None:
    result = flowc("publish", "--target", "airflow", "--kubectl", "--dry-run", cwd=argo_project)
    assert result.code == 2 and "--kubectl applies Argo's YAML" in result.err


# ------------------------------------------------------------ code packages


def test_packages_are_uploaded_where_the_tasks_fetch_them(tmp_path: Path) -> None:
    from flowc.compiler import load_flow
    from flowc.packaging import code_package

    store = tmp_path / "datastore"
    project = compiled(make_project(tmp_path / "p", f'[tool.flowc]\nflows = ["flows"]\ntargets = ["airflow"]\n'
                                                    f'datastore = "{store.as_posix()}"\n'))
    dry = flowc("publish", "--packages", "--dry-run", cwd=project)
    assert dry.code == 0 and dry.out.count("would upload") == 3 and not store.exists()
    result = flowc("publish", "--packages", cwd=project)
    assert result.code == 0, result.text
    manifest = json.loads((project / "generated/airflow/flowc-manifest.json").read_text())
    for rec in manifest["files"].values():
        url = rec["code_package"]
        assert url.startswith(store.as_posix())
        data, sha = code_package(load_flow(project / rec["source"], rec["flow"]), project / rec["source"])
        assert Path(url).read_bytes() == data and url.endswith(f"{sha}.tar.gz")
        assert url in (project / "generated/airflow" / f"{rec['flow']}.py").read_text()  # what the DAG fetches
    again = flowc("publish", "--packages", cwd=project)
    assert again.out.count("already there") == 3
