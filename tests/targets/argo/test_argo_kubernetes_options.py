"""@kubernetes options Argo puts into each step's pod (tmpfs, volume claims,
image pull secrets, extended resources, security context), checked against
Argo's own schemas."""

from __future__ import annotations

from tests.conftest import REPO
from tests.targets.argo.argo_checks import check_documents, load_documents
from tests.targets.argo.argo_support import compile_argo, requires_schemas, single_file

FLOW = REPO / "tests" / "data" / "kubernetes_options_flow.py"


def templates() -> tuple[bytes, dict[str, dict]]:
    text = single_file(compile_argo(FLOW))
    (doc,) = load_documents(text)
    return text, {t["name"]: t for t in doc["spec"]["templates"]}


@requires_schemas
def test_the_pod_options_are_valid_argo():
    text, _ = templates()
    assert check_documents(text) == []


def test_tmpfs_volume_claims_and_tempdir():
    _, by_name = templates()
    start, end = by_name["start"], by_name["end"]
    volumes = {v["name"]: v for v in start["volumes"]}
    assert volumes["tmpfs"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1024Mi"}  # half the memory
    assert volumes["pvc-0"]["persistentVolumeClaim"] == {"claimName": "datasets"}
    mounts = {m["name"]: m["mountPath"] for m in start["container"]["volumeMounts"]}
    assert mounts == {"pvc-0": "/data", "tmpfs": "/scratch"}
    assert {"name": "METAFLOW_TEMPDIR", "value": "/scratch"} in start["container"]["env"]
    # tmpfs_size alone turns the tmpfs on (as in Metaflow); tmpfs_tempdir=False leaves METAFLOW_TEMPDIR alone
    assert [v["emptyDir"]["sizeLimit"] for v in end["volumes"]] == ["300Mi"]
    assert [e["name"] for e in end["container"]["env"]] == ["FLOWC_END_EVENT", "FLOWC_EVENTS"]  # no METAFLOW_TEMPDIR


def test_pull_secrets_extended_resources_and_security_context():
    _, by_name = templates()
    start = by_name["start"]
    assert start["podSpecPatch"] == '{"imagePullSecrets": [{"name": "regcred"}]}'
    resources = start["container"]["resources"]
    assert resources["requests"]["example.com/fpga"] == resources["limits"]["example.com/fpga"] == "1"
    assert start["container"]["securityContext"] == {
        "runAsUser": 1000, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}
