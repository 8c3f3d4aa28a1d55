"""Every emitted DAG loads in Airflow's own DagBag with zero import errors:
Airflow 3 for the default output, Airflow 2.10 (its own environment) for
`--airflow-version 2`. The loaded DAG holds exactly the tasks the plan made."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_FLOWS, load_ir
from tests.targets.airflow.conftest import compile_flow
from tests.targets.airflow.test_airflow_compile import fid

FLOWS = ALL_FLOWS
OPTION_SETS = {
    "pods": {},
    "local": {"placement": "local"},
    "batch": {"placement": "batch", "batch_queue": "default-queue"},
}


def expected_task_ids(path, options):
    from flowc.targets.airflow import plan_dag

    target_options = {k: v for k, v in options.items()}
    plan = plan_dag(load_ir(path), target_options)
    ids = {t.full_id for t in plan.tasks}
    ids |= {f"{t.group.id}.{t.gate_id}" if t.group else t.gate_id for t in plan.tasks if t.gate_id}
    ids |= {t.out_full_id for t in plan.tasks if t.reader}  # read back what a Batch split or switch decided
    ids |= {lister.task_id for lister in plan.listers} | {b.task_id for b in plan.branchers}
    return plan.dag_id, ids


def write_dags(folder, version):
    """Every flow under every option set, one file each: {file: (dag_id, task ids)}."""
    expected = {}
    for name, options in OPTION_SETS.items():
        for path in FLOWS:
            opts = {**options, "airflow_version": version, "dag_id": f"{fid(path).replace('/', '.')}.{name}"}
            text, _ = compile_flow(path, unsupported="warn", **opts)
            file = f"{fid(path).replace('/', '_')}_{name}.py"
            (folder / file).write_text(text, encoding="utf-8")
            expected[file] = expected_task_ids(path, opts)
    return expected


def check_loaded(answer, expected):
    assert answer["errors"] == {}, "\n\n".join(f"{k}:\n{v}" for k, v in answer["errors"].items())
    loaded = {info["file"]: (dag_id, set(info["tasks"])) for dag_id, info in answer["dags"].items()}
    assert set(loaded) == set(expected)
    for file, (dag_id, tasks) in expected.items():
        assert loaded[file] == (dag_id, tasks), file


def test_every_dag_loads_in_airflow_3(airflow3, tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    expected = write_dags(folder, 3)
    check_loaded(airflow3.probe.ask(op="load", folder=str(folder)), expected)


def test_every_airflow_2_dag_loads_in_airflow_2_10(airflow2, tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    expected = write_dags(folder, 2)
    check_loaded(airflow2.probe.ask(op="load", folder=str(folder)), expected)


def test_airflow_3_dags_do_not_load_on_airflow_2(airflow2, tmp_path):
    """The default output is Airflow 3's (airflow.sdk): the version flag matters."""
    folder = tmp_path / "dags"
    folder.mkdir()
    text, _ = compile_flow(next(p for p in FLOWS if fid(p) == "flows/linear"))
    (folder / "linear.py").write_text(text)
    answer = airflow2.probe.ask(op="load", folder=str(folder))
    assert "airflow.sdk" in answer["errors"]["linear.py"]


@pytest.mark.parametrize("name", ["flows/schedule", "flows/parameters", "flows/hostile"])
@pytest.mark.parametrize("version", [3, 2])
def test_schedule_and_params_as_airflow_reads_them(name, version, airflow3, airflow2, tmp_path):
    probe = (airflow3 if version == 3 else airflow2).probe
    path = next(p for p in FLOWS if fid(p) == name)
    flow = load_ir(path)
    text, _ = compile_flow(path, airflow_version=version)
    file = tmp_path / "dag.py"
    file.write_text(text, encoding="utf-8")
    from flowc.targets.airflow import dag_id_of

    answer = probe.ask(op="inspect", file=str(file), dag_id=dag_id_of(flow))
    assert answer["description"] == (flow.docstring or "").strip().splitlines()[0]
    assert answer["doc_md"] == flow.docstring
    assert set(answer["params"]) == {p.name for p in flow.parameters}
    for p in flow.parameters:
        got = answer["params"][p.name]
        assert got["value"] == p.default and got["description"] == p.help
    if flow.decorators.schedule is not None:
        assert answer["schedule"]["type"] == "CronTriggerTimetable"
        assert answer["schedule"]["expression"] == flow.decorators.schedule.cron
        assert answer["schedule"]["timezone"] == flow.decorators.schedule.timezone
        assert "project:forecasting" in answer["tags"]


def test_required_parameters_have_no_value(airflow3, tmp_path):
    path = next(p for p in FLOWS if fid(p) == "flows/required_params")
    text, _ = compile_flow(path)
    file = tmp_path / "dag.py"
    file.write_text(text)
    params = airflow3.probe.ask(op="inspect", file=str(file), dag_id="RequiredParamsFlow")["params"]
    assert params["dataset"]["has_value"] is False  # Airflow asks for it at trigger time
    assert params["dataset"]["schema"] == {"type": "string"}
    assert params["limit"]["value"] is None and params["limit"]["schema"] == {"type": ["null", "integer"]}


def test_a_step_named_like_a_group_variable_keeps_its_name(airflow3, tmp_path):
    """Python names come from python_emit.PyNames: a helper whose variable a
    step already holds gets a suffix (only task ids, which users see, clash)."""
    path = tmp_path / "flow.py"
    path.write_text('''from flowc import FlowSpec, step


class GroupNameFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.foreach_start_group, foreach="items")

    @step
    def foreach_start_group(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    text, _ = compile_flow(path)
    assert "    foreach_start_group_ = foreach_start.expand(index=start_indices)" in text
    file = tmp_path / "dags" / "dag.py"
    file.parent.mkdir()
    file.write_text(text)
    tasks = airflow3.probe.ask(op="inspect", file=str(file), dag_id="GroupNameFlow")["tasks"]
    assert tasks["foreach_start.foreach_start_group"]["upstream"] == ["start_indices"]
    assert tasks["join"]["upstream"] == ["foreach_start.foreach_start_group"]


SCHEDULED = '''from flowc import FlowSpec, schedule, step


@schedule({args})
class Every(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("args, written, timetable, expression", [
    ("hourly=True", '"@hourly"', None, "0 * * * *"),
    ("daily=True", '"@daily"', None, "0 0 * * *"),
    ("weekly=True", '"@weekly"', None, "0 0 * * 0"),
    ("cron='15 4 * * *'", '"15 4 * * *"', None, "15 4 * * *"),
    ("daily=True, timezone='Asia/Tokyo'", 'CronTriggerTimetable("0 0 * * *", timezone="Asia/Tokyo")',
     "CronTriggerTimetable", "0 0 * * *"),
])
@pytest.mark.parametrize("version", [3, 2])
def test_every_schedule_kind(args, written, timetable, expression, version, airflow3, airflow2, tmp_path):
    from flowc.compiler import load_flow
    from flowc.targets.airflow import AirflowTarget

    path = tmp_path / "every.py"
    path.write_text(SCHEDULED.format(args=args))
    text = next(iter(AirflowTarget({"airflow_version": version}).compile(load_flow(path)).files.values())).decode()
    assert f"    schedule={written},\n" in text
    dag = tmp_path / "dags" / "every_dag.py"
    dag.parent.mkdir()
    dag.write_text(text)
    answer = (airflow3 if version == 3 else airflow2).probe.ask(op="inspect", file=str(dag), dag_id="Every")
    if timetable:
        assert answer["schedule"]["type"] == timetable
    presets = {"0 * * * *": "@hourly", "0 0 * * *": "@daily", "0 0 * * 0": "@weekly"}
    assert answer["schedule"]["expression"] in (expression, presets.get(expression))


def test_a_required_parameter_on_a_scheduled_flow_is_refused(tmp_path):
    from flowc.compiler import load_flow
    from flowc.compiler.diagnostics import CompileError
    from flowc.targets.airflow import AirflowTarget

    path = tmp_path / "sched.py"
    path.write_text('''from flowc import FlowSpec, Parameter, schedule, step


@schedule(daily=True)
class Sched(FlowSpec):
    day = Parameter("day", required=True)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and diag.span.line == 6 and "required parameter 'day'" in diag.message
