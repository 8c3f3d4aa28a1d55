"""Events in the Airflow DAG file, checked by Airflow itself (DagBag, the
timetable it builds, the pods it renders, the assets it accepts) on Airflow 3
and 2.10; refusals at the decorator's line. The chain run by Airflow's
scheduler is test_airflow_events.py."""

from __future__ import annotations

import json

import pytest

from flowc.compiler import load_flow
from flowc.compiler.diagnostics import CompileError
from flowc.targets.airflow import AirflowTarget, plan_dag

from .test_airflow_events import INGEST, REPORT, TRAIN

HEADER = "from flowc import FlowSpec, Parameter, current, project, schedule, step, trigger, trigger_on_finish\n\n\n"
BODY = '''
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def flow_file(tmp_path, decorators: str, params: str = "", name: str = "Sub"):
    path = tmp_path / f"{name.lower()}.py"
    path.write_text(HEADER + decorators + f"class {name}(FlowSpec):\n" + (params or "    pass\n") + BODY)
    return path


@pytest.fixture(params=[3, 2], ids=["airflow3", "airflow2"])
def airflow(request, airflow3):
    if request.param == 3:
        return airflow3.probe, 3
    return request.getfixturevalue("airflow2").probe, 2


def write_dag(tmp_path, path, version, **options):
    target = AirflowTarget({"airflow_version": version, **options})
    out = target.compile(load_flow(path))
    ((name, data),) = out.files.items()
    folder = tmp_path / f"dags{version}"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name, data.decode()


def test_the_fixture_dags_load_scheduled_on_their_events(airflow, tmp_path):
    probe, version = airflow
    files = {path.stem: write_dag(tmp_path, path, version)[0] for path in (INGEST, TRAIN, REPORT)}
    loaded = probe.ask(op="load", folder=str(files["ingest"].parent))
    assert loaded["errors"] == {} and sorted(loaded["dags"]) == ["Ingest", "Report", "Train"]
    kind = "AssetTriggeredTimetable" if version == 3 else "DatasetTriggeredTimetable"
    for dag_id, stem in (("Train", "train"), ("Report", "report")):
        answer = probe.ask(op="inspect", file=str(files[stem]), dag_id=dag_id)
        assert answer["schedule"]["type"] == kind
    assert probe.ask(op="inspect", file=str(files["ingest"]), dag_id="Ingest")["schedule"]["type"] == "NullTimetable"


def test_a_run_not_started_by_events_gets_an_empty_trigger_and_the_defaults(airflow, tmp_path):
    """The start pod's command as Airflow renders it with no triggering events:
    --trigger "" (the runtime's "not triggered") and the parameters' defaults."""
    probe, version = airflow
    file, _ = write_dag(tmp_path, REPORT, version)
    answer = probe.ask(op="inspect", file=str(file), dag_id="Report")
    command = answer["tasks"]["start"]["pod"]["spec"]["containers"][0]["command"]
    assert command[command.index("--trigger") + 1] == ""
    assert json.loads(command[command.index("--params") + 1]) == {"rows": 0, "label": "none", "region": "eu"}
    end = answer["tasks"]["end"]["pod"]["spec"]["containers"][0]["command"]
    assert "--trigger" not in end and "--params" not in end


def test_schedule_and_events_either_start_a_run(airflow, tmp_path):
    probe, version = airflow
    path = flow_file(tmp_path, '@schedule(cron="0 6 * * *", timezone="Europe/Paris")\n@trigger(event="nightly")\n')
    file, text = write_dag(tmp_path, path, version)
    answer = probe.ask(op="inspect", file=str(file), dag_id="Sub")
    assert answer["schedule"]["type"] == ("AssetOrTimeSchedule" if version == 3 else "DatasetOrTimeSchedule")
    assert 'CronTriggerTimetable("0 6 * * *", timezone="Europe/Paris")' in text


def test_event_names_become_assets_airflow_accepts(airflow, tmp_path):
    """Any event name (Metaflow's, and what a step may publish): an asset Airflow
    accepts, one per name, Metaflow's names kept as they are."""
    probe, version = airflow
    file, _ = write_dag(tmp_path, TRAIN, version)
    names = ["data_ready", "metaflow.proj.user.alice.Ingest.end", "self", "context", "a/b?c=1#d e", "naïve-事件",
             "http://example.com/x", "airflow://x", "x" * 1400, "x" * 1401, "x" * 5000, "x" * 5000 + "y", "-"]
    assets = probe.ask(op="event_assets", file=str(file), names=names)["assets"]
    assert all("error" not in a for a in assets), assets
    uris = [a["uri"] for a in assets]
    assert len(set(uris)) == len(names)  # no two names share an asset
    assert all(len(uri) <= 1500 and uri.isascii() and uri.startswith("x-flowc-event:") for uri in uris)
    for name, uri in zip(names, uris):
        if name.replace("_", "").replace(".", "").replace("-", "").isalnum() and name.isascii() and len(name) < 1400:
            assert uri == "x-flowc-event:" + name
    if version == 3:
        assert all(a["name"] == a["uri"] for a in assets)


def test_subscriptions_point_back_at_the_decorator(tmp_path):
    path = flow_file(tmp_path, '@trigger_on_finish(flows=["Ingest", "other.prod.Clean"])\n@project(name="ml")\n',
                     name="Fit")
    text = AirflowTarget({"user": "alice"}).compile(load_flow(path)).files["ml.user.alice.Fit.py"].decode()
    assert "    # fit.py:4 @trigger_on_finish(flow='Ingest')\n" \
           '    ("metaflow.ml.user.alice.Ingest.end", "run", {}),\n' in text  # this flow's own @project branch
    assert '("metaflow.other.prod.Clean.end", "run", {}),' in text
    assert 'END_EVENT = "metaflow.ml.user.alice.Fit.end"' in text


def test_trigger_options_are_refused_at_the_decorator(tmp_path):
    """(The capability table's carried-option rule: Airflow honours no engine option of a trigger.)"""
    path = flow_file(tmp_path, '\n@trigger(event="e", options={"filters": []})\n')
    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and diag.span.line == 5 and diag.message.startswith("airflow: @trigger(options=...)")


def test_a_required_parameter_no_event_fills_is_refused(tmp_path):
    params = '    table = Parameter("table", required=True)\n    day = Parameter("day", default="mon")\n'
    path = flow_file(tmp_path, '@trigger(event={"name": "e", "parameters": {"day": "d"}})\n', params)
    with pytest.raises(CompileError) as err:
        AirflowTarget({}).compile(load_flow(path))
    (diag,) = err.value.diagnostics
    assert diag.code == "FC501" and diag.span.line == 6 and "'table'" in diag.message


def test_a_required_parameter_an_event_fills_may_be_null_in_airflow(airflow, tmp_path):
    probe, version = airflow
    params = '    table = Parameter("table", required=True)\n'
    path = flow_file(tmp_path, '@trigger(event={"name": "e", "parameters": {"table": "t"}})\n', params)
    plan = plan_dag(load_flow(path), {})
    assert [(p.name, p.has_default, p.schema_type) for p in plan.params] == [("table", True, ["null", "string"])]
    file, _ = write_dag(tmp_path, path, version)
    answer = probe.ask(op="inspect", file=str(file), dag_id="Sub")
    table = answer["params"]["table"]
    assert table["value"] is None and table["schema"]["type"] == ["null", "string"]  # valid with no value
