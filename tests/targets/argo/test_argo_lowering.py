"""What each flow construct becomes in Argo, asserted on the emitted
objects (the golden files show the whole text; these say what matters)."""

from __future__ import annotations

import textwrap

import pytest

from flowc.compiler import load_flow
from flowc.compiler.diagnostics import CompileError
from flowc.targets.argo import ArgoTarget
from flowc.targets.argo.names import dns_label
from tests.conftest import REPO
from tests.targets.argo.argo_checks import check_documents, load_documents
from tests.targets.argo.argo_support import compile_argo, requires_schemas, single_file


def docs(rel: str, options: dict | None = None) -> list[dict]:
    return load_documents(single_file(compile_argo(REPO / rel, options)))


def templates(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["spec"]["templates"]}


def tasks(doc: dict, template: str) -> dict[str, dict]:
    return {t["name"]: t for t in templates(doc)[template]["dag"]["tasks"]}


def compile_source(tmp_path, source: str, options: dict | None = None):
    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent(source))
    return ArgoTarget(options or {}).compile(load_flow(path))


# ------------------------------------------------------------ names


@pytest.mark.parametrize("name, label", [
    ("RecSysFlow", "rec-sys-flow"), ("fit_a", "fit-a"), ("HTTPFlow2", "httpflow2"), ("a__b_", "a-b"),
    ("x" * 80, "x" * 54 + "-" + "6ba3b1e1"),
])
def test_dns_labels(name, label):
    out = dns_label(name)
    assert len(out) <= 63
    if name == "x" * 80:
        assert out.startswith("x" * 54 + "-") and len(out) == 63
    else:
        assert out == label


def test_clashing_step_names_are_an_error(tmp_path):
    with pytest.raises(CompileError) as err:
        compile_source(tmp_path, """
            from flowc import FlowSpec, step

            class ClashFlow(FlowSpec):
                @step
                def start(self):
                    self.next(self.a_b, self.a__b)

                @step
                def a_b(self):
                    self.next(self.join)

                @step
                def a__b(self):
                    self.next(self.join)

                @step
                def join(self, inputs):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """)
    (diag,) = err.value.diagnostics
    assert diag.code == "FC503" and "'a-b'" in diag.message and diag.span.line == 14


def test_a_step_named_like_a_generated_template_is_an_error(tmp_path):
    with pytest.raises(CompileError) as err:
        compile_source(tmp_path, """
            from flowc import FlowSpec, retry, step

            class ClashFlow(FlowSpec):
                @step
                def start(self):
                    self.next(self.run_step)

                @retry(times=1)
                @step
                def run_step(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """)
    assert [d.code for d in err.value.diagnostics] == ["FC503"]
    assert "run-step" in err.value.diagnostics[0].message


# ------------------------------------------------------------ wiring


def test_foreach_fans_out_over_the_count_never_the_items():
    (doc,) = docs("tests/flows/foreach.py")
    fan = tasks(doc, "foreach-fixture-flow")["upper"]
    assert fan["withSequence"] == {
        "count": '{{=jsonpath(tasks["start"].outputs.parameters.out, "$.foreach_count")}}'}
    assert {"name": "index", "value": "{{item}}"} in fan["arguments"]["parameters"]
    assert "withParam" not in fan and "withItems" not in fan
    assert tasks(doc, "foreach-fixture-flow")["join"]["depends"] == "upper.Succeeded"


def test_nested_foreach_index_paths():
    (doc,) = docs("tests/flows/nested_foreach.py")
    outer = tasks(doc, "nested-foreach-flow")["foreach-start"]
    assert outer["template"] == "foreach-start"
    inner = tasks(doc, "foreach-start")["cell"]
    assert {"name": "index", "value": "{{inputs.parameters.index}}.{{item}}"} in inner["arguments"]["parameters"]
    join = tasks(doc, "foreach-start")["row-join"]
    assert {"name": "index", "value": "{{inputs.parameters.index}}"} in join["arguments"]["parameters"]


def test_switch_cases_run_when_chosen_and_the_join_waits_for_whichever_ran():
    (doc,) = docs("tests/flows/switch.py")
    t = tasks(doc, "switch-fixture-flow")
    for case in ("big", "medium", "small"):
        assert t[case]["depends"] == "start.Succeeded"
        assert t[case]["when"] == f'{{{{=jsonpath(tasks["start"].outputs.parameters.out, "$.chosen") == "{case}"}}}}'
    assert t["merge"]["depends"] == "big.Succeeded || medium.Succeeded || small.Succeeded"
    assert "when" not in t["merge"]


def test_switch_inside_a_branch():
    (doc,) = docs("tests/flows/branch_switch.py")
    assert tasks(doc, "branch-switch-flow")["join"]["depends"] == "(fast.Succeeded || slow.Succeeded) && right.Succeeded"


@requires_schemas
def test_a_case_that_goes_to_a_step_reached_another_way(tmp_path):
    out = compile_source(tmp_path, """
        from flowc import FlowSpec, step

        class MixedFlow(FlowSpec):
            @step
            def start(self):
                self.mode = "b"
                self.next({"a": self.a, "b": self.merge}, condition="mode")

            @step
            def a(self):
                self.next(self.merge)

            @step
            def merge(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    text = single_file(out)
    assert check_documents(text) == []
    merge = tasks(load_documents(text)[0], "mixed-flow")["merge"]
    assert merge["depends"] == "start.Succeeded || a.Succeeded"
    assert merge["when"] == ('{{=(tasks["start"].status == "Succeeded" && jsonpath(tasks["start"].outputs.parameters.out,'
                             ' "$.chosen") == "merge") || tasks["a"].status == "Succeeded"}}')


def test_recursive_switch_is_a_template_calling_itself():
    (doc,) = docs("tests/flows/recursive_switch.py")
    loop = templates(doc)["loop-loop"]
    again = {t["name"]: t for t in loop["dag"]["tasks"]}["again"]
    assert again["template"] == "loop-loop" and again["when"]
    assert again["arguments"]["parameters"] == [
        {"name": "iteration", "value": "{{=asInt(inputs.parameters.iteration) + 1}}"}]
    assert tasks(doc, "recursive-switch-flow")["finish"]["when"].endswith('== "finish"}}')


# ------------------------------------------------------------ parameters


def test_parameters_become_arguments_with_defaults():
    (doc,) = docs("tests/flows/parameters.py")
    args = {p["name"]: p for p in doc["spec"]["arguments"]["parameters"]}
    assert {k: p["value"] for k, p in args.items()} == {
        "text": "hello", "count": "3", "ratio": "0.25", "flag": "true",
        "options": '{"depth":2,"tags":["a","b"]}', "weights": "[0.5,0.5]", "lr": "0.01"}
    assert args["text"]["description"] == "a string"
    start = templates(doc)["start"]
    assert [p["name"] for p in start["inputs"]["parameters"]] == [f"param-{k}" for k in args]
    assert "--params" in start["container"]["args"]


def test_required_parameters_have_no_default():
    (doc,) = docs("tests/flows/required_params.py")
    args = {p["name"]: p for p in doc["spec"]["arguments"]["parameters"]}
    assert "value" not in args["dataset"]
    assert args["limit"]["value"] == ""  # optional, no default: empty means no value
    inputs = {p["name"]: p["value"] for p in templates(doc)["start"]["inputs"]["parameters"]}
    assert inputs["param-limit"].startswith('{{=workflow.parameters.limit == "" ? "null" : ')


# ------------------------------------------------------------ step settings


def test_resources_gpus_and_pod_options():
    (doc,) = docs("tests/flows/resources.py")
    t = templates(doc)
    # MiB (targets/resources.py's unit policy); memory limited at its request, CPU not (as Metaflow)
    assert t["start"]["container"]["resources"] == {
        "requests": {"cpu": "2", "memory": "4096Mi", "ephemeral-storage": "20000Mi"},
        "limits": {"memory": "4096Mi"}}
    train = t["train"]
    assert train["container"]["resources"]["limits"] == {"memory": "16384Mi", "nvidia.com/gpu": "2"}
    assert train["container"]["resources"]["requests"] == {"cpu": "8", "memory": "16384Mi"}
    # a step without @resources asks for Metaflow's defaults: never a BestEffort pod
    assert t["run-step"]["container"]["resources"] == {"requests": {"cpu": "1", "memory": "4096Mi"},
                                                  "limits": {"memory": "4096Mi"}}
    assert train["nodeSelector"] == {"node.kubernetes.io/instance-type": "p3.8xlarge"}
    assert train["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert train["serviceAccountName"] == "trainer"
    assert train["metadata"] == {"labels": {"team": "ml"}, "annotations": {"cost-center": "research"}}
    assert doc["metadata"]["namespace"] == "ml-jobs"  # the step's namespace is the workflow's


def test_volumes_shared_memory_gpu_vendor_and_secrets(tmp_path):
    out = compile_source(tmp_path, """
        from flowc import FlowSpec, kubernetes, secrets, step

        class VolumeFlow(FlowSpec):
            @secrets(sources=["team-creds"])
            @kubernetes(persistent_volume_claims={"scratch-claim": "/mnt/scratch"}, shared_memory=2048,
                        gpu=1, gpu_vendor="amd", secrets=["model-registry"])
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    (doc,) = load_documents(single_file(out))
    start = templates(doc)["start"]
    assert start["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2048Mi"}},
        {"name": "pvc-0", "persistentVolumeClaim": {"claimName": "scratch-claim"}}]
    assert start["container"]["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"},
                                                  {"name": "pvc-0", "mountPath": "/mnt/scratch"}]
    assert start["container"]["resources"]["limits"] == {"memory": "4096Mi", "amd.com/gpu": "1"}
    assert start["container"]["envFrom"] == [{"secretRef": {"name": "team-creds"}},
                                             {"secretRef": {"name": "model-registry"}}]
    assert "envFrom" not in templates(doc)["run-step"]["container"]


def test_a_second_namespace_is_fc501(tmp_path):
    with pytest.raises(CompileError) as err:
        ArgoTarget({"namespace": "other"}).compile(load_flow(REPO / "tests/flows/resources.py"))
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and "ml-jobs" in diag.message and diag.span.line == 17


def test_retry_timeout_environment_secrets_image():
    (doc,) = docs("tests/flows/retry_catch.py")
    t = templates(doc)
    assert t["flaky"]["retryStrategy"] == {"limit": 2, "retryPolicy": "Always"}  # 0 minutes: no backoff
    assert "{{retries}}" in t["flaky"]["container"]["args"]
    assert t["slow"]["activeDeadlineSeconds"] > 30
    (doc,) = docs("tests/flows/metaflow_import.py")
    assert templates(doc)["start"]["retryStrategy"]["backoff"] == {"duration": "120s"}
    (doc,) = docs("tests/flows/environment.py")
    env = templates(doc)["start"]["container"]["env"]
    by_name = {e["name"]: e["value"] for e in env}
    assert [e["name"] for e in env] == ["FLOWC_END_EVENT", "FLOWC_EVENTS", "MODE", "THREADS"]
    assert (by_name["MODE"], by_name["THREADS"]) == ("fast", "4")
    assert by_name["FLOWC_END_EVENT"] == "metaflow.EnvironmentFlow.end"
    assert by_name["FLOWC_EVENTS"].startswith("http://argo-events-webhook-eventsource-svc")
    (doc,) = docs("tests/flows/secrets.py")
    assert templates(doc)["start"]["container"]["envFrom"] == [
        {"secretRef": {"name": "db-credentials"}}, {"secretRef": {"name": "api-token"}}]
    assert "db-credentials" in single_file(compile_argo(REPO / "tests/flows/secrets.py")).decode()
    (doc,) = docs("tests/flows/image.py")
    special = templates(doc)["special"]["container"]
    assert special["image"] == "example.com/team/special:1.2.3" and special["imagePullPolicy"] == "IfNotPresent"


def test_schedule_is_a_cron_workflow_beside_the_template():
    template, cron = docs("tests/flows/schedule.py", {"user": "ana"})
    assert cron["kind"] == "CronWorkflow"
    assert cron["spec"]["schedules"] == ["30 2 * * 1-5"] and cron["spec"]["timezone"] == "Europe/Paris"
    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": template["metadata"]["name"]}}
    # Metaflow's @project rule: a personal deployment of the user who compiles
    assert template["metadata"]["name"] == "forecasting-user-ana-scheduled-flow"
    assert template["metadata"]["labels"]["flowc/project-branch"] == "user.ana"
    _, inline = docs("tests/flows/schedule.py", {"kind": "workflow"})
    assert inline["spec"]["workflowSpec"]["entrypoint"] == "scheduled-flow"


@requires_schemas
def test_a_non_ascii_flow_name(tmp_path):
    out = compile_source(tmp_path, """
        from flowc import FlowSpec, step

        class DatenFlüsseFlow(FlowSpec):
            \"\"\"Grüße.\"\"\"

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    text = single_file(out)
    assert check_documents(text) == []
    (doc,) = load_documents(text)
    assert doc["metadata"]["name"] == "daten-fl-sse-flow" and "flowc/flow" not in doc["metadata"]["labels"]


@requires_schemas
def test_a_long_name_fits_argo_limits(tmp_path):
    long = "Forecast" + "Quarterly" * 6 + "Flow"
    out = compile_source(tmp_path, f"""
        from flowc import FlowSpec, schedule, step

        @schedule(daily=True)
        class {long}(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    text = single_file(out)
    assert check_documents(text) == []
    template, cron = load_documents(text)
    assert len(template["metadata"]["name"]) == 63 and len(cron["metadata"]["name"]) == 52
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]


def test_packages_run_in_their_environment():
    """A step with pins runs in its environment's image, or builds it at start."""
    (doc,) = docs("examples/recsys.py")
    t = templates(doc)
    assert t["fit-a"]["container"]["image"].startswith("recsysflow:")
    assert t["fit-b"]["container"]["image"].startswith("recsysflow:")
    assert t["fit-a"]["container"]["image"] != t["fit-b"]["container"]["image"]
    assert t["run-step"]["container"]["image"] == "flowc:0.1.0"
    (doc,) = docs("examples/recsys.py", {"environments": "bootstrap", "registry": "r.example.com"})
    fit_a = templates(doc)["fit-a"]["container"]
    assert fit_a["image"] == "flowc:0.1.0" and "--environment" in fit_a["args"]
    assert "--environment" not in templates(doc)["run-step"]["container"]["args"]


def test_unsupported_constructs_name_the_target_and_line(tmp_path):
    with pytest.raises(CompileError) as err:
        compile_source(tmp_path, """
            from flowc import FlowSpec, batch, step

            class BatchFlow(FlowSpec):
                @batch(queue="q")
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """)
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and diag.message.startswith("argo: ") and diag.span.line == 5
    with pytest.raises(CompileError) as err:
        compile_source(tmp_path, """
            from flowc import FlowSpec, step, trigger

            @trigger(event="data_ready", options={"reset_at": {"cron": "0 0 * * *"}})
            class TriggeredFlow(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """)
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and "argo" in diag.message and diag.span.line == 4


def test_qos_sets_or_drops_the_limits(tmp_path):
    """@kubernetes(qos=...): Guaranteed limits every resource at its request (Kubernetes
    then classes the pod Guaranteed); BestEffort sets none (all but GPUs), as Kubernetes requires."""
    out = compile_source(tmp_path, """
        from flowc import FlowSpec, kubernetes, step

        class QosFlow(FlowSpec):
            @kubernetes(qos="Guaranteed", cpu=2, memory=2048)
            @step
            def start(self):
                self.next(self.end)

            @kubernetes(qos="BestEffort")
            @step
            def end(self):
                pass
        """)
    (doc,) = load_documents(single_file(out))
    t = templates(doc)
    assert t["start"]["container"]["resources"] == {"requests": {"cpu": "2", "memory": "2048Mi"},
                                                    "limits": {"cpu": "2", "memory": "2048Mi"}}
    assert "resources" not in t["end"]["container"]
