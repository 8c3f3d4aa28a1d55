"""@kubernetes options Airflow puts into a KubernetesPodOperator's pod
(tmpfs, volume claims, image pull secrets, extended resources, security
context), rendered offline by Airflow and its Kubernetes provider."""

from __future__ import annotations

from tests.conftest import REPO, load_ir
from tests.targets.airflow.conftest import compile_flow

FLOW = REPO / "tests" / "data" / "kubernetes_options_flow.py"


def test_pod_options_reach_the_pod(airflow3, tmp_path):
    from flowc.targets.airflow import dag_id_of

    text, _ = compile_flow(FLOW)
    file = tmp_path / "pods.py"
    file.write_text(text, encoding="utf-8")
    answer = airflow3.probe.ask(op="inspect", file=str(file), dag_id=dag_id_of(load_ir(FLOW)), index="1")
    start = answer["tasks"]["start"]["pod"]
    (main, *_) = start["spec"]["containers"]
    volumes = {v["name"]: v for v in start["spec"]["volumes"]}
    assert volumes["tmpfs"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1024Mi"}
    assert volumes["pvc-0"]["persistentVolumeClaim"] == {"claimName": "datasets"}
    # xcom: the provider's volume for the pod's OUT.json (its return value, with the events the step published)
    assert {m["name"]: m["mountPath"] for m in main["volumeMounts"]} == {"pvc-0": "/data", "tmpfs": "/scratch",
                                                                        "xcom": "/airflow/xcom"}
    assert {"name": "METAFLOW_TEMPDIR", "value": "/scratch"} in main["env"]
    assert start["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert main["resources"]["requests"]["example.com/fpga"] == main["resources"]["limits"]["example.com/fpga"] == "1"
    assert main["securityContext"] == {"runAsUser": 1000, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    end = answer["tasks"]["end"]["pod"]
    assert [v["emptyDir"].get("sizeLimit") for v in end["spec"]["volumes"] if v["name"] != "xcom"] == ["300Mi"]
