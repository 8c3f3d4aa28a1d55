"""@trigger and @trigger_on_finish on Step Functions, run in moto.

Three flows (events/): Ingest publishes ``data_ready`` from a step through
the runtime's ``eventbridge:`` backend (moto's PutEvents) and succeeds;
Report (@trigger on data_ready, parameters mapped from the payload) and
Train (@trigger_on_finish Ingest) start from their EventBridge rules, as
compiled into FLOW.rule.json, and read ``current.trigger``. moto matches
the rules' patterns and applies their input transformers itself; what it
lacks (starting a state machine target, Step Functions' status-change
events) is added in sfn_harness.patch_moto_events_reach_step_functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.artifacts import run_artifacts
from tests.targets.stepfunctions.sfn_harness import REGION, ROLE, REPO, compile_flow, prepare_workdir

HERE = Path(__file__).resolve().parent / "events"
FLOWS = {name: HERE / f"{name.lower()}.py" for name in ("Ingest", "Train", "Report")}
RULE_ROLE = "arn:aws:iam::123456789012:role/flowc-events"


def deploy_rule(events, rule_file: Path, machine_arn: str) -> None:
    """FLOW.rule.json as the CLI would send it, the two ARNs filled in."""
    request = json.loads(rule_file.read_text())
    events.put_rule(**request["PutRule"])
    targets = request["PutTargets"]
    for target in targets["Targets"]:
        target["Arn"], target["RoleArn"] = machine_arn, RULE_ROLE
    assert events.put_targets(**targets)["FailedEntryCount"] == 0


def executions(sfn, arn: str) -> list[dict]:
    return sfn.list_executions(stateMachineArn=arn)["executions"]


def wait_for(sfn, arn: str, count: int, timeout: float = 180) -> list[dict]:
    """The machine's executions once ``count`` of them have ended."""
    deadline = time.monotonic() + timeout
    while True:
        runs = executions(sfn, arn)
        if len(runs) >= count and all(r["status"] != "RUNNING" for r in runs):
            return runs
        assert time.monotonic() < deadline, f"{arn}: {runs}"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def chain(harness, moto_server, tmp_path_factory):
    """The three flows deployed in moto, one worker per queue publishing to
    EventBridge, and Ingest started by hand; Train and Report start from rules."""
    tmp = tmp_path_factory.mktemp("sfn-events")
    datastore = str(tmp / "datastore")  # one datastore: Train reads Ingest's run from it
    events = moto_server.client("events")
    deployed, workers = {}, []
    try:
        for name, path in FLOWS.items():
            queue = harness.queue()
            files = compile_flow(path, tmp / name / "out", "--mode", "worker", "--queue-url", queue,
                                 "--datastore", datastore, "--python", sys.executable)
            workdir = tmp / name / "work"
            prepare_workdir(path, workdir, datastore, moto_server.env)
            arn = harness.create(files[f"{name}.asl.json"], name)
            if f"{name}.rule.json" in files:
                deploy_rule(events, files[f"{name}.rule.json"], arn)
            deployed[name] = (arn, files, workdir)
            workers.append(harness.start_worker(queue, workdir, "-j", "2", env={"FLOWC_EVENTS": "eventbridge:default"}))
        sfn = harness.sfn
        ingest = sfn.start_execution(stateMachineArn=deployed["Ingest"][0], name="ingest-1", input="{}")
        done = harness.wait(ingest["executionArn"], deployed["Ingest"][2])
        assert done.status == "SUCCEEDED", done.story() + harness.log(deployed["Ingest"][2])
        runs = {name: wait_for(sfn, deployed[name][0], 1) for name in ("Train", "Report")}
        yield {"sfn": sfn, "events": events, "datastore": datastore, "deployed": deployed, "runs": runs}
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=30)


def artifacts(chain, flow: str, run: dict) -> dict:
    assert run["status"] == "SUCCEEDED", (run, Path(chain["deployed"][flow][2]).parent.joinpath("worker.log").read_text())
    return run_artifacts(chain["datastore"], flow, run["name"])["start"]["0"]


@pytest.mark.engine
def test_trigger_on_finish_starts_train_and_current_trigger_run_is_the_upstream_run(chain):
    (train,) = chain["runs"]["Train"]
    data = artifacts(chain, "Train", train)
    assert data["upstream"] == "Ingest/ingest-1"  # the execution name is the run id
    assert data["upstream_rows"] == 42  # read from Ingest's run in the shared datastore
    assert data["event_name"] == "metaflow.Ingest.end"


@pytest.mark.engine
def test_an_event_published_from_a_step_starts_report_with_mapped_parameters(chain):
    (report,) = chain["runs"]["Report"]
    data = artifacts(chain, "Report", report)
    assert data["rows"] == 42 and data["label"] == 'said "hi" \\ <b>'  # as published, quotes and all
    assert data["region"] == "eu"  # the payload has no region: the parameter's default
    assert data["event_name"] == "data_ready"
    assert data["payload"] == {"rows": 42, "label": 'said "hi" \\ <b>', "extra": [1, 2]}


@pytest.mark.engine
def test_put_events_with_the_rules_pattern_starts_an_execution_and_another_does_not(chain):
    sfn, events = chain["sfn"], chain["events"]
    arn = chain["deployed"]["Report"][0]
    before = len(executions(sfn, arn))
    for detail_type in ("data_ready_v2", "Data_ready"):  # not the rule's event
        events.put_events(Entries=[{"Source": "app", "DetailType": detail_type, "Detail": '{"rows": 1}'}])
    events.put_events(Entries=[{"Source": "app", "DetailType": "data_ready", "Detail": '{"rows": "7"}'}])
    runs = wait_for(sfn, arn, before + 1)
    assert len(runs) == before + 1
    newest = max(runs, key=lambda r: r["startDate"])
    data = artifacts(chain, "Report", newest)
    assert data["rows"] == 7 and data["label"] == "none" and data["region"] == "eu"


@pytest.mark.engine
def test_a_failed_upstream_run_starts_nothing(chain):
    """Only SUCCEEDED status changes of the upstream machine match Train's rule."""
    sfn, events = chain["sfn"], chain["events"]
    train = chain["deployed"]["Train"][0]
    before = len(executions(sfn, train))
    ingest = chain["deployed"]["Ingest"][0]
    for status, machine in (("FAILED", ingest), ("SUCCEEDED", ingest.replace(":Ingest", ":NotIngest"))):
        detail = {"executionArn": f"{machine}:x", "stateMachineArn": machine, "name": "x", "status": status}
        events.put_events(Entries=[{"Source": "aws.states", "DetailType": "Step Functions Execution Status Change",
                                    "Detail": json.dumps(detail)}])
    time.sleep(1)
    assert len(executions(sfn, train)) == before


def test_the_rules_pass_cfn_lint_and_create_with_the_stack(tmp_path, moto_server):
    templates = []
    for name, path in FLOWS.items():
        files = compile_flow(path, tmp_path / name, "--datastore", "s3://bucket/flowc")
        templates.append(files[f"{name}.template.json"])
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *map(str, templates)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    cfn, events = moto_server.client("cloudformation"), moto_server.client("events")
    template = json.loads(templates[1].read_text())  # Train: rule, role, machine
    cfn.create_stack(StackName="train-events", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "StateMachineRoleArn", "ParameterValue": ROLE}])
    created = {r["LogicalResourceId"]: r for r in cfn.describe_stack_resources(StackName="train-events")["StackResources"]}
    assert created["Trigger"]["ResourceType"] == "AWS::Events::Rule"
    rule = events.describe_rule(Name=created["Trigger"]["PhysicalResourceId"])
    assert json.loads(rule["EventPattern"])["detail"]["stateMachineArn"] == [{"suffix": ":stateMachine:Ingest"}]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].startswith(f"arn:aws:states:{REGION}:") and target["Arn"].endswith(":stateMachine:Train")
    assert target["RoleArn"].startswith("arn:aws:iam::")


def compile_source(tmp_path: Path, source: str, *options: str) -> subprocess.CompletedProcess:
    path = tmp_path / "flow.py"
    path.write_text(source)
    return subprocess.run([sys.executable, "-m", "flowc", "compile", str(path), "--target", "stepfunctions",
                           "-o", str(tmp_path / "out") + "/", "--datastore", "s3://bucket/flowc", *options],
                          capture_output=True, text=True, cwd=REPO)


FLOW_BODY = '''
class Down(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("decorator", ['@trigger(events=["a", "b"])', '@trigger_on_finish(flows=["A", "B"])'])
def test_waiting_for_all_of_several_events_is_refused_at_the_decorator(tmp_path, decorator):
    source = f"from flowc import FlowSpec, step, trigger, trigger_on_finish\n\n\n{decorator}{FLOW_BODY}"
    proc = compile_source(tmp_path, source)
    assert proc.returncode != 0
    assert "flow.py:4:" in proc.stderr and "FC501" in proc.stderr and "stepfunctions:" in proc.stderr
    assert "ALL of 2" in proc.stderr and "hint:" in proc.stderr


def test_the_upstream_machine_follows_the_project_rule_and_the_event_bus_option(tmp_path):
    source = ('from flowc import FlowSpec, project, step, trigger_on_finish\n\n\n'
              '@trigger_on_finish(flow="Ingest")\n@project(name="recs", branch="exp.1")' + FLOW_BODY)
    proc = compile_source(tmp_path, source, "--event-bus", "flows")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    rule = json.loads((out / "Down.rule.json").read_text())
    pattern = json.loads(rule["PutRule"]["EventPattern"])
    # Ingest in this flow's own namespace, named as names.py names every machine
    assert pattern["detail"]["stateMachineArn"] == [{"suffix": ":stateMachine:recs-test-exp-1-Ingest"}]
    assert "EventBusName" not in rule["PutRule"]  # status changes arrive on the default bus only
    template = json.loads((out / "Down.template.json").read_text())
    assert template["Resources"]["StateMachine"]["Properties"]["StateMachineName"] == "recs-test-exp-1-Down"
    jobs = json.loads((out / "Down.batch-jobs.json").read_text())
    env = {e["name"]: e["value"] for e in jobs[0]["containerProperties"]["environment"]}
    assert env["FLOWC_EVENTS"] == "eventbridge:flows"
    assert env["FLOWC_END_EVENT"] == "metaflow.recs.test.exp.1.Down.end"
    assert "--trigger" in jobs[0]["containerProperties"]["command"]


def test_trigger_rules_go_on_the_event_bus(tmp_path):
    source = 'from flowc import FlowSpec, step, trigger\n\n\n@trigger(event="ready")' + FLOW_BODY
    proc = compile_source(tmp_path, source, "--event-bus", "flows")
    assert proc.returncode == 0, proc.stderr
    rule = json.loads((tmp_path / "out" / "Down.rule.json").read_text())
    assert rule["PutRule"]["EventBusName"] == rule["PutTargets"]["EventBusName"] == "flows"
    assert json.loads(rule["PutRule"]["EventPattern"]) == {"detail-type": ["ready"]}
