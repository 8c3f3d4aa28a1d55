"""The Kubeflow Pipelines target: every package it writes accepted by kfp's
own tooling (PipelineSpec and KubernetesExecutorConfig protobufs with unknown
fields rejected, kfp's loader, kfp_server_api's recurring run model; run in
.venv-kfp by kfp_harness.py), goldens, and what it refuses. The runs of every
fixture under kfp.local's orchestrator are in the conformance matrix
(tests/targets/test_matrix.py, engine ``kubeflow``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from flowc.compiler.diagnostics import CompileError
from flowc.targets.kubeflow import KubeflowTarget, package_name
from tests.conftest import ALL_FLOWS, REPO, check_golden, flow_id, load_ir
from tests.support.corpus import compiling
from tests.support.engines import KFP_PYTHON, kfp_harness, write_files

GOLDEN = REPO / "tests" / "golden" / "kubeflow"
GOLDEN_FLOWS = ["linear", "branch", "foreach", "nested_foreach", "foreach_body", "switch", "switch_in_foreach",
                "nested_switch", "parameters", "required_params", "retry_catch", "image"]
needs_kfp = pytest.mark.skipif(not KFP_PYTHON.exists(), reason=".venv-kfp is built by `make test` (mk/kubeflow.mk)")


def compile_flow(path: Path, **options) -> dict[str, bytes]:
    return KubeflowTarget(options).compile(load_ir(path)).files


def compile_text(tmp_path: Path, source: str, **options):
    from flowc.compiler import load_flow

    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent(source))
    return KubeflowTarget(options).compile(load_flow(path))


def docs(data: bytes) -> list[dict]:
    return [d for d in yaml.safe_load_all(data) if d]


@needs_kfp
def test_every_package_is_accepted_by_kfp(tmp_path):
    paths = []
    for path in compiling("kubeflow"):
        files = compile_flow(path)
        folder = write_files(files, tmp_path / flow_id(path).replace("/", "_"))
        paths.append(str(folder / package_name(load_ir(path))))
    assert len(paths) >= 30
    answer = kfp_harness("validate", *paths)
    assert len(answer["packages"]) == len(paths)
    assert all(p["platform_loaded"] for p in answer["packages"])


@pytest.mark.parametrize("name", GOLDEN_FLOWS)
def test_golden(name, regen):
    path = REPO / "tests" / "flows" / f"{name}.py"
    files = compile_flow(path)
    (data,) = files.values()
    check_golden(GOLDEN / f"{name}.yaml", data, regen)


def test_comments_point_at_the_flow_and_the_header_names_the_pipeline():
    text = compile_flow(REPO / "tests" / "flows" / "foreach_body.py")["ForeachBodyFlow.pipeline.yaml"].decode()
    assert text.startswith("# PIPELINE DEFINITION\n# Name: foreachbodyflow\n")
    flow = load_ir(REPO / "tests" / "flows" / "foreach_body.py")
    for s in flow.steps:
        assert f"# {s.name} (foreach_body.py:{s.span.line})" in text


def test_foreach_is_a_parallelfor_over_the_splits_output_with_parallelism():
    files = compile_flow(REPO / "tests" / "flows" / "nested_foreach.py", parallelism=4)
    spec = docs(next(iter(files.values())))[0]
    loop = spec["root"]["dag"]["tasks"]["for-start"]
    assert loop["parameterIterator"] == {"itemInput": "pipelinechannel--start-Output-loop-item",
                                         "items": {"inputParameter": "pipelinechannel--start-Output"}}
    assert loop["iteratorPolicy"] == {"parallelismLimit": 4}
    inner = spec["components"]["comp-for-start"]["dag"]["tasks"]
    assert inner["row-join"]["dependentTasks"] == ["for-row"]
    assert spec["components"]["comp-row"]["outputDefinitions"]["parameters"]["Output"]["parameterType"] == "LIST"
    argv = spec["deploymentSpec"]["executors"]["exec-cell"]["container"]["command"]
    assert argv[argv.index("--index") + 1] == "{{$.inputs.parameters['index']}}"
    assert argv[argv.index("--attempt") + 1] == "auto"


def test_switch_is_a_trigger_condition_on_the_chosen_step():
    spec = docs(next(iter(compile_flow(REPO / "tests" / "flows" / "nested_switch.py").values())))[0]
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["one"]["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--deep-Output'] == 'one' && "
        "inputs.parameter_values['pipelinechannel--start-Output'] == 'deep'")
    assert "triggerPolicy" not in tasks["merge"]
    # a ParallelFor a switch may route around sits inside a condition DAG
    assert tasks["condition-for-shallow"]["triggerPolicy"]["condition"] == \
        "inputs.parameter_values['pipelinechannel--start-Output'] == 'shallow'"
    assert "for-shallow" in spec["components"]["comp-condition-for-shallow"]["dag"]["tasks"]


PODS = '''
from flowc import FlowSpec, kubernetes, resources, retry, step, timeout

class PodFlow(FlowSpec):
    @kubernetes(node_selector={"pool": "gpu"}, tolerations=[{"key": "gpu", "operator": "Exists"}],
                labels={"team": "ml"}, annotations={"note": "x"}, image_pull_policy="Always",
                persistent_volume_claims={"data": "/mnt/data"}, use_tmpfs=True, image_pull_secrets=["regcred"],
                gpu_vendor="amd", shared_memory=1024)
    @resources(cpu=2, memory=16000, gpu=2)
    @retry(times=2, minutes_between_retries=1)
    @timeout(minutes=5)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@needs_kfp
def test_pod_settings_reach_the_container_and_the_platform_spec(tmp_path):
    out = compile_text(tmp_path, PODS)
    data = out.files["PodFlow.pipeline.yaml"]
    spec, platform = docs(data)
    container = spec["deploymentSpec"]["executors"]["exec-start"]["container"]
    assert container["resources"] == {"resourceCpuRequest": "2", "resourceMemoryRequest": "16000Mi",
                                      "resourceMemoryLimit": "16000Mi",
                                      "accelerator": {"resourceType": "amd.com/gpu", "resourceCount": "2"}}
    assert {"name": "METAFLOW_TEMPDIR", "value": "/metaflow_temp"} in container["env"]
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-start"]
    assert k8s["nodeSelector"] == {"labels": {"pool": "gpu"}}
    assert k8s["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert k8s["podMetadata"] == {"labels": {"team": "ml"}, "annotations": {"note": "x"}}
    assert k8s["imagePullSecret"] == [{"secretName": "regcred"}]
    assert k8s["activeDeadlineSeconds"] == str(5 * 60 + 60)
    assert k8s["enabledSharedMemory"] == {"volumeName": "dshm", "size": "1024Mi"}
    assert k8s["emptyDirMounts"][0]["medium"] == "Memory"
    assert spec["root"]["dag"]["tasks"]["start"]["retryPolicy"]["maxRetryCount"] == 2
    path = tmp_path / "pods.yaml"
    path.write_bytes(data)
    kfp_harness("validate", str(path))


@needs_kfp
def test_schedule_writes_a_recurring_run_kfp_server_api_reads(tmp_path):
    out = compile_text(tmp_path, '''
        from flowc import FlowSpec, Parameter, project, schedule, step

        @schedule(cron="30 2 * * 1-5")
        @project(name="forecasting", branch="nightly")
        class ScheduledFlow(FlowSpec):
            days = Parameter("days", default=7)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        ''')
    run = json.loads(out.files["ScheduledFlow.recurring-run.json"])
    assert run["trigger"] == {"cron_schedule": {"cron": "0 30 2 * * 1-5"}}
    assert run["display_name"] == "forecasting-test-nightly-scheduledflow"
    assert run["runtime_config"] == {"parameters": {"days": 7}}
    folder = write_files(out.files, tmp_path / "out")
    answer = kfp_harness("validate", str(folder / "ScheduledFlow.pipeline.yaml"),
                         "--recurring", str(folder / "ScheduledFlow.recurring-run.json"))
    assert answer["recurring_run"] == "0 30 2 * * 1-5"
    assert answer["packages"][0]["pipeline"] == "forecasting-test-nightly-scheduledflow"


@pytest.mark.parametrize("source, message", [
    ('''@schedule(cron="0 2 * * *", timezone="Europe/Paris")
class F(FlowSpec):''', "KFP runs cron schedules in its API server's time zone"),
    ('''class F(FlowSpec):
    @resources(disk=1000)''', "no ephemeral storage"),
    ('''class F(FlowSpec):
    @kubernetes(disk=20000)''', "no ephemeral storage"),
    ('''class F(FlowSpec):
    @kubernetes(namespace="other")''', "run's namespace"),
    ('''class F(FlowSpec):
    @kubernetes(service_account="trainer")''', "one service account per run"),
    ('''@trigger(event="data_ready")
class F(FlowSpec):''', "@trigger on flow F cannot be expressed: KFP has no event triggers"),
])
def test_what_kfp_cannot_express_is_fc501(tmp_path, source, message):
    text = ("from flowc import FlowSpec, kubernetes, resources, schedule, step, trigger\n\n" + source + '''
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    with pytest.raises(CompileError) as err:
        compile_text(tmp_path, text)
    assert any(d.code == "FC501" and d.message.startswith("kubeflow: ") and message in d.message and d.hint
               for d in err.value.diagnostics), err.value.diagnostics


def test_recursive_switch_is_refused_by_the_table():
    with pytest.raises(CompileError) as err:
        compile_flow(REPO / "tests" / "flows" / "recursive_switch.py")
    assert any("recursive switch" in d.message and "acyclic" in d.message for d in err.value.diagnostics)


def test_flowc_targets_lists_capabilities_and_options():
    done = subprocess.run([sys.executable, "-m", "flowc", "targets", "kubeflow"], capture_output=True, text=True,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    for word in ("kubeflow", "ParallelFor", "recursive_switch", "parallelism", "max_concurrency"):
        assert word in done.stdout, (word, done.stdout)


SECRET_FLOW = '''
import os
from flowc import FlowSpec, environment, kubernetes, secrets, step

class SecretEnvFlow(FlowSpec):
    @environment(vars={"SHARED": "from-environment"})
    @kubernetes(secrets=["api-token"])
    @secrets(sources=["db-credentials"])
    @step
    def start(self):
        self.seen = {k: os.environ.get(k) for k in ("DB_USER", "DB_PASSWORD", "API_TOKEN", "SHARED", "CERT")}
        self.next(self.end)

    @step
    def end(self):
        self.seen = {k: os.environ.get(k) for k in ("DB_USER", "API_TOKEN")}
'''
CLUSTER_SECRETS = {"db-credentials": {"DB_USER": "alice", "DB_PASSWORD": "p@ss 'word\" {{ x }}",
                                      "SHARED": "from-secret", "CERT": "-----BEGIN-----\nabc\n-----END-----\n"},
                   "api-token": {"API_TOKEN": "t0ken"}}


def test_secrets_are_mounted_as_folders_the_runtime_loads(tmp_path):
    out = compile_text(tmp_path, SECRET_FLOW)
    spec, platform = docs(out.files["SecretEnvFlow.pipeline.yaml"])
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert k8s["exec-start"]["secretAsVolume"] == [
        {"secretName": name, "secretNameParameter": {"runtimeValue": {"constant": name}},
         "mountPath": f"/etc/flowc/secrets/{name}"} for name in ("db-credentials", "api-token")]
    assert "secretAsVolume" not in k8s["exec-end"]
    env = {e["name"]: e["value"] for e in spec["deploymentSpec"]["executors"]["exec-start"]["container"]["env"]}
    assert env["FLOWC_SECRET_DIRS"] == "/etc/flowc/secrets/db-credentials:/etc/flowc/secrets/api-token"
    assert "env" not in spec["deploymentSpec"]["executors"]["exec-end"]["container"]


@needs_kfp
def test_a_step_sees_every_key_of_its_secrets_as_variables_under_kfp_local(tmp_path):
    """Run under kfp.local's orchestrator; the harness mounts each secretAsVolume of the
    platform spec from a folder per secret written here (tests/support/engines.py)."""
    from tests.support.artifacts import run_artifacts
    from tests.support.engines import Kubeflow

    path = tmp_path / "secret_flow.py"
    path.write_text(SECRET_FLOW)
    engine = Kubeflow()
    engine.secrets = CLUSTER_SECRETS
    datastore = tmp_path / "ds"
    run_id = engine.run(path, {}, datastore)
    arts = run_artifacts(str(datastore), "SecretEnvFlow", run_id)
    (start,) = arts["start"].values()
    assert start["seen"] == {"DB_USER": "alice", "DB_PASSWORD": "p@ss 'word\" {{ x }}", "API_TOKEN": "t0ken",
                             "SHARED": "from-environment",  # the container's own env wins, as over envFrom
                             "CERT": "-----BEGIN-----\nabc\n-----END-----\n"}
    (end,) = arts["end"].values()
    assert end["seen"] == {"DB_USER": None, "API_TOKEN": None}  # a step without secrets mounts none



@needs_kfp
def test_kfp_cron_schedules_carry_no_time_zone_so_a_non_utc_schedule_is_refused(tmp_path):
    """The refusal of @schedule(timezone=...) rests on KFP's recurring-run API:
    its cron schedule is a cron line and a start and end time, nothing else."""
    done = subprocess.run([str(KFP_PYTHON), "-c", "import json, kfp_server_api as k; print(json.dumps(sorted("
                           "k.V2beta1CronSchedule.openapi_types)))"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["cron", "end_time", "start_time"]
    with pytest.raises(CompileError) as err:
        compile_text(tmp_path, '''
            from flowc import FlowSpec, schedule, step

            @schedule(daily=True, timezone="America/New_York")
            class F(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            ''')
    (d,) = err.value.diagnostics
    assert d.code == "FC501" and d.message.startswith("kubeflow: @schedule(timezone='America/New_York')")
    assert d.span.line == 4 and "UTC" in d.hint


def test_trigger_on_finish_is_refused_by_the_capability_table(tmp_path):
    """Whatever reads @trigger_on_finish into the IR, the table's no() refuses it on Kubeflow."""
    from flowc.compiler import load_flow

    flow = load_flow(REPO / "tests" / "flows" / "linear.py")  # a copy of its own (load_ir's is shared)
    deco = type("TriggerOnFinish", (), {"span": flow.span, "options": {}})()  # the decorator, as the IR will hold it
    object.__setattr__(flow.decorators, "trigger_on_finish", deco)  # FlowDecorators is frozen
    assert not KubeflowTarget.CAPABILITIES["trigger_on_finish"].supported
    with pytest.raises(CompileError) as err:
        KubeflowTarget({}).compile(flow)
    (d,) = err.value.diagnostics
    assert d.code == "FC501" and d.span.line == flow.span.line
    assert d.message.startswith(f"kubeflow: @trigger_on_finish on flow {flow.name} cannot be expressed: KFP has "
                                "no event triggers")


@pytest.mark.parametrize("deco, what", [
    ('@environment(vars={"GREETING": "hello {{ name }}"})', "@environment on step 'start' holds"),
    ('@kubernetes(annotations={"note": "run {{$.pipeline_job_uuid}}"})', "@kubernetes on step 'start' holds"),
    ('@kubernetes(image="{\\"IfPresent\\": {}}")', "@kubernetes on step 'start' holds"),
])
def test_text_kfp_would_read_as_a_placeholder_is_refused(tmp_path, deco, what):
    with pytest.raises(CompileError) as err:
        compile_text(tmp_path, f'''
            from flowc import FlowSpec, environment, kubernetes, step

            class F(FlowSpec):
                {deco}
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
            ''')
    (d,) = err.value.diagnostics
    assert d.code == "FC501" and d.message.startswith(f"kubeflow: {what}") and d.span.line == 5
    assert "placeholder" in d.message and d.hint


def test_a_file_name_never_leaves_its_comment(tmp_path):
    from flowc.compiler import load_flow

    path = tmp_path / "odd\nname\x1f\u2028.py"
    path.write_text(textwrap.dedent('''
        from flowc import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    data = KubeflowTarget({}).compile(load_flow(path)).files["F.pipeline.yaml"]
    text = data.decode()
    assert "odd\\nname\\x1f\\u2028.py" in text
    assert all(line.startswith(("#", " ", "-")) or line[:1].isalpha() for line in text.splitlines() if line)
    assert docs(data)[0]["root"]["dag"]["tasks"]["start"]
