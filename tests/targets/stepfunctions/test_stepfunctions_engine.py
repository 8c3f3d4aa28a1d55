"""Compiled state machines executed by moto's Step Functions interpreter, in
the worker-queue mode, with a real `flowc worker` running every task against
a datastore. tests/targets/test_matrix.py runs every flow the target compiles
this way and compares its artifacts with `flowc run`'s; these tests read
the same runs (one per flow and session) for what only Step Functions has
(payload sizes, retries in the history, loops), and make runs of their own."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import ALL_FLOWS, flow_id, load_ir
from tests.support import engines
from tests.support.artifacts import flowc_run, run_artifacts
from tests.support.corpus import compiling
from tests.targets.stepfunctions.sfn_harness import REPO, Execution, prepare_workdir

pytestmark = pytest.mark.engine

FLOWS = REPO / "tests" / "flows"
PAYLOAD_LIMIT = 8 * 1024  # every state's input and output stays below this


def artifacts_of(datastore: str, flow_path: Path, run_id: str) -> dict:
    return run_artifacts(datastore, load_ir(flow_path).name, run_id)


def reference(tmp: Path, flow_path: Path, params: dict | None = None, run_id: str = "ref") -> dict:
    """The artifacts of `flowc run` for the same flow and parameters."""
    datastore = tmp / f"ref-{flow_path.parent.name}-{flow_path.stem}-{run_id}"
    flowc_run(flow_path, datastore, run_id, params=params)
    return artifacts_of(str(datastore), flow_path, run_id)


def assert_small_payloads(execution: Execution) -> None:
    payloads = execution.payloads()
    assert payloads, "the history has no state inputs or outputs"
    biggest = max(payloads, key=lambda p: p[2])
    assert biggest[2] < PAYLOAD_LIMIT, f"{biggest[0]} of state {biggest[1]!r} is {biggest[2]} bytes"


def corpus_run(harness, name: str) -> tuple[Execution, str]:
    """The Step Functions engine's execution of a corpus flow (once per session) and its datastore."""
    engine = engines.engine("stepfunctions")
    datastore = engines.datastore_of("stepfunctions")
    engine.run_once(next(p for p in ALL_FLOWS if flow_id(p) == name), datastore)
    return engine.results[name], str(datastore)


@pytest.mark.parametrize("path", compiling("stepfunctions"), ids=flow_id)
def test_every_state_input_and_output_stays_small(harness, path):
    execution, _ = corpus_run(harness, flow_id(path))
    assert_small_payloads(execution)


def task_folder(datastore: str, flow: str, step: str, task: str = "0") -> Path:
    return Path(datastore) / flow / "runs" / "sfn-1" / step / task


def test_retry_reruns_a_failed_attempt_with_the_next_attempt_number(harness):
    execution, datastore = corpus_run(harness, "flows/retry_catch")
    flaky = task_folder(datastore, "RetryCatchFlow", "flaky")
    assert json.loads((flaky / "done.json").read_text())["attempt"] == 1
    assert (flaky / "attempt-0" / "failure.json").is_file()
    # Step Functions saw the two failed attempts (flaky's first, broken's first) and retried both
    failed = [e for e in execution.events if e["type"] == "TaskFailed"]
    assert len(failed) == 2 and all(e["taskFailedEventDetails"]["error"] == "flowc.TaskFailed" for e in failed)


def test_catch_turns_the_last_failure_into_an_artifact(harness):
    execution, datastore = corpus_run(harness, "flows/retry_catch")
    broken = json.loads((task_folder(datastore, "RetryCatchFlow", "broken") / "done.json").read_text())
    assert broken["attempt"] == 1 and broken["caught"].startswith("ValueError")
    join = artifacts_of(datastore, REPO / "tests" / "flows" / "retry_catch.py", "sfn-1")["join"]["0"]
    assert join["caught"] == "MetaflowExceptionWrapper" and join["attempt"] == 1  # as Metaflow stores it


def test_recursive_switch_loops_in_the_state_machine(harness):
    execution, datastore = corpus_run(harness, "flows/recursive_switch")
    assert execution.states_entered("loop") == 3 and execution.states_entered("loop.again") == 2
    assert execution.output["loops"]["loop"]["iteration"] == 2


def test_a_step_that_always_fails_fails_the_execution(harness, tmp_path):
    execution, datastore = corpus_run(harness, "flows/failing")
    assert execution.status == "FAILED"
    failed = [e["taskFailedEventDetails"] for e in execution.events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["flowc.TaskFailed"]
    assert "boom on purpose" in execution.worker_log
    assert not task_folder(datastore, "FailingFlow", "end").exists()


def test_a_missing_required_parameter_fails_the_start_step(harness):
    execution, _ = harness.run_flow(REPO / "tests" / "flows" / "required_params.py", run_id="sfn-missing")
    assert execution.status == "FAILED"
    assert "dataset" in execution.worker_log


@pytest.mark.parametrize("params", [
    {"text": "bye", "count": 5, "ratio": 0.5, "flag": False, "options": {"depth": 7}, "weights": [1, 2, 3],
     "lr": 0.125},
    {"count": "4", "flag": "false", "options": '{"depth": 1}'},
], ids=["typed", "text"])
def test_parameters_come_in_as_the_execution_input(harness, tmp_path, params):
    flow = REPO / "tests" / "flows" / "parameters.py"
    run_id = f"params-{len(params)}"
    execution, datastore = harness.run_flow(flow, run_id=run_id, params=params)
    assert execution.status == "SUCCEEDED", execution.worker_log[-3000:]
    got = artifacts_of(datastore, flow, run_id)
    assert got == reference(tmp_path, flow, {k: v if isinstance(v, str) else json.dumps(v)
                                            for k, v in params.items()}, run_id)
    assert got["start"]["0"]["seen"]["count"] == int(params["count"])


def test_hostile_parameter_values_arrive_intact(harness, tmp_path):
    flow = REPO / "tests" / "flows" / "hostile.py"
    params = {"quote": "it's \"quoted\" \\ back", "template": "{{workflow.name}} ${HOME} $.x $$.Execution.Name",
              "backslash": "C:\\new\\table", "unicode_text": "ünï ✓ 日本\n2nd line",
              "payload": {"k": "{{x}}", "list": ["$.", "States.Format('{}')"]}}
    execution, datastore = harness.run_flow(flow, run_id="hostile-values", params=params)
    assert execution.status == "SUCCEEDED", execution.worker_log[-3000:]
    got = artifacts_of(datastore, flow, "hostile-values")
    assert got["start"]["0"]["values"] == [params["quote"], params["template"], params["backslash"],
                                           params["unicode_text"], params["payload"]]
    as_text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    assert got == reference(tmp_path, flow, as_text, "hostile-values")


def test_a_foreach_of_1000_items_keeps_every_payload_small(harness, tmp_path):
    flow = FLOWS / "wide_foreach.py"
    execution, datastore = harness.run_flow(flow, run_id="wide", worker_args=("-j", "8"), timeout=900)
    assert execution.status == "SUCCEEDED", execution.worker_log[-3000:]
    assert execution.states_entered("square") == 1000
    assert_small_payloads(execution)
    got = artifacts_of(datastore, flow, "wide")
    assert len(got["square"]) == 1000 and got["end"]["0"]["ok"] is True
    assert got == reference(tmp_path, flow, run_id="wide")


def test_a_foreach_with_no_items_fails_as_in_flowc_run(harness, tmp_path):
    execution, _ = harness.run_flow(FLOWS / "wide_foreach.py", run_id="empty", params={"width": 0})
    assert execution.status == "FAILED" and execution.states_entered("start.foreach") == 0
    assert "zero splits" in execution.worker_log


def test_distributed_map_reads_its_items_from_s3(harness, moto_server, tmp_path, monkeypatch):
    """--foreach-mode distributed with the datastore in (moto's) S3: the Map's
    ItemReader reads the runtime's manifest; no state holds the items."""
    moto_server.client("s3").create_bucket(Bucket="flowc-sfn-test")
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)  # the test reads the artifacts back through s3fs too
    flow = REPO / "tests" / "flows" / "foreach.py"
    datastore = "s3://flowc-sfn-test/teams/ml"
    execution, _ = harness.run_flow(flow, run_id="dist", datastore=datastore,
                                    options=("--foreach-mode", "distributed"))
    assert execution.status == "SUCCEEDED", execution.worker_log[-3000:]
    entered = [e for e in execution.events if e["type"].endswith("StateEntered")]
    assert entered and not any("items" in json.dumps(e, default=str) for e in entered)
    assert_small_payloads(execution)
    assert artifacts_of(datastore, flow, "dist") == reference(tmp_path, flow, run_id="dist")


def test_heartbeats_keep_a_long_task_alive(harness, tmp_path):
    flow = FLOWS / "slow_step.py"
    execution, datastore = harness.run_flow(flow, run_id="beats", params={"seconds": 3.5},
                                            options=("--heartbeat-seconds", "2"))
    assert execution.status == "SUCCEEDED", execution.worker_log[-3000:]
    assert artifacts_of(datastore, flow, "beats")["start"]["0"]["slept"] == 3.5


def test_a_silent_worker_fails_the_task_by_heartbeat_timeout(harness, moto_server, tmp_path):
    """The control for the test above: a consumer that takes the message and
    never heartbeats makes the state fail with States.HeartbeatTimeout."""
    flow = FLOWS / "slow_step.py"
    queue_url = harness.queue()
    files = harness.compile(flow, "silent", str(tmp_path / "ds"), queue_url, "--heartbeat-seconds", "2")
    machine = harness.create(files["SlowStepFlow.asl.json"], "silent")
    sfn = harness.sfn
    arn = sfn.start_execution(stateMachineArn=machine, name="silent", input="{}")["executionArn"]
    message = []
    for _ in range(100):
        message = harness.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        if message:
            break
    assert message, "the state machine sent no task"
    for _ in range(100):
        desc = sfn.describe_execution(executionArn=arn)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.1)
    # the state's TimeoutSeconds (Metaflow's 5 days: the step has no @timeout) is far off:
    # only the heartbeat can time it out
    # (Step Functions names the error States.HeartbeatTimeout, moto 5.2.5 States.Timeout)
    assert desc["status"] == "FAILED" and desc["error"] in ("States.HeartbeatTimeout", "States.Timeout")
    start = json.loads(files["SlowStepFlow.asl.json"].read_text())["States"]["start"]
    assert start["TimeoutSeconds"] == 5 * 24 * 3600 and start["HeartbeatSeconds"] == 2


def test_a_task_whose_worker_dies_is_run_by_another_worker(harness, tmp_path):
    """The first worker is killed mid-task; its message comes back after the
    visibility timeout and a second worker finishes the run."""
    flow = FLOWS / "slow_step.py"
    queue_url = harness.queue()
    datastore = tmp_path / "ds"
    files = harness.compile(flow, "crash", str(datastore), queue_url)
    workdir = tmp_path / "crash" / "work"
    prepare_workdir(flow, workdir, str(datastore))
    machine = harness.create(files["SlowStepFlow.asl.json"], "crash")
    first = harness.start_worker(queue_url, workdir, "--visibility-timeout", "2")
    arn = harness.sfn.start_execution(stateMachineArn=machine, name="crash", input='{"seconds": 3}')["executionArn"]
    log = workdir.parent / "worker.log"
    for _ in range(200):
        if "start start/0" in log.read_text():
            break
        time.sleep(0.05)
    first.kill()
    first.wait()
    second = harness.start_worker(queue_url, workdir, "--visibility-timeout", "2", log_name="second.log")
    try:
        execution = harness.wait(arn, workdir, second, timeout=120)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert execution.status == "SUCCEEDED", harness.log(workdir)
    assert "start start/0" in (workdir.parent / "second.log").read_text()
    assert artifacts_of(str(datastore), flow, "crash")["end"]["0"]["done"] is True


def test_a_worker_drops_a_task_step_functions_gave_up_on(harness, tmp_path):
    flow = FLOWS / "slow_step.py"
    queue_url = harness.queue()
    files = harness.compile(flow, "stopped", str(tmp_path / "ds"), queue_url, "--heartbeat-seconds", "6")
    workdir = tmp_path / "stopped" / "work"
    prepare_workdir(flow, workdir, str(tmp_path / "ds"))
    machine = harness.create(files["SlowStepFlow.asl.json"], "stopped")
    worker = harness.start_worker(queue_url, workdir)
    try:
        arn = harness.sfn.start_execution(stateMachineArn=machine, name="stopped",
                                          input='{"seconds": 60}')["executionArn"]
        log = workdir.parent / "worker.log"
        for _ in range(200):
            if "start start/0" in log.read_text():
                break
            time.sleep(0.05)
        harness.sfn.stop_execution(executionArn=arn)
        for _ in range(400):
            if "no longer waits" in log.read_text():
                break
            time.sleep(0.1)
        assert "no longer waits" in log.read_text(), log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_cards_written_on_step_functions_are_read_with_flowc_card(harness, tmp_path):
    from tests.support.cards import flowc_card, run_cards

    execution, datastore = corpus_run(harness, "flows/cards")
    flow = REPO / "tests" / "flows" / "cards.py"
    flowc_run(flow, tmp_path / "local", "local")
    in_sfn = run_cards(datastore, "CardsFlow", "sfn-1")
    assert in_sfn == run_cards(str(tmp_path / "local"), "CardsFlow", "local") and len(in_sfn) == 9
    listed = flowc_card("list", "CardsFlow/sfn-1/square", "--datastore", str(datastore))
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1 + 6, listed.stderr
    got = flowc_card("get", "CardsFlow/sfn-1/end", "--datastore", str(datastore))
    assert got.returncode == 0 and "total <strong>" in got.stdout
