"""The Argo target builds its objects with targets/argo/models.py, a light
stand-in for hera's typed models (which cost half a second to import). Built
through hera's real models instead, every corpus flow, under options that
reach every object, must give the same bytes; and every document the
stand-in gives must survive hera's own validation unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ALL_FLOWS, REPO, flow_id
from tests.targets.argo.argo_checks import load_documents, round_trip_diff
from tests.targets.argo.argo_support import compile_argo

OPTION_SETS = [
    {},
    {"kind": "workflow", "namespace": "pipelines", "service_account": "runner", "parallelism": 3,
     "pod_gc": "OnWorkflowSuccess", "ttl": 3600, "labels": {"team": "forecast"},
     "annotations": {"example.com/owner": "data-team"}, "image_pull_policy": "Always"},
    {"split": True, "labels": {"team": "forecast"}, "annotations": {"example.com/owner": "data-team"}},
]


def _outputs(path: Path, options: dict) -> dict[str, bytes] | str:
    from flowc.compiler.diagnostics import CompileError

    try:
        result = compile_argo(path, options, unsupported="warn")
    except CompileError as exc:
        return "error: " + "; ".join(sorted(d.message for d in exc.diagnostics))
    return result.files


@pytest.mark.parametrize("options", OPTION_SETS, ids=["defaults", "workflow", "split"])
@pytest.mark.parametrize("path", ALL_FLOWS, ids=flow_id)
def test_same_bytes_as_heras_models_and_valid_for_them(path: Path, options: dict, monkeypatch) -> None:
    from hera.workflows import models as hera_models

    import flowc.targets.argo  # noqa: F401  (loads every module of the package)

    ours = _outputs(path, options)
    for name, module in list(sys.modules.items()):  # every module of the package that builds objects
        if name.startswith("flowc.targets.argo.") and getattr(module, "m", None) is not None:
            monkeypatch.setattr(module, "m", hera_models)
    theirs = _outputs(path, options)
    assert ours == theirs
    if isinstance(ours, str):
        return
    for data in ours.values():
        for doc in load_documents(data):
            assert round_trip_diff(doc) == []


def test_compiling_for_argo_does_not_import_hera(tmp_path: Path) -> None:
    probe = ("import sys\nfrom flowc.cli import main\n"
             f"code = main(['compile', 'examples/recsys.py', '--target', 'argo', '-o', {str(tmp_path / 'o.yaml')!r}])\n"
             "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('hera', 'pydantic')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.stdout.strip() == "0 []", result.stdout + result.stderr
