"""The Step Functions target's compile: every corpus flow compiles (or fails
with FC501 where the flow uses what the target lists as unsupported), the
output is deterministic and matches the golden files, and both npm ASL
validators, moto's Step Functions and moto's CloudFormation accept it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler import ir
from flowc.compiler.diagnostics import CompileError
from flowc.targets import registry
from flowc.targets.base import uses
from tests.targets.stepfunctions.sfn_harness import REPO, ROLE, validate, validators_installed
from tests.conftest import ALL_FLOWS, GOLDEN, check_golden, flow_id, load_ir

HERE = Path(__file__).resolve().parent
WORKER = ("--mode", "worker", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/flowc-tasks",
          "--environments", "bootstrap")
# The option sets the golden files cover: the default (AWS Batch, inline
# Maps), the worker queue, and distributed Maps.
MODES = {
    "batch": {},
    "worker": {"mode": "worker", "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/flowc-tasks",
               "heartbeat_seconds": 300, "environments": "bootstrap"},
    "distributed": {"foreach_mode": "distributed", "datastore": "s3://flowc-datastore/teams/ml"},
}
# Flows whose worker-queue and distributed forms are kept as goldens too:
# the ones where those modes change more than the Task resource.
MODE_GOLDENS = ("foreach", "nested_foreach", "foreach_body", "switch", "recursive_switch", "branch_switch",
                "secrets", "retry_catch")


def target(**options):
    return registry.get("stepfunctions")(options)


def expected_unsupported(flow: ir.Flow) -> list[int]:
    """The lines the target must reject: constructs its capability table says
    no to, and @kubernetes options with no AWS Batch meaning."""
    cls = registry.get("stepfunctions")
    lines = [span.line for construct, span, _ in uses(flow) if not cls.CAPABILITIES[construct].supported]
    for s in flow.steps:
        k8s = s.decorators.kubernetes
        if k8s is not None and any(getattr(k8s, key) for key in
                                   ("namespace", "service_account", "node_selector", "tolerations", "secrets",
                                    "persistent_volume_claims")):
            lines.append(k8s.span.line)
    return sorted(set(lines))


def compile_files(path: Path, **options) -> dict[str, bytes]:
    return target(**options).compile(load_ir(path)).files


COMPILABLE = [p for p in ALL_FLOWS if not expected_unsupported(load_ir(p))]


# ------------------------------------------------------------ the corpus


@pytest.mark.parametrize("path", ALL_FLOWS, ids=flow_id)
def test_compiles_or_names_the_unsupported_construct(path):
    flow = load_ir(path)
    lines = expected_unsupported(flow)
    if not lines:
        files = compile_files(path)
        assert f"{flow.name}.asl.json" in files and f"{flow.name}.template.json" in files
        return
    with pytest.raises(CompileError) as info:
        compile_files(path)
    errors = [d for d in info.value.diagnostics if d.is_error]
    assert {d.code for d in errors} == {"FC501"}
    assert sorted({d.span.line for d in errors}) == lines
    assert all(d.message.startswith("stepfunctions: ") and d.span.file == flow.source.path for d in errors)


def test_unsupported_constructs_compile_with_a_warning_when_asked():
    path = next(p for p in ALL_FLOWS if p.stem == "resources")
    result = registry.get("stepfunctions")({}, unsupported_level="warning").compile(load_ir(path))
    assert "ResourcesFlow.asl.json" in result.files
    assert set(expected_unsupported(load_ir(path))) <= {d.span.line for d in result.diagnostics}
    assert all(d.code == "FC501" and not d.is_error for d in result.diagnostics)


def test_worker_mode_needs_bootstrapped_environments_and_says_what_it_cannot_grant():
    recsys = load_ir(next(p for p in ALL_FLOWS if p.stem == "recsys"))
    with pytest.raises(CompileError) as info:
        target(**{**MODES["worker"], "environments": "image"}).compile(recsys)
    errors = [d for d in info.value.diagnostics if d.is_error]
    pinned = [s for s in recsys.steps if s.decorators.pypi is not None or s.decorators.conda is not None]
    assert pinned and {d.span.line for d in errors} == {(s.decorators.pypi or s.decorators.conda).span.line
                                                        for s in pinned}
    assert all(d.code == "FC502" and "--environments bootstrap" in d.hint for d in errors)
    result = target(**MODES["worker"]).compile(recsys)
    machine = json.loads(result.files["RecSysFlow.asl.json"])
    fit_a = machine["States"]["start.branches"]["Branches"][0]["States"]["fit_a"]
    assert "--environment" in fit_a["Parameters"]["MessageBody"]["command"]
    warned = {d.span.line for d in result.diagnostics if not d.is_error}
    gpu_step = next(s for s in recsys.steps if s.decorators.resources is not None and s.decorators.resources.gpu)
    assert gpu_step.decorators.resources.span.line in warned


@pytest.mark.parametrize("path", COMPILABLE, ids=flow_id)
def test_golden(path, regen):
    flow = load_ir(path)
    modes = MODES if path.stem in MODE_GOLDENS and path.parent.name == "flows" else {"batch": MODES["batch"]}
    for mode, options in modes.items():
        files = compile_files(path, **options)
        folder = GOLDEN / "stepfunctions" / mode / flow_id(path)
        for name, data in files.items():
            check_golden(folder / name, data, regen)
        if not regen:
            kept = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            assert kept == sorted(files), f"golden files of {flow_id(path)} ({mode}) are not what the compile writes"


def test_compile_is_deterministic_and_has_no_machine_paths(tmp_path):
    """Twice, through the CLI, from two working directories: the same bytes,
    and nothing that names this machine."""
    sample = [p for p in COMPILABLE if p.stem in ("hostile", "nested_foreach", "recursive_switch", "schedule",
                                                   "batch_options")]
    outputs = []
    for n, cwd in enumerate((REPO, tmp_path)):
        out = tmp_path / f"out{n}"
        for path in sample:
            subprocess.run([sys.executable, "-m", "flowc", "compile", str(path), "-t", "stepfunctions",
                            "-o", f"{out}/{flow_id(path)}/", *WORKER], check=True, cwd=cwd, capture_output=True)
        outputs.append({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert len(outputs[0]) >= 2 * len(sample) and outputs[0] == outputs[1]
    for data in outputs[0].values():
        assert str(REPO).encode() not in data and str(tmp_path).encode() not in data


@pytest.mark.parametrize("mode", MODES)
def test_every_compile_gives_the_same_bytes_twice(mode):
    for path in COMPILABLE:
        first = target(**MODES[mode]).compile(load_ir(path)).files
        second = target(**MODES[mode]).compile(load_ir(path)).files
        assert first == second, flow_id(path)


def test_output_does_not_grow_with_foreach_width(tmp_path):
    """The width is data: the same flow with 10 or 100,000 items as its
    parameter's default gives the same states (only the top comment, which
    shows the default, differs)."""
    source = (REPO / "tests" / "flows" / "wide_foreach.py").read_text()
    machines = []
    for width in (10, 100_000):
        path = tmp_path / str(width) / "wide_foreach.py"
        path.parent.mkdir()
        path.write_text(source.replace("default=1000", f"default={width}"))
        from flowc.compiler import load_flow

        machine = json.loads(target().compile(load_flow(path)).files["WideForeachFlow.asl.json"])
        assert f"default {width}" in machine.pop("Comment")
        machines.append(machine)
    assert machines[0] == machines[1]


# ------------------------------------------------------------ the engine's own tooling


@pytest.fixture(scope="module")
def every_output(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every compilable flow in every mode, written to disk."""
    root = tmp_path_factory.mktemp("outputs")
    out: dict[str, dict[str, Path]] = {}
    for path in COMPILABLE:
        for mode, options in MODES.items():
            folder = root / mode / flow_id(path)
            folder.mkdir(parents=True)
            for name, data in compile_files(path, **options).items():
                (folder / name).write_bytes(data)
                out.setdefault(f"{mode}/{flow_id(path)}", {})[name] = folder / name
    return out


def test_both_asl_validators_accept_every_state_machine(every_output):
    assert validators_installed(), "the npm validators are missing: `make test` installs them (mk/stepfunctions.mk)"
    machines = [p for files in every_output.values() for n, p in files.items() if n.endswith(".asl.json")]
    results = validate(machines)
    assert len(results) == len(machines)
    problems = {f: r for f, r in results.items() if any(r.values())}
    assert problems == {}


def test_validators_catch_a_broken_state_machine(every_output, tmp_path):
    """The validators are live: a dangling Next and a malformed path are reported."""
    asl = every_output["worker/flows/foreach"]["ForeachFixtureFlow.asl.json"]
    machine = json.loads(asl.read_text())
    machine["States"]["join"]["Next"] = "nowhere"
    machine["States"]["start"]["ResultPath"] = "$.[out"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(machine))
    result = validate([broken])[str(broken)]
    assert result["asl-validator"] and result["amazon-states-language-service"]


def test_moto_accepts_every_state_machine_and_template(every_output, moto_server):
    sfn = moto_server.client("stepfunctions")
    cfn = moto_server.client("cloudformation")
    for n, (key, files) in enumerate(sorted(every_output.items())):
        asl = next(p for name, p in files.items() if name.endswith(".asl.json"))
        definition = asl.read_text()
        arn = sfn.create_state_machine(name=f"accept-{n}", definition=definition, roleArn=ROLE)["stateMachineArn"]
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == json.loads(definition)
        template = json.loads(next(p for name, p in files.items() if name.endswith(".template.json")).read_text())
        assert json.loads(template["Resources"]["StateMachine"]["Properties"]["DefinitionString"]) == \
            json.loads(definition)


def test_cfn_lint_accepts_every_template(every_output):
    """AWS's CloudFormation linter checks the templates (resource schemas,
    the state machine definition inside, references)."""
    templates = [str(p) for files in every_output.values() for n, p in files.items() if n.endswith(".template.json")]
    assert len(templates) == len(every_output)
    proc = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *templates], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cloudformation_stack_creates_the_state_machine_and_job_definitions(every_output, moto_server):
    files = every_output["batch/flows/foreach"]
    template = json.loads(files["ForeachFixtureFlow.template.json"].read_text())
    cfn = moto_server.client("cloudformation")
    cfn.create_stack(StackName="foreach-fixture", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "StateMachineRoleArn", "ParameterValue": ROLE}])
    stack = cfn.describe_stacks(StackName="foreach-fixture")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    arn = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "StateMachineArn")
    assert arn.endswith(":stateMachine:ForeachFixtureFlow")
    created = cfn.describe_stack_resources(StackName="foreach-fixture")["StackResources"]
    jobs = [r for r in created if r["ResourceType"] == "AWS::Batch::JobDefinition"]
    assert len(jobs) == len(json.loads(files["ForeachFixtureFlow.batch-jobs.json"].read_text())) == 4
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in created)


def test_batch_job_definitions_register_with_batch(every_output, moto_server):
    batch = moto_server.client("batch")
    for key, files in sorted(every_output.items()):
        jobs = next((p for name, p in files.items() if name.endswith(".batch-jobs.json")), None)
        if jobs is None:
            continue
        for job in json.loads(jobs.read_text()):
            reply = batch.register_job_definition(**job)
            assert reply["jobDefinitionName"] == job["jobDefinitionName"]


# ------------------------------------------------------------ options


def test_options_come_from_pyproject_and_flags(tmp_path):
    flow = REPO / "tests" / "flows" / "foreach.py"
    (tmp_path / "flow.py").write_text(flow.read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowc]\ndatastore = "s3://team-bucket/flows"\n\n'
        '[tool.flowc.stepfunctions]\nmode = "worker"\nqueue_url = "https://sqs.eu-west-1.amazonaws.com/1/q"\n'
        'max_concurrency = 7\n')

    def asl(*flags: str) -> dict:
        out = tmp_path / "out"
        subprocess.run([sys.executable, "-m", "flowc", "compile", "flow.py", "-t", "stepfunctions", "-o", f"{out}/",
                        *flags], check=True, cwd=tmp_path, capture_output=True)
        return json.loads((out / "ForeachFixtureFlow.asl.json").read_text())

    from_config = asl()
    task = from_config["States"]["start"]
    assert task["Resource"].startswith("arn:aws:states:::sqs:")
    assert task["Parameters"]["QueueUrl"] == "https://sqs.eu-west-1.amazonaws.com/1/q"
    assert "s3://team-bucket/flows" in task["Parameters"]["MessageBody"]["command"]
    assert from_config["States"]["start.foreach"]["MaxConcurrency"] == 7
    from_flags = asl("--mode", "batch", "--job-queue", "big", "--max-concurrency", "3",
                     "--foreach-mode", "distributed")
    task = from_flags["States"]["start"]
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.sync" and task["Parameters"]["JobQueue"] == "big"
    the_map = from_flags["States"]["start.foreach"]
    assert the_map["MaxConcurrency"] == 3 and the_map["ItemReader"]["Parameters"]["Bucket"] == "team-bucket"


@pytest.mark.parametrize("options, fragment", [
    ({"mode": "worker"}, "--queue-url"),
    ({"foreach_mode": "distributed", "datastore": "/data/flowc"}, "s3://"),
    ({"datastore": "gs://bucket/x"}, "s3://"),
    ({"retry_backoff": 0.5}, "retry_backoff"),
])
def test_option_combinations_that_cannot_work_are_errors(options, fragment):
    path = REPO / "tests" / "flows" / "foreach.py"
    with pytest.raises(CompileError) as info:
        compile_files(path, **options)
    assert any(d.code == "FC502" and fragment in d.message + (d.hint or "") for d in info.value.diagnostics)


def test_a_flow_without_outcomes_runs_on_batch_with_any_datastore():
    files = compile_files(REPO / "tests" / "flows" / "linear.py", datastore="gs://bucket/x")
    assert b"gs://bucket/x" in files["LinearFlow.asl.json"] or b"gs://bucket/x" in files["LinearFlow.batch-jobs.json"]


def test_project_names_the_state_machine_and_the_jobs():
    """Metaflow's rule (targets/naming.py): a personal deployment of the user
    who compiles, joined with '-' (Step Functions' names take no dot)."""
    files = compile_files(REPO / "tests" / "flows" / "schedule.py", user="ana")
    template = json.loads(files["ScheduledFlow.template.json"])
    assert template["Resources"]["StateMachine"]["Properties"]["StateMachineName"] == "forecasting-user-ana-ScheduledFlow"
    jobs = json.loads(files["ScheduledFlow.batch-jobs.json"])
    assert [j["jobDefinitionName"] for j in jobs] == ["forecasting-user-ana-ScheduledFlow-start",
                                                      "forecasting-user-ana-ScheduledFlow-end"]
    schedule = json.loads(files["ScheduledFlow.schedule.json"])
    assert schedule["ScheduleExpression"] == "cron(30 2 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert template["Resources"]["Schedule"]["Properties"]["Target"]["Arn"] == {"Ref": "StateMachine"}


def test_flowc_targets_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "flowc", "targets", "stepfunctions"], check=True,
                         capture_output=True, text=True, cwd=REPO).stdout
    assert "stepfunctions" in out and "foreach_mode" in out and "queue_url" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if line.strip() and line[0] != "["
            and len(line.split()) > 1 and not line.startswith(" ")}
    assert rows["packages"] == "yes" and rows["trigger"] == "yes" and rows["trigger_on_finish"] == "yes" \
        and rows["recursive_switch"] == "yes"



def _linear_source(n: int) -> str:
    names = ["start", *(f"s{i}" for i in range(1, n - 1)), "end"]
    lines = ["from flowc import FlowSpec, step", "", "", "class LongFlow(FlowSpec):"]
    for here, nxt in zip(names, names[1:] + [None]):
        lines += ["    @step", f"    def {here}(self):", f"        self.next(self.{nxt})" if nxt else "        pass", ""]
    return "\n".join(lines) + "\n"


def _nested_source(depth: int) -> str:
    """A foreach in a foreach ... depth deep, each body one step, closed by its joins."""
    lines = ["from flowc import FlowSpec, step", "", "", "class DeepFlow(FlowSpec):",
             "    @step", "    def start(self):", "        self.items = [1, 2]", "        self.next(self.f1, foreach='items')", ""]
    for i in range(1, depth + 1):
        nxt = f"f{i + 1}" if i < depth else "leaf"
        lines += ["    @step", f"    def f{i}(self):", "        self.items = [1]", f"        self.next(self.{nxt}, foreach='items')", ""]
    lines += ["    @step", "    def leaf(self):", "        self.x = 1", f"        self.next(self.j{depth})", ""]
    for i in range(depth, 0, -1):
        nxt = f"j{i - 1}" if i > 1 else "j0"
        lines += ["    @step", f"    def j{i}(self, inputs):", f"        self.next(self.{nxt})", ""]
    lines += ["    @step", "    def j0(self, inputs):", "        self.next(self.end)", "",
              "    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)


def _nested_branch_source(depth: int) -> str:
    """A static branch in a branch ... depth deep: each split b<i> branches to
    the next split and to a side step a<i>, joined by j<i>."""
    lines = ["from flowc import FlowSpec, step", "", "", "class DeepBranchFlow(FlowSpec):",
             "    @step", "    def start(self):", "        self.next(self.b1)", ""]
    for i in range(1, depth + 1):
        inner = f"b{i + 1}" if i < depth else "leaf"
        lines += ["    @step", f"    def b{i}(self):", f"        self.next(self.{inner}, self.a{i})", "",
                  "    @step", f"    def a{i}(self):", f"        self.next(self.j{i})", ""]
    lines += ["    @step", "    def leaf(self):", f"        self.next(self.j{depth})", ""]
    for i in range(depth, 0, -1):
        nxt = f"j{i - 1}" if i > 1 else "end"
        lines += ["    @step", f"    def j{i}(self, inputs):", f"        self.next(self.{nxt})", ""]
    lines += ["    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)


DEPTH = 150  # nesting levels: with one frame a level, more than the limit below leaves


@pytest.mark.parametrize("source", [_linear_source(1000), _linear_source(3000), _nested_source(DEPTH),
                                    _nested_branch_source(DEPTH)],
                         ids=["linear-1000", "linear-3000", f"foreach-in-foreach-{DEPTH}",
                              f"branch-in-branch-{DEPTH}"])
def test_long_and_deep_flows_compile_without_recursion_limits(tmp_path, source):
    """The state machine is built in one pass over the flow's order and written
    as JSON with an explicit stack: neither a long flow nor a deeply nested
    one costs recursion (Step Functions once died with RecursionError at 1,000
    steps, and at a few hundred nested foreach levels)."""
    import sys as _sys

    from flowc.compiler.pipeline import load_flow

    path = tmp_path / "flow.py"
    path.write_text(source)
    flow = load_flow(path)
    limit = _sys.getrecursionlimit()
    _sys.setrecursionlimit(200)  # far below the flow's length: any recursion per step would fail
    try:
        files = target(foreach_mode="inline", datastore="s3://bucket/ds").compile(flow).files
    finally:
        _sys.setrecursionlimit(limit)
    machine = json.loads(files[f"{flow.name}.asl.json"])
    assert machine["States"]["flowc.init"]["Next"] == "start"
    # every step's Task is in the machine once, each with its timeout, at its depth
    tasks, deepest, blocks = {}, 0, [(machine["States"], 0)]
    while blocks:
        states, depth = blocks.pop()
        deepest = max(deepest, depth)
        for name, state in states.items():
            if state["Type"] == "Task" and "." not in name:
                assert name not in tasks and "TimeoutSeconds" in state
                tasks[name] = depth
            blocks += [(b["States"], depth + 1) for b in state.get("Branches", [])]
            if "ItemProcessor" in state:
                blocks.append((state["ItemProcessor"]["States"], depth + 1))
    assert set(tasks) == {s.name for s in flow.steps}
    assert deepest == {"LongFlow": 0, "DeepFlow": DEPTH + 1, "DeepBranchFlow": DEPTH}[flow.name]  # start opens a foreach too


@pytest.mark.parametrize("value", [{}, [], {"a": [], "b": {}}, [{}], 3, "s", None, [float("nan"), 1e300, -0.0],
                                   {"x": [1, 2.5, None, True, False, "é\u2028\n\"\\ ${x} {{y}} \U0001f600"],
                                    1: 2, None: 3, True: [[[]]]}, (1, (2,))])
def test_the_json_writer_writes_what_the_json_module_writes(value):
    """targets/stepfunctions/jsontext.py: the same text as json.dumps, compact and indented."""
    from flowc.targets.stepfunctions.jsontext import json_text

    for indent in (None, 0, 2):
        assert json_text(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


# ------------------------------------------------------------ the shared lowerings, on every flow


def _blocks(machine: dict):
    """Every States block of a machine (top, Parallel branches, Map item processors)."""
    pending = [machine["States"]]
    while pending:
        states = pending.pop()
        yield states
        for state in states.values():
            pending += [b["States"] for b in state.get("Branches", [])]
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"]["States"])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_choice_has_a_default_and_every_task_a_timeout(mode):
    """Every Choice has a Default in its own block; a switch's is a Fail state
    naming the step. Every step's Task has TimeoutSeconds = base.engine_timeout
    (@timeout + 60 s, else Metaflow's 5 days); the S3 read of an outcome, 60 s."""
    from flowc.targets.base import engine_timeout
    from flowc.targets.stepfunctions.tasks import READ_TIMEOUT

    switches = 0
    for path in COMPILABLE:
        flow = load_ir(path)
        machine = json.loads(compile_files(path, **MODES[mode])[f"{flow.name}.asl.json"])
        for states in _blocks(machine):
            for name, state in states.items():
                if state["Type"] == "Choice":
                    assert state["Default"] in states, (path, name)
                    if name.endswith(".switch"):
                        switches += 1
                        step = name[:-len(".switch")]
                        fail = states[state["Default"]]
                        assert fail["Type"] == "Fail" and fail["Error"] == "flowc.UnknownCase"
                        assert f"step {step} " in fail["Cause"]
                        assert {c["StringEquals"] for c in state["Choices"]} == set(flow.step(step).cases.values())
                if state["Type"] == "Task":
                    if "." in name:
                        assert state["TimeoutSeconds"] == READ_TIMEOUT and name.endswith(".read")
                    else:
                        assert state["TimeoutSeconds"] == engine_timeout(flow.step(name), 60), (path, name)
    assert switches > 10


def test_job_definitions_are_the_shared_batch_lowering():
    """Each step's job definition: resourceRequirements from aws_batch and the
    one unit policy (MiB; 1 vCPU and 4096 MiB when the step asks for nothing),
    attemptDurationSeconds from engine_timeout, named by Metaflow's @project rule."""
    from flowc.targets.aws_batch import resource_requirements
    from flowc.targets.base import engine_timeout
    from flowc.targets.naming import deployment_name
    from flowc.targets.resources import needs_of

    defaults = 0
    for path in COMPILABLE:
        flow = load_ir(path)
        files = compile_files(path)
        if f"{flow.name}.batch-jobs.json" not in files:
            continue
        jobs = {j["jobDefinitionName"]: j for j in json.loads(files[f"{flow.name}.batch-jobs.json"])}
        base = deployment_name(flow, "flowc", sep="-", allowed="A-Za-z0-9_-")  # the tests' METAFLOW_USER
        template = json.loads(files[f"{flow.name}.template.json"])
        assert template["Resources"]["StateMachine"]["Properties"]["StateMachineName"] == base[:80]
        for step in flow.steps:
            job = jobs[f"{base}-{step.name}"[:128]]
            got = job["containerProperties"]["resourceRequirements"]
            assert got == resource_requirements(needs_of(step)), (path, step.name)
            assert job["timeout"]["attemptDurationSeconds"] == max(60, engine_timeout(step, 60))
            if not needs_of(step).asked:
                defaults += 1
                assert got == [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4096"}]
    assert defaults > 20


def test_a_case_no_choice_names_fails_the_execution_naming_the_step(moto_server):
    """The switch's Choice and its Default run in moto's interpreter with an
    outcome naming no case: the execution fails with flowc.UnknownCase and a
    cause naming the step (the runtime already refuses such a value, as
    Metaflow does; the state machine never goes on silently)."""
    import time

    flow = load_ir(REPO / "tests" / "flows" / "switch.py")
    machine = json.loads(compile_files(REPO / "tests" / "flows" / "switch.py", mode="worker",
                                       queue_url="https://sqs.us-east-1.amazonaws.com/1/q")[f"{flow.name}.asl.json"])
    switch = next(s for s in flow.steps if s.kind == ir.SWITCH)
    choice = machine["States"][f"{switch.name}.switch"]
    states = {"outcome": {"Type": "Pass", "Result": {"chosen": "no_such_step"}, "ResultPath": "$.out",
                          "Next": "choice"},
              "choice": choice,
              choice["Default"]: machine["States"][choice["Default"]]}
    for c in choice["Choices"]:
        states[c["Next"]] = {"Type": "Succeed"}
    sfn = moto_server.client("stepfunctions")
    arn = sfn.create_state_machine(name=f"choice-{time.monotonic_ns()}", roleArn=ROLE,
                                   definition=json.dumps({"StartAt": "outcome", "States": states}))["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    for _ in range(300):
        desc = sfn.describe_execution(executionArn=run)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "flowc.UnknownCase" and f"step {switch.name} " in desc["cause"]
