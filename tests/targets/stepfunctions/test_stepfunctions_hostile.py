"""Hostile names, defaults, help texts and docstrings come out of the Step
Functions target literally, and what the target writes into intrinsic
functions and cron expressions means what it says (checked by running it
in moto's interpreter, or by AWS's own API models)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.compiler import load_flow
from flowc.targets import registry
from flowc.compiler.diagnostics import CompileError
from flowc.targets.aws_batch import secret_env_name
from flowc.targets.stepfunctions import INTRINSIC_SPECIAL, CronError, aws_cron, intrinsic_string, s3_location
from tests.targets.stepfunctions.sfn_harness import ROLE, validate

HOSTILE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from([
    '"', "'", "\\", "{{ x }}", "${ HOME }", "$.a", "$$.Execution.Name", "States.Format('{}')", "\n", "\r\n",
    "ünïcödé ✓ 日本", "Ref::run_id", "\\'", "{}", "\u2028", "\x00",
])

FLOW = '''from flowc import FlowSpec, Parameter, step


class HostileTextFlow(FlowSpec):
    {flow_doc}

    text = Parameter("text", default={default}, help={help})

    @step
    def start(self):
        {step_doc}
        self.value = self.text
        self.next(self.end)

    @step
    def end(self):
        self.done = True
'''


def compile_source(folder: Path, source: str, **options):
    path = folder / "hostile_text.py"
    path.write_text(source, encoding="utf-8")
    flow = load_flow(path)
    return flow, registry.get("stepfunctions")(options).compile(flow).files


def without_comments(value):
    if isinstance(value, dict):
        return {k: without_comments(v) for k, v in value.items() if k != "Comment"}
    if isinstance(value, list):
        return [without_comments(v) for v in value]
    return value


MODES = ({}, {"mode": "worker", "queue_url": "https://sqs.us-east-1.amazonaws.com/1/q"})


def test_hostile_texts_come_out_literally(tmp_path, moto_server):
    """Defaults, help texts and docstrings reach the state machine's comments
    exactly as the IR holds them, and change nothing else in it."""
    written: list[Path] = []
    templates: list[Path] = []
    cases = itertools.count()
    sfn = moto_server.client("stepfunctions")
    plain = FLOW.format(default="'plain'", help="'plain'", flow_doc="'plain'", step_doc="'plain'")
    (tmp_path / "plain").mkdir()
    reference = [without_comments(json.loads(compile_source(tmp_path / "plain", plain, **m)[1]
                                             ["HostileTextFlow.asl.json"])) for m in MODES]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(default=HOSTILE, help_text=HOSTILE, flow_doc=HOSTILE, step_doc=HOSTILE)
    def check(default, help_text, flow_doc, step_doc):
        source = FLOW.format(default=repr(default), help=repr(help_text), flow_doc=repr(flow_doc),
                             step_doc=repr(step_doc))
        folder = tmp_path / f"case{next(cases)}"
        folder.mkdir()
        for mode, expected in zip(MODES, reference):
            flow, files = compile_source(folder, source, **mode)
            text = files["HostileTextFlow.asl.json"].decode("utf-8")
            machine = json.loads(text)
            comment = machine["Comment"]
            param = flow.parameter("text")
            assert param.default == default and param.help == help_text
            assert f"text (str, default {json.dumps(default, ensure_ascii=False)})" in comment
            if help_text:
                assert f"): {help_text}" in comment
            if flow.docstring and flow.docstring.strip():
                assert flow.docstring.strip() in comment
            start_doc = flow.step("start").docstring
            if start_doc and start_doc.strip():
                assert start_doc.strip().splitlines()[0] in machine["States"]["start"]["Comment"]
            assert without_comments(machine) == expected
            template = json.loads(files["HostileTextFlow.template.json"])
            assert json.loads(template["Resources"]["StateMachine"]["Properties"]["DefinitionString"]) == machine
            path = folder / f"{mode.get('mode', 'batch')}.asl.json"
            path.write_text(text, encoding="utf-8")
            written.append(path)
            templates.append(folder / f"{mode.get('mode', 'batch')}.template.json")
            templates[-1].write_bytes(files["HostileTextFlow.template.json"])
            arn = sfn.create_state_machine(name=f"hostile-{len(written)}", definition=text,
                                           roleArn=ROLE)["stateMachineArn"]
            sfn.delete_state_machine(stateMachineArn=arn)

    check()
    results = validate(written)
    assert len(results) == len(written) >= 80
    assert {f: r for f, r in results.items() if any(r.values())} == {}
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *map(str, templates)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


# ------------------------------------------------------------ intrinsic functions


def run_pass_states(moto_server, parameters: dict, execution_input: dict) -> dict:
    """Run one Pass state in moto's interpreter and return its output."""
    sfn = moto_server.client("stepfunctions")
    machine = {"StartAt": "p", "States": {"p": {"Type": "Pass", "Parameters": parameters, "End": True}}}
    definition = json.dumps(machine, ensure_ascii=False)  # as the target writes it
    arn = sfn.create_state_machine(name=f"pass-{time.monotonic_ns()}", definition=definition,
                                   roleArn=ROLE)["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
    for _ in range(300):
        desc = sfn.describe_execution(executionArn=run)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    if desc["status"] != "SUCCEEDED":
        events = sfn.get_execution_history(executionArn=run)["events"]
        raise AssertionError(f"{desc['status']}: {desc.get('error')} {desc.get('cause')}\n{events[-3:]}")
    return json.loads(desc["output"])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HOSTILE.filter(lambda s: not set(s) & set(INTRINSIC_SPECIAL) and s.isprintable()),
                min_size=10, max_size=10))
def test_intrinsic_string_literals_mean_what_they_say(moto_server, texts):
    """Each text goes through States.Format in moto and comes back unchanged,
    with the arguments in their places. (The characters an intrinsic literal
    must escape are refused at compile time: moto 5.2.5 does not unescape
    them as Step Functions documents, so nothing here could check it.)"""
    params = {f"v{i}.$": f"States.Format({intrinsic_string(t)[:-1]}{{}}{intrinsic_string(t)[1:]}, $.x)"
              for i, t in enumerate(texts)}
    out = run_pass_states(moto_server, params, {"x": "X"})
    assert out == {f"v{i}": f"{t}X{t}" for i, t in enumerate(texts)}


@pytest.mark.parametrize("prefix", ["team's", "a{b}", "back\\\\slash", "tab\tbed", "bell\x07"])
def test_datastore_prefixes_an_intrinsic_would_have_to_escape_are_refused(prefix):
    from tests.conftest import REPO, load_ir

    with pytest.raises(CompileError) as info:
        registry.get("stepfunctions")({"datastore": f"s3://bucket/x/{prefix}"}).compile(
            load_ir(REPO / "tests" / "flows" / "linear.py"))
    assert [d.code for d in info.value.diagnostics] == ["FC502"]


@pytest.mark.parametrize("datastore", ["s3://bucket", "s3://bucket/teams/ml \"ünï\" $.x $X/"])
def test_datastore_keys_are_the_runtime_s_layout(moto_server, tmp_path, datastore):
    """The keys the state machine reads a task's files from, evaluated by
    moto, are where the runtime writes them (for run ids the runtime keeps
    as they are: Step Functions' default execution names, among others)."""
    from flowc.runtime.datastore import FlowDatastore
    from flowc.runtime.identity import safe_run_id, task_id
    from flowc.targets.stepfunctions import Names, StateMachineBuilder
    from tests.conftest import REPO, load_ir

    target = registry.get("stepfunctions")({"datastore": datastore})
    flow = load_ir(REPO / "tests" / "flows" / "recursive_switch.py")
    builder = StateMachineBuilder(target, flow, Names(target, flow))
    prefix = s3_location(datastore).prefix
    runtime = FlowDatastore(str(tmp_path), flow.name)
    for run_id in ("0f3c2a5e-6d1b-4f0e-9a4b-1c2d3e4f5a6b", "nightly_2026-11-22.1"):
        assert safe_run_id(run_id) == run_id
        state = {"run_id": run_id, "index": "0", "loops": {"loop": {"iteration": 2, "task": "0@2"}}}
        out = run_pass_states(moto_server, {"loop.$": builder.datastore_key(flow.step("loop"), "done.json"),
                                            "start.$": builder.datastore_key(flow.step("start"), "foreach.json")},
                              state)
        assert out == {"loop": prefix + runtime.task_key(run_id, "loop", task_id((), 2)) + "/done.json",
                       "start": prefix + runtime.task_key(run_id, "start", task_id(())) + "/foreach.json"}


@pytest.mark.parametrize("line, expected", [
    ("30 2 * * 1-5", "cron(30 2 ? * MON-FRI *)"),
    ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * *", "cron(0 0 * * ? *)"),
    ("0 * * * *", "cron(0 * * * ? *)"),
    ("*/15 9-17 * * mon,wed,fri", "cron(*/15 9-17 ? * MON,WED,FRI *)"),
    ("0 6 1 * *", "cron(0 6 1 * ? *)"),
    ("0 6 * 1-3 6,0", "cron(0 6 ? 1-3 SUN,SAT *)"),
    ("0 6 * * */2", "cron(0 6 ? * SUN,TUE,THU,SAT *)"),
    ("0 6 * * 0-6", "cron(0 6 * * ? *)"),
    ("0 6 * * 5-7", "cron(0 6 ? * SUN,FRI,SAT *)"),
])
def test_cron_lines_become_eventbridge_expressions(line, expected):
    assert aws_cron(line) == expected


@pytest.mark.parametrize("line", ["0 0 1 * 1", "0 0 * * 8", "0 0 * * 5-2", "0 0 * *", "0 0 * * 1/x"])
def test_cron_lines_without_an_eventbridge_form_are_refused(line):
    with pytest.raises(CronError):
        aws_cron(line)


def test_eventbridge_scheduler_accepts_the_schedule(moto_server):
    """The .schedule.json is a CreateSchedule request: botocore checks it
    against the Scheduler API model, and moto stores it."""
    from tests.conftest import REPO, load_ir

    files = registry.get("stepfunctions")({}).compile(load_ir(REPO / "tests" / "flows" / "schedule.py")).files
    request = json.loads(files["ScheduledFlow.schedule.json"])
    request["Target"]["Arn"] = "arn:aws:states:us-east-1:123456789012:stateMachine:forecasting-dev-ScheduledFlow"
    request["Target"]["RoleArn"] = ROLE
    scheduler = moto_server.client("scheduler")
    scheduler.create_schedule(**request)
    stored = scheduler.get_schedule(Name=request["Name"])
    assert stored["ScheduleExpression"] == "cron(30 2 ? * MON-FRI *)"
    assert stored["ScheduleExpressionTimezone"] == "Europe/Paris"


@pytest.mark.parametrize("url, bucket, prefix", [
    ("s3://b", "b", ""), ("s3://b/", "b", ""), ("s3://b/x/y/", "b", "x/y/"), ("s3://b//x", "b", "x/"),
])
def test_s3_locations(url, bucket, prefix):
    loc = s3_location(url)
    assert (loc.bucket, loc.prefix) == (bucket, prefix)


@pytest.mark.parametrize("url", ["gs://b/x", "/data", "s3:/b", "file:///x"])
def test_non_s3_locations(url):
    assert s3_location(url) is None


@pytest.mark.parametrize("source, env", [
    ("db-credentials", "DB_CREDENTIALS"),
    ("arn:aws:secretsmanager:us-east-1:1:secret:team/api.token", "API_TOKEN"),
    ("ünï", "_N_"),
])
def test_secret_environment_names(source, env):
    assert secret_env_name(source) == env


def test_a_schedule_eventbridge_cannot_express_is_refused_or_dropped_with_a_warning(tmp_path):
    source = (Path(__file__).resolve().parents[2] / "flows" / "schedule.py").read_text()
    path = tmp_path / "both_days.py"
    path.write_text(source.replace('cron="30 2 * * 1-5"', 'cron="30 2 1 * 1-5"'))
    flow = load_flow(path)
    with pytest.raises(CompileError) as info:
        registry.get("stepfunctions")({}).compile(flow)
    assert [(d.code, d.span.line) for d in info.value.diagnostics if d.is_error] == \
        [("FC501", flow.decorators.schedule.span.line)]
    result = registry.get("stepfunctions")({}, unsupported_level="warning").compile(flow)
    assert "ScheduledFlow.schedule.json" not in result.files
    assert "Schedule" not in json.loads(result.files["ScheduledFlow.template.json"])["Resources"]
