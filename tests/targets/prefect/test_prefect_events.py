"""@trigger and @trigger_on_finish on Prefect, without a server: the
deployment triggers in prefect.yaml are Prefect's own DeploymentTrigger
models (and the automations Prefect makes of them), their parameter
templates render, with Prefect's own hydration and Jinja sandbox, to the
values Metaflow's mapping gives, and the generated flow hands the events to
the runtime as flowc's ``--trigger`` takes them. test_prefect_events_engine.py
fires them on Prefect's server."""

from __future__ import annotations

import datetime
import json
import math
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, load_ir

from .conftest import compile_flow

EVENTS = Path(__file__).resolve().parent / "events"


def triggers_of(path: Path, **options) -> tuple[list[dict], object]:
    files, diags, target = compile_flow(path, **options)
    assert not [d for d in diags if d.is_error], diags
    doc = yaml.safe_load(files["prefect.yaml"])
    return doc["deployments"][0].get("triggers", []), target.plan(target.lower(target.flow))


def prefect_models(triggers: list[dict]):
    """Each trigger as Prefect reads prefect.yaml's (``prefect deploy``), and the
    automation it creates from it, both validated by Prefect's models."""
    from pydantic import TypeAdapter
    from prefect.events.schemas.automations import AutomationCore
    from prefect.events.schemas.deployment_triggers import DeploymentTriggerTypes

    out = []
    for spec in triggers:
        model = TypeAdapter(DeploymentTriggerTypes).validate_python(spec)
        model.set_deployment_id(uuid.uuid4())
        automation = AutomationCore.model_validate(model.as_automation().model_dump())
        out.append((model, automation))
    return out


def received(name: str, payload: dict, resource: str = "flowc.task.Up/1/start/0"):
    from prefect.server.events.schemas.events import ReceivedEvent

    return ReceivedEvent(id=uuid.uuid4(), occurred=datetime.datetime.now(datetime.timezone.utc), event=name,
                         resource={"prefect.resource.id": resource}, payload=payload)


def render(parameters: dict, events: list) -> dict:
    """The parameters a RunDeployment action gives the flow run (Prefect's
    server: hydration with the firing's ``event`` and ``events``)."""
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.utilities.user_templates import register_user_template_filters
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    register_user_template_filters(all_filters)
    context = HydrationContext(render_jinja=True, raise_on_error=True,
                               jinja_context={"event": events[-1], "events": events})
    return hydrate(json.loads(json.dumps(parameters)), context)


def test_one_event_is_an_event_trigger_with_its_mapping():
    triggers, plan = triggers_of(EVENTS / "report.py")
    ((model, automation),) = prefect_models(triggers)
    assert type(model).__name__ == "DeploymentEventTrigger"
    assert model.expect == {"data_ready"}
    assert model.match.model_dump() == {"prefect.resource.id": "flowc.*"}
    assert (model.posture.value, model.threshold) == ("Reactive", 1)
    assert model.description == "@trigger at report.py:5"
    (action,) = automation.actions
    assert action.type == "run-deployment" and action.parameters == model.parameters
    assert set(model.parameters) == {"table_name", "rows", "note", plan.trigger_param} and plan.trigger_param


def test_several_events_are_one_compound_trigger_that_requires_all():
    triggers, plan = triggers_of(EVENTS / "both.py")
    ((model, automation),) = prefect_models(triggers)
    assert type(model).__name__ == "DeploymentCompoundTrigger"
    assert model.require == "all" and model.within is None  # as Metaflow: no time limit
    assert [(t.type, t.expect, t.match.model_dump()) for t in model.triggers] == [
        ("event", {"report_done"}, {"prefect.resource.id": "flowc.*"}),
        ("event", {"approved"}, {"prefect.resource.id": "flowc.*"})]
    assert automation.trigger.type == "compound"


@pytest.mark.parametrize("decorator, expect", [
    ('@trigger_on_finish(flow="Ingest")', ["metaflow.Ingest.end"]),
    ('@trigger_on_finish(flows=["Ingest", "Clean"])', ["metaflow.Ingest.end", "metaflow.Clean.end"]),
    ('@project(name="shop")\n@trigger_on_finish(flow="Ingest")', ["metaflow.shop.user.ann.Ingest.end"]),
    ('@trigger_on_finish(flow="other.prod.Ingest")', ["metaflow.other.prod.Ingest.end"]),
])
def test_an_upstream_flow_s_end_is_its_end_event(decorator: str, expect: list, tmp_path: Path):
    path = tmp_path / "down.py"
    path.write_text("from flowc import FlowSpec, step, project, trigger_on_finish\n\n"
                    f"{decorator}\nclass Down(FlowSpec):\n    @step\n    def start(self):\n"
                    "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    triggers, _ = triggers_of(path, user="ann")
    ((model, _),) = prefect_models(triggers)
    children = model.triggers if len(expect) > 1 else [model]
    assert [sorted(t.expect) for t in children] == [[e] for e in expect]
    assert [t.match.model_dump()["prefect.resource.id"] for t in children] == [
        f"flowc.run.{e.split('.')[-2]}/*" for e in expect]


def test_the_templates_map_payload_fields_and_keep_defaults():
    """Metaflow's mapping: a field's value, else the parameter's default; a text
    parameter takes a field that is not text as JSON text (as `flowc trigger`)."""
    (spec,), plan = triggers_of(EVENTS / "report.py")
    got = render(spec["parameters"], [received("data_ready", {"table": "orders", "rows": 7, "x": 1})])
    events = got.pop(plan.trigger_param)
    assert got == {"table_name": "orders", "rows": 7, "note": "no note"}
    assert [e["event"] for e in events] == ["data_ready"] and events[0]["payload"]["rows"] == 7
    got = render(spec["parameters"], [received("data_ready", {"table": {"a": [1, 2]}, "missing": None})])
    # a text parameter takes other values as their JSON text, null too (as `flowc trigger` passes it)
    assert (got["table_name"], got["rows"], got["note"]) == ('{"a": [1, 2]}', 0, "null")


def test_the_compound_templates_read_each_event_by_name():
    (spec,), plan = triggers_of(EVENTS / "both.py")
    a, b = received("report_done", {"table": "sales"}), received("approved", {"by": "ann"})
    got = render(spec["parameters"], [b, a, b])  # Prefect: the last event, then each child firing's
    assert {k: v for k, v in got.items() if k != plan.trigger_param} == {"table": "sales", "approver": "ann",
                                                                       "level": 1}


HOSTILE = ["{{ $HOME }}", "it's \\ \"quoted\"", "{% raw %}", "ünï\u2028code \U0001f600", "#}{#", "%}"]


@pytest.mark.parametrize("default", HOSTILE + [None, 1.5e-7, -3, True, [1, "{{x}}"], {"k": "v}}"}])
def test_any_default_survives_the_template(default, tmp_path: Path):
    """Defaults are Jinja literals: no {{ reaches prefect.yaml
    (prefect deploy would substitute it), and each renders back exactly."""
    field = "from_upstream_2"
    if isinstance(default, (list, dict)):
        param = f"p = Parameter('p', type=JSONType, default={json.dumps(default)!r})"
    else:
        param = f"p = Parameter('p', default={default!r})"
    path = tmp_path / "odd.py"
    path.write_text("from flowc import FlowSpec, JSONType, Parameter, step, trigger\n\n"
                    f"@trigger(event={{'name': 'go', 'parameters': {{'p': {field!r}}}}})\n"
                    f"class Odd(FlowSpec):\n    {param}\n\n    @step\n    def start(self):\n"
                    "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    files, diags, _ = compile_flow(path)
    assert not [d for d in diags if d.is_error], diags
    from flowc.targets.prefect.yamltext import PREFECT_PLACEHOLDER, strings

    doc = yaml.safe_load(files["prefect.yaml"])
    assert not [v for v in strings(doc) if PREFECT_PLACEHOLDER.search(v)]
    (spec,) = doc["deployments"][0]["triggers"]
    prefect_models([spec])
    assert render(spec["parameters"], [received("go", {})])["p"] == default


def mapped_flow(tmp_path: Path, ptype: str) -> dict:
    """The trigger's parameters of a flow whose parameter p of ``ptype`` maps field f."""
    default = {"str": "'d'", "int": "0", "float": "0.5", "bool": "False", "json": "'{}'"}[ptype]
    extra = ", type=JSONType" if ptype == "json" else ""
    path = tmp_path / f"typed_{ptype}.py"
    path.write_text("from flowc import FlowSpec, JSONType, Parameter, step, trigger\n\n"
                    "@trigger(event={'name': 'go', 'parameters': {'p': 'f'}})\n"
                    f"class Typed(FlowSpec):\n    p = Parameter('p', default={default}{extra})\n\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n    @step\n"
                    "    def end(self):\n        pass\n")
    (spec,), _ = triggers_of(path)
    return spec["parameters"]


VALUES = ["7", 7, 7.0, 2.5, "2.5", " 3 ", "-4", "1_000", "1e3", "inf", "nan", "0x10", True, False, "off",
          " Yes", "maybe", 0, 1, None, [1, "a"], {"k": [1]}, '{"k": [1]}', "[1, 2]", "text", "", "null"]


@pytest.mark.parametrize("ptype", ["str", "int", "float", "bool", "json"])
def test_a_payload_value_becomes_what_flowc_trigger_makes_of_it(ptype: str, tmp_path: Path):
    """The template types a payload value as the runtime reads the text `flowc
    trigger` passes for it (runtime/params.py convert): the value if text, else
    its JSON. What the type cannot take renders null (Prefect then refuses the
    run for an int, float or bool), or fails to render as JSON."""
    from prefect.utilities.schema_tools.hydration import HydrationError
    from flowc.runtime.params import ParameterError, convert

    parameters = mapped_flow(tmp_path, ptype)
    for value in VALUES:
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            expected = convert({"name": "p", "type": ptype}, text)
        except ParameterError:
            expected = "refused"
        try:
            got = render(parameters, [received("go", {"f": value})])["p"]
        except HydrationError:
            got = "refused"
        if got is None and ptype in ("int", "float", "bool"):
            got = "refused"  # null is not of the parameter's type: Prefect refuses the run
        if value == "nan" and ptype == "float":
            assert math.isnan(got) and math.isnan(expected)
            continue
        assert got == expected, (ptype, value)


def test_trigger_options_are_refused_naming_prefect(tmp_path: Path):
    path = tmp_path / "opts.py"
    path.write_text("from flowc import FlowSpec, step, trigger\n\n"
                    "@trigger(event='go', options={'retries': 2})\nclass Opts(FlowSpec):\n    @step\n"
                    "    def start(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    from flowc.compiler import CompileError

    with pytest.raises(CompileError) as caught:
        compile_flow(path)
    (err,) = caught.value.diagnostics
    assert err.code == "FC501" and "prefect" in err.message and err.span.line == 3


def test_the_start_task_hands_the_events_to_the_runtime():
    """The flow function's trigger parameter reaches only the start task, whose
    runtime command gets ``--trigger`` with flowc's events."""
    from flowc.engines.prefect import FlowRuntime, trigger_events

    files, _, target = compile_flow(EVENTS / "train.py")
    text = files["prefect_flow.py"].decode()
    plan = target.plan(target.lower(target.flow))
    assert f"start_future = start.submit(run_id, \"0\", params, {plan.trigger_param})" in text
    assert 'RUNTIME.run_step("start", run_id, index, params=params, trigger=trigger)' in text
    assert 'RUNTIME.run_step("end", run_id, index)' in text
    assert 'end_event="metaflow.Train.end"' in text
    prefect_end = {"id": str(uuid.uuid4()), "event": "metaflow.Ingest.end", "occurred": "2030-01-02T03:04:05Z",
                   "resource": {"prefect.resource.id": "flowc.run.Ingest/r1", "flowc.event.type": "run",
                                "flowc.event.id": "Ingest/r1/end/0"},
                   "payload": {"flow_name": "Ingest", "run_id": "r1", "pathspec": "Ingest/r1/end/0"}}
    external = {"id": str(uuid.uuid4()), "event": "go", "occurred": "2030-01-02T03:04:05.5+00:00",
                "resource": {"prefect.resource.id": "flowc.external"}, "payload": {"k": 1}}
    events = trigger_events([prefect_end, external, prefect_end])
    assert events == [
        {"name": "metaflow.Ingest.end", "type": "run", "id": "Ingest/r1/end/0", "timestamp": 1893553445,
         "payload": {"flow_name": "Ingest", "run_id": "r1", "pathspec": "Ingest/r1/end/0"}},
        {"name": "go", "type": "event", "id": external["id"], "timestamp": 1893553445, "payload": {"k": 1}}]
    runtime = FlowRuntime(flow="Train", module=str(REPO / "x.py"), command=["python", "--datastore", "ds"])
    argv = runtime.argv("start", "r", "0", 0, "out.json", trigger=[prefect_end])
    assert json.loads(argv[argv.index("--trigger") + 1]) == events[:1]
    assert runtime.datastore == str(REPO / "ds")
    assert "--trigger" not in runtime.argv("start", "r", "0", 0, "out.json")


def test_a_flow_without_events_takes_no_trigger_parameter():
    files, _, target = compile_flow(REPO / "tests" / "flows" / "linear.py")
    assert target.plan(target.lower(target.flow)).trigger_param is None
    assert "trigger" not in files["prefect_flow.py"].decode().split("RUNTIME = ")[1].split("# ---")[0] \
        .replace("end_event", "")
    assert "triggers:" not in files["prefect.yaml"].decode()


def test_a_parameter_called_like_the_trigger_parameter_keeps_its_name(tmp_path: Path):
    path = tmp_path / "clash.py"
    path.write_text("from flowc import FlowSpec, Parameter, step, trigger\n\n@trigger(event='go')\n"
                    "class Clash(FlowSpec):\n    flowc_trigger = Parameter('flowc_trigger', default='mine')\n\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n    @step\n"
                    "    def end(self):\n        pass\n")
    (spec,), plan = triggers_of(path)
    assert plan.trigger_param != "flowc_trigger"
    got = render(spec["parameters"], [received("go", {"flowc_trigger": "theirs"})])
    assert got["flowc_trigger"] == "theirs" and got[plan.trigger_param][0]["event"] == "go"


def test_the_ir_of_the_fixtures_is_what_the_triggers_say():
    """The fixtures' subscriptions, as every target reads them (targets/events.py)."""
    from flowc.targets.events import subscriptions

    assert [(s.name, s.parameters) for s in subscriptions(load_ir(EVENTS / "report.py"))] == [
        ("data_ready", (("table_name", "table"), ("rows", "rows"), ("note", "missing")))]
