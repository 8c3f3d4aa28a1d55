"""Output size: independent of foreach width, and far below Kubernetes' 1 MB
object limit for a 200-step flow. (Compile time is measured in
benchmarks/argo_bench.py, not here.)"""

from __future__ import annotations

from flowc.compiler import load_flow
from flowc.targets.argo import ArgoTarget
from tests.targets.argo.argo_checks import check_documents
from tests.targets.argo.argo_gen import foreach_flow, linear_flow, mixed_flow
from tests.targets.argo.argo_support import requires_schemas

K8S_OBJECT_LIMIT = 1024 * 1024


def compile_text(tmp_path, source: str, folder: str = "flow") -> bytes:
    path = tmp_path / folder / "flow.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    (data,) = ArgoTarget({}).compile(load_flow(path)).files.values()
    return data


def test_foreach_width_does_not_change_the_output(tmp_path):
    """Only the flow's code knows the width (its hash changes, nothing else):
    Argo gets a count at run time, never the items."""
    narrow = compile_text(tmp_path, foreach_flow(10), "narrow").decode()
    wide = compile_text(tmp_path, foreach_flow(10_000), "wide").decode()
    assert len(narrow) == len(wide)
    differing = [(a, b) for a, b in zip(narrow.splitlines(), wide.splitlines()) if a != b]
    assert [a.split(":")[0].strip() for a, _ in differing] == ["flowc/source-sha256"]


@requires_schemas
def test_two_hundred_steps_stay_small_and_valid(tmp_path):
    for source in (linear_flow(200), mixed_flow(200)):
        data = compile_text(tmp_path, source)
        assert len(data) < K8S_OBJECT_LIMIT / 8, len(data)
        assert check_documents(data) == []


def test_ten_step_linear_flow_is_under_20_kb(tmp_path):
    assert len(compile_text(tmp_path, linear_flow(10))) < 20 * 1024
