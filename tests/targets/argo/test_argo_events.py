"""Events on Argo: the Sensor beside the WorkflowTemplate, validated against
Argo Events' published schema and CRDs, fired by recorded webhook events in
the Argo Events harness, and a chain of flows run end to end in the Argo
harness (docs/targets/argo.md, Events)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from flowc.compiler.diagnostics import CompileError
from tests.conftest import REPO
from tests.support.artifacts import run_artifacts
from tests.support.engines import flowc_cli
from tests.targets.argo.argo_checks import check_documents, load_documents, schema_errors
from tests.targets.argo.argo_events_harness import (Event, Sensor, WebhookEventSource, from_template, gjson_string,
                                                    loads)
from tests.targets.argo.argo_harness import Harness
from tests.targets.argo.argo_network import ClusterNetwork
from tests.targets.argo.argo_support import compile_argo, single_file

EVENTS = Path(__file__).parent / "events"
FIXTURES = sorted(EVENTS.glob("*.py")) + [REPO / "tests/flows/events.py"]


def docs_by_kind(path: Path, options: dict | None = None, **kw) -> dict[str, dict]:
    out = compile_argo(path, options, **kw)
    return {d["kind"]: d for d in load_documents(single_file(out))}


def documented(kind: str) -> dict:
    """The object of that kind in docs/targets/argo.md's Events section."""
    text = (REPO / "docs/targets/argo.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        for doc in load_documents(block):
            if doc.get("kind") == kind:
                return doc
    raise AssertionError(f"docs/targets/argo.md shows no {kind}")


def webhook_event(body: dict, source: str = "argo-events-webhook", name: str = "metaflow-event") -> Event:
    return Event(source, name, {"header": {"Content-Type": ["application/json"]},
                                "body": loads(json.dumps(body))})


# ------------------------------------------------------------ schemas


@pytest.mark.parametrize("options", [{}, {"namespace": "ml", "sensor_service_account": "flowc-sensor",
                                          "event_bus": "jet", "event_source": "hooks", "webhook_event": "ev"},
                                     {"split": True}], ids=["defaults", "options", "split"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_object_validates_against_the_published_schemas(path, options):
    out = compile_argo(path, options)
    kinds = []
    for name, data in sorted(out.files.items()):
        assert check_documents(data) == [] if not options.get("split") else True
        for doc in load_documents(data):
            kinds.append(doc["kind"])
            assert schema_errors(doc) == [], name
    triggered = "trigger" in path.read_text()
    assert kinds.count("Sensor") == (1 if triggered else 0)
    if options.get("split") and triggered:
        assert any(name.endswith(".sensor.yaml") for name in out.files)


def test_the_schemas_are_strict():
    doc = docs_by_kind(EVENTS / "report.py")["Sensor"]
    bad = json.loads(json.dumps(doc))
    bad["spec"]["dependencies"][0]["eventSorceName"] = "x"
    assert any("eventSorceName" in e for e in schema_errors(bad))
    bad = json.loads(json.dumps(doc))
    bad["spec"]["triggers"][0]["template"]["k8s"]["source"]["resource"]["spec"]["argumnts"] = {}
    assert any(e.startswith("trigger 0 resource: strict schema") for e in schema_errors(bad))
    bad = json.loads(json.dumps(doc))
    del bad["spec"]
    assert any("Argo Events CRD" in e for e in schema_errors(bad))


def test_documented_eventsource_and_eventbus_match_the_defaults():
    source, bus = documented("EventSource"), documented("EventBus")
    assert schema_errors(source) == [] and schema_errors(bus) == []
    from flowc.targets.argo import ArgoTarget

    defaults = {o.name: o.default for o in ArgoTarget.OPTIONS}
    assert source["metadata"]["name"] == defaults["event_source"]
    assert bus["metadata"]["name"] == defaults["event_bus"] and "jetstream" in bus["spec"]
    hook = source["spec"]["webhook"][defaults["webhook_event"]]
    container = docs_by_kind(EVENTS / "ingest.py")["WorkflowTemplate"]["spec"]["templates"][-1]["container"]
    url = {e["name"]: e["value"] for e in container["env"]}["FLOWC_EVENTS"]
    service = f"{source['metadata']['name']}-eventsource-svc"
    assert url == f"http://{service}:{hook['port']}{hook['endpoint']}"
    assert int(hook["port"]) in [p["port"] for p in source["spec"]["service"]["ports"]]


# ------------------------------------------------------------ what is written


def test_sensor_for_trigger_on_finish_points_back_and_waits_for_the_end_event():
    text = single_file(compile_argo(EVENTS / "train.py")).decode()
    sensor = load_documents(text)[-1]
    assert sensor["kind"] == "Sensor" and sensor["metadata"]["name"] == "train"
    (dep,) = sensor["spec"]["dependencies"]
    assert dep["filters"]["data"] == [{"path": "body.name", "type": "string", "value": [r"^metaflow\.Ingest\.end$"]}]
    assert "# @trigger_on_finish (train.py:4)" in text
    assert "# train.py:4: the end of a successful run of Ingest (its end event metaflow.Ingest.end)" in text
    assert sensor["spec"]["eventBusName"] == "default" and dep["eventSourceName"] == "argo-events-webhook"


def test_mapped_parameters_fall_back_to_their_defaults_and_required_fields_are_filtered(tmp_path):
    flow = tmp_path / "needs.py"
    flow.write_text(textwrap.dedent('''
        from flowc import FlowSpec, Parameter, step, trigger

        @trigger(events=[{"name": "a.ready", "parameters": {"size": "n"}},
                         {"name": "b.ready", "parameters": {"tag": "tag"}}])
        class Needs(FlowSpec):
            size = Parameter("size", type=int, required=True)
            tag = Parameter("tag", default="v1")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    docs = docs_by_kind(flow)
    sensor = docs["Sensor"]
    params = sensor["spec"]["triggers"][0]["template"]["k8s"]["parameters"]
    assert params[0]["src"] == {"dependencyName": "a-ready", "dataKey": "body.payload.n"}  # required: no fallback
    assert params[1]["src"] == {"dependencyName": "b-ready", "dataKey": "body.payload.tag", "value": "v1"}
    filters = {d["name"]: d["filters"]["data"] for d in sensor["spec"]["dependencies"]}
    assert {"path": "body.payload.n", "type": "string", "value": [".*"]} in filters["a-ready"]
    assert len(filters["b-ready"]) == 1
    # all events are needed; a missing required field keeps the dependency unmet
    s = Sensor(sensor)
    assert s.offer(webhook_event({"name": "a.ready", "payload": {}})) is None
    assert s.offer(webhook_event({"name": "b.ready", "payload": {}})) is None
    assert s.offer(webhook_event({"name": "other", "payload": {"n": 1}})) is None
    created = s.offer(webhook_event({"name": "a.ready", "payload": {"n": 7}}))
    assert created is not None and schema_errors(created) == []
    values = {p["name"]: p["value"] for p in created["spec"]["arguments"]["parameters"]}
    assert values["size"] == "7" and values["tag"] == "v1"  # b's payload had no tag: the default
    assert json.loads(values["flowc-event-b-ready"]) == {"name": "b.ready", "payload": {}}
    assert s.offer(webhook_event({"name": "a.ready", "payload": {"n": 8}})) is None  # the events were used up


def test_gjson_texts_are_argo_events_own():
    assert [gjson_string(loads(t)) for t in ("5", "1.50", "1e3", "true", "null", '"x"', '{"a": [1, 2]}')] == \
        ["5", "1.5", "1000", "true", "null", "x", '{"a":[1,2]}']


@pytest.mark.parametrize("source, options, fragment", [
    ('@trigger(event="e", options={"reset_at": {"cron": "0 0 * * *"}})', {}, "options"),
    ('@trigger(event="e")', {"events_url": "ftp://x"}, "--events-url"),
])
def test_what_argo_refuses(tmp_path, source, options, fragment):
    flow = tmp_path / "refused.py"
    flow.write_text(f"from flowc import FlowSpec, step, trigger\n\n\n{source}\nclass Refused(FlowSpec):\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n"
                    "    @step\n    def end(self):\n        pass\n")
    with pytest.raises(CompileError) as caught:
        compile_argo(flow, options)
    errors = [d for d in caught.value.diagnostics if d.is_error]
    assert any(fragment in d.message and d.code in ("FC501", "FC502") for d in errors), \
        [(d.code, d.message) for d in errors]
    assert all(d.span.line for d in errors)


def test_an_event_parameter_name_is_refused(tmp_path):
    flow = tmp_path / "clash.py"
    flow.write_text('from flowc import FlowSpec, Parameter, step, trigger\n\n\n@trigger(event="e")\n'
                    'class Clash(FlowSpec):\n    x = Parameter("flowc-event-e", default="")\n\n'
                    '    @step\n    def start(self):\n        self.next(self.end)\n\n'
                    '    @step\n    def end(self):\n        pass\n')
    with pytest.raises(CompileError) as caught:
        compile_argo(flow)
    assert [(d.code, d.span.line) for d in caught.value.diagnostics if d.is_error] == [("FC501", 6)]


# ------------------------------------------------------------ the chain, run


def package(path: Path, ds: Path) -> None:
    assert flowc_cli(["package", str(path), "--datastore", str(ds)]) == 0


@pytest.mark.engine
def test_chain_ingest_to_train_and_report_on_argo(tmp_path):
    """Ingest runs; the runtime POSTs the event its step publishes and its end
    event to the EventSource's Service (FLOWC_EVENTS, the default); the
    recorded events fire the Sensors of Train and Report, whose Workflows run
    and read current.trigger."""
    ds = tmp_path / "datastore"
    ds.mkdir()
    compiled = {}
    for name in ("ingest", "train", "report"):
        path = EVENTS / f"{name}.py"
        compiled[name] = docs_by_kind(path, {"datastore": str(ds)})
        package(path, ds)
    source = WebhookEventSource(documented("EventSource"))
    with ClusterNetwork() as network:
        source.serve(network)
        (tmp_path / "ingest").mkdir()
        result = Harness(compiled["ingest"]["WorkflowTemplate"], workdir=str(tmp_path / "ingest"),
                         run_name="ingest-x7k2p", network=network).run()
        assert result.phase == "Succeeded", result.message
        posted = [(r.host, r.port, r.path, r.status) for r in network.requests]
        assert posted == [("argo-events-webhook-eventsource-svc", 12000, "/metaflow-event", 200)] * 2
        bodies = [e.data["body"] for e in source.events]
        assert [b["name"] for b in bodies] == ["ingest.ready", "metaflow.Ingest.end"]
        assert bodies[1]["payload"]["pathspec"].startswith("Ingest/ingest-x7k2p/end/")

        runs = {}
        for name in ("train", "report"):
            sensor = Sensor(compiled[name]["Sensor"])
            fired = [w for w in (sensor.offer(e) for e in source.events) if w is not None]
            assert len(fired) == 1, name
            assert schema_errors(fired[0]) == []
            workflow = from_template(fired[0], compiled[name]["WorkflowTemplate"])
            assert schema_errors(workflow) == []
            (tmp_path / name).mkdir()
            run_name = f"{name}-q3z9w"
            result = Harness(workflow, workdir=str(tmp_path / name), run_name=run_name, network=network).run()
            assert result.phase == "Succeeded", result.message
            runs[name] = run_artifacts(str(ds), name.capitalize(), run_name)
        # Train's and Report's end events reach the webhook too
        assert [e.data["body"]["name"] for e in source.events[2:]] == ["metaflow.Train.end", "metaflow.Report.end"]

    train = runs["train"]["start"]["0"]
    assert train["event_name"] == "metaflow.Ingest.end" and train["event_type"] == "run"
    assert train["upstream"] == train["by_flow"] == "Ingest/ingest-x7k2p"
    assert train["upstream_rows"] == 42
    assert runs["train"]["end"]["0"]["upstream_again"] == "Ingest/ingest-x7k2p"
    report = runs["report"]["start"]["0"]
    assert report["seen"] == {"rows": 42, "region": "us-east", "label": "no label", "note": "{{x}}"}
    assert report["event_name"] == "ingest.ready" and report["payload"]["rows"] == 42
    assert report["no_upstream_run"] is True


@pytest.mark.engine
def test_a_run_submitted_by_hand_is_not_triggered(tmp_path):
    """The WorkflowTemplate alone (no Sensor): the event parameters are empty,
    --trigger gets no event, and current.trigger is None."""
    flow = tmp_path / "manual.py"
    flow.write_text(textwrap.dedent('''
        from flowc import FlowSpec, current, step, trigger_on_finish

        @trigger_on_finish(flow="Ingest")
        class Manual(FlowSpec):
            @step
            def start(self):
                self.trigger_is_none = current.trigger is None
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    ds = tmp_path / "ds"
    ds.mkdir()
    doc = docs_by_kind(flow, {"datastore": str(ds)})["WorkflowTemplate"]
    package(flow, ds)
    (tmp_path / "w").mkdir()
    result = Harness(doc, workdir=str(tmp_path / "w"), run_name="manual-1").run()
    assert result.phase == "Succeeded", result.message
    assert run_artifacts(str(ds), "Manual", "manual-1")["start"]["0"]["trigger_is_none"] is True


@pytest.mark.engine
def test_kind_workflow_sensor_creates_the_whole_workflow(tmp_path):
    """--kind workflow: the Sensor holds the Workflow itself; fired, it runs with the payload's parameters."""
    ds = tmp_path / "ds"
    ds.mkdir()
    path = EVENTS / "report.py"
    docs = docs_by_kind(path, {"datastore": str(ds), "kind": "workflow"})
    package(path, ds)
    created = Sensor(docs["Sensor"]).offer(webhook_event({"name": "ingest.ready", "payload": {"rows": 5}}))
    assert created is not None and "templates" in created["spec"] and schema_errors(created) == []
    (tmp_path / "w").mkdir()
    result = Harness(created, workdir=str(tmp_path / "w"), run_name="report-w1").run()
    assert result.phase == "Succeeded", result.message
    start = run_artifacts(str(ds), "Report", "report-w1")["start"]["0"]
    assert start["seen"] == {"rows": 5, "region": "eu", "label": "no label", "note": ""}
    assert start["payload"] == {"rows": 5}


def test_trigger_items_as_text():
    """The runtime's --trigger: Argo passes each event's webhook body as JSON text, empty when absent."""
    from flowc.runtime.events import EventError, normalize

    (event,) = normalize(["", json.dumps({"name": "a.b", "payload": {"x": 1}})])
    assert event["name"] == "a.b" and event["payload"] == {"x": 1} and event["type"] == "event"
    assert normalize([""]) == []
    with pytest.raises(EventError):
        normalize(["{not json"])
