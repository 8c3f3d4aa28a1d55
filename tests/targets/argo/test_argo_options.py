"""Options from flags and from `[tool.flowc.argo]` in pyproject.toml, through
the real command line."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from flowc.compiler import load_flow
from flowc.compiler.diagnostics import CompileError
from flowc.targets.argo import ArgoTarget
from tests.conftest import REPO
from tests.targets.argo.argo_checks import load_documents


def flowc(*argv: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *argv], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def project(tmp_path):
    shutil.copy(REPO / "tests/flows/schedule.py", tmp_path / "flow.py")
    return tmp_path


def test_options_from_pyproject_then_flags(project):
    (project / "pyproject.toml").write_text(
        '[tool.flowc]\nimage = "registry.example.com/flowc:2"\ndatastore = "s3://team-bucket/flowc"\n\n'
        '[tool.flowc.argo]\nnamespace = "pipelines"\nservice_account = "runner"\nparallelism = 8\n'
        'pod_gc = "OnWorkflowSuccess"\nttl = 3600\nlabels = { team = "forecast", tier = 2 }\n'
        'annotations = { "example.com/owner" = "data-team" }\nimage_pull_policy = "Always"\n')
    out = project / "out.yaml"
    result = flowc("compile", "flow.py", "--target", "argo", "-o", str(out), "--parallelism", "3", cwd=project)
    assert result.returncode == 0, result.stderr
    template, cron = load_documents(out.read_bytes())
    meta, spec = template["metadata"], template["spec"]
    assert meta["namespace"] == cron["metadata"]["namespace"] == "pipelines"
    assert meta["labels"]["team"] == "forecast" and meta["annotations"]["example.com/owner"] == "data-team"
    assert meta["labels"]["tier"] == "2"
    assert spec["workflowMetadata"] == {"labels": {"team": "forecast", "tier": "2"},
                                        "annotations": {"example.com/owner": "data-team"}}
    assert spec["serviceAccountName"] == "runner" and spec["parallelism"] == 3  # the flag wins
    assert spec["podGC"] == {"strategy": "OnWorkflowSuccess"} and spec["ttlStrategy"] == {"secondsAfterCompletion": 3600}
    container = spec["templates"][1]["container"]
    assert container["image"] == "registry.example.com/flowc:2" and container["imagePullPolicy"] == "Always"
    assert "s3://team-bucket/flowc" in container["args"]
    assert any(a.startswith("s3://team-bucket/flowc/ScheduledFlow/packages/") for a in container["args"])


def test_kind_split_name_and_code_package_flags(project):
    out = project / "out"
    result = flowc("compile", "flow.py", "--target", "argo", "-o", str(out) + "/", "--kind", "workflow", "--split",
                   "--name", "nightly", "--code-package", "s3://b/pkg.tar.gz", cwd=project)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["nightly.cronworkflow.yaml", "nightly.workflow.yaml"]
    (wf,) = load_documents((out / "nightly.workflow.yaml").read_bytes())
    assert wf["kind"] == "Workflow" and wf["metadata"]["generateName"] == "nightly-"
    assert "s3://b/pkg.tar.gz" in wf["spec"]["templates"][1]["container"]["args"]


@pytest.mark.parametrize("argv, message", [
    (["--pod-gc", "Sometimes"], "pod_gc"),
    (["--kind", "cronworkflow"], "kind"),
    (["--parallelism", "many"], "parallelism"),
    (["--set", "unknown_option=1"], "unknown_option"),
])
def test_bad_options_are_reported(project, argv, message):
    result = flowc("compile", "flow.py", "--target", "argo", *argv, cwd=project)
    assert result.returncode == 2 and message in result.stderr


def test_bad_option_values_in_pyproject_name_the_line(project):
    (project / "pyproject.toml").write_text('[tool.flowc.argo]\n\npod_gc = "Never"\n')
    result = flowc("compile", "flow.py", "--target", "argo", cwd=project)
    assert result.returncode == 2 and "pyproject.toml:3" in result.stderr


@pytest.mark.parametrize("options, text", [
    ({"name": "Not_A_Name"}, "--name"),
    ({"labels": {"team": "has space"}}, "--labels"),
    ({"ttl": -1}, "--ttl"),
])
def test_invalid_values_are_errors_before_anything_is_written(options, text):
    with pytest.raises(CompileError) as err:
        ArgoTarget(options).compile(load_flow(REPO / "tests/flows/linear.py"))
    assert any(text in d.message for d in err.value.diagnostics)


def test_pod_options_kubernetes_would_reject_are_fc501(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(
        "from flowc import FlowSpec, kubernetes, secrets, step\n\n\n"
        "class PodFlow(FlowSpec):\n"
        "    @secrets(sources=['arn:aws:secretsmanager:us-east-1:1:secret:x'])\n"
        "    @kubernetes(labels={'team': 'a b'}, annotations={'note': '{{workflow.name}}'})\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n")
    with pytest.raises(CompileError) as err:
        ArgoTarget({}).compile(load_flow(path))
    messages = sorted(d.message for d in err.value.diagnostics)
    assert all(d.code == "FC501" for d in err.value.diagnostics)
    assert len(messages) == 3, messages
    assert any("secret" in m for m in messages)
    assert any("'a b'" in m for m in messages) and any("substitute" in m for m in messages)
