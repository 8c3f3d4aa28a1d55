"""Every example and topology fixture Argo can express, compiled for Argo
(tests/targets/test_matrix.py and test_argo_lowering check the FC501
refusals): it matches its golden file,
is byte-for-byte deterministic, and passes Argo's strict schemas, hera's
models (nothing dropped) and the semantic checks no schema makes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ALL_FLOWS, REPO, check_golden, flow_id
from tests.targets.argo.argo_checks import check_documents, load_documents
from tests.support.corpus import compiling
from tests.targets.argo.argo_support import GOLDEN_ARGO, compile_argo, requires_schemas, single_file

# the corpus flows Argo compiles (tests/targets/test_matrix.py checks what it refuses)
COMPILING = compiling("argo", ALL_FLOWS)

# Option sets with golden files of their own, each on the flow that shows it best.
VARIANTS = {
    "workflow-kind": ("tests/flows/schedule.py", {"kind": "workflow"}),
    "schedule-labels": ("tests/flows/schedule.py", {"labels": {"team": "forecast"}, "annotations": {"a": "b"}}),
    "cluster-options": ("tests/flows/foreach.py", {
        "namespace": "data", "service_account": "flow-runner", "parallelism": 20, "pod_gc": "OnPodSuccess",
        "ttl": 86400, "labels": {"team": "ml"}, "annotations": {"owner": "ml@example.com"},
        "image": "registry.example.com/flowc:1.0", "datastore": "s3://bucket/flowc",
        "code_package": "s3://bucket/flowc/pkg.tar.gz", "image_pull_policy": "IfNotPresent"}),
}


@pytest.mark.parametrize("path", COMPILING, ids=flow_id)
def test_golden(path, regen):
    """Golden files show the code carried by the image (no package hash, so
    they change only when the flow or the target does); the variant
    `cluster-options` shows a code package."""
    data = single_file(compile_argo(path, package=False))
    check_golden(GOLDEN_ARGO / path.parent.name / f"{path.stem}.yaml", data, regen)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden_variants(variant, regen):
    rel, options = VARIANTS[variant]
    data = single_file(compile_argo(REPO / rel, options, package=False))
    check_golden(GOLDEN_ARGO / "variants" / f"{variant}.yaml", data, regen)


def test_no_stale_goldens():
    expected = {f"{p.parent.name}/{p.stem}.yaml" for p in COMPILING} | {f"variants/{v}.yaml" for v in VARIANTS}
    present = {p.relative_to(GOLDEN_ARGO).as_posix() for p in GOLDEN_ARGO.rglob("*.yaml")}
    assert present == expected


@requires_schemas
@pytest.mark.parametrize("path", COMPILING, ids=flow_id)
def test_valid(path):
    for options in ({}, {"kind": "workflow"}):
        data = single_file(compile_argo(path, options))
        assert check_documents(data) == []


@requires_schemas
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_valid(variant):
    rel, options = VARIANTS[variant]
    assert check_documents(single_file(compile_argo(REPO / rel, options))) == []


@pytest.mark.parametrize("path", COMPILING, ids=flow_id)
def test_deterministic(path):
    first = single_file(compile_argo(path))
    assert single_file(compile_argo(path)) == first
    assert str(REPO) not in first.decode() and "/home/" not in first.decode()


def test_cli_same_bytes_from_any_folder(tmp_path):
    """`flowc compile` twice, from two working folders: same bytes, no absolute path."""
    outs = []
    for cwd, flow in ((REPO, "tests/flows/nested_foreach.py"), (REPO / "tests", "flows/nested_foreach.py")):
        out = tmp_path / f"{len(outs)}.yaml"
        subprocess.run([sys.executable, "-m", "flowc", "compile", flow, "--target", "argo", "-o", str(out)],
                       cwd=cwd, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": str(len(outs))})
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert str(REPO) not in outs[0].decode()


@pytest.mark.parametrize("path", COMPILING, ids=flow_id)
def test_every_task_points_at_its_source_line(path):
    """Each DAG task carries a comment with `file.py:LINE` of its step."""
    from tests.conftest import load_ir

    flow = load_ir(path)
    text = single_file(compile_argo(path)).decode()
    for step in flow.steps:  # a step of a base class in another module: that module, as packaged
        name = os.path.relpath(step.span.file, os.path.dirname(flow.source.path))
        assert f"# {step.name} ({name}:{step.span.line})" in text, step.name


def test_targets_table_lists_argo():
    out = subprocess.run([sys.executable, "-m", "flowc", "targets", "argo"], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    assert "argo" in out.splitlines()[0]
    assert "trigger" in out and "namespace" in out and "pod_gc" in out


def test_documents_parse(tmp_path):
    """A flow with @schedule gives two documents in one file, or two files with --split."""
    one = load_documents(single_file(compile_argo(REPO / "tests/flows/schedule.py", {"user": "ana"})))
    assert [d["kind"] for d in one] == ["WorkflowTemplate", "CronWorkflow"]
    split = compile_argo(REPO / "tests/flows/schedule.py", {"split": True, "user": "ana"}).files
    assert sorted(split) == ["forecasting-user-ana-scheduled-flow.cronworkflow.yaml",
                             "forecasting-user-ana-scheduled-flow.workflowtemplate.yaml"]
    assert [load_documents(split[k])[0] for k in sorted(split)] == [one[1], one[0]]
