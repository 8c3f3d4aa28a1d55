"""@trigger and @trigger_on_finish read into the IR as Metaflow reads them.

Metaflow's own parsing functions (metaflow/plugins/events_decorator.py) are
run on the same arguments: the mappings and upstream names flowc keeps must
be the ones Metaflow would deploy.
"""

from __future__ import annotations

import pytest

from flowc.compiler import analyze_source
from flowc.targets.events import end_event_name, subscriptions

HEAD = "from metaflow import FlowSpec, Parameter, step, trigger, trigger_on_finish, project\n"
BODY = """class F(FlowSpec):
    alpha = Parameter("alpha", default=1)
    beta = Parameter("beta", default="b")
    @step
    def start(self):
        self.next(self.end)
    @step
    def end(self):
        pass
"""


def analyze(decorators: str):
    return analyze_source(HEAD + decorators + "\n" + BODY, "f.py")


def flow_of(decorators: str):
    analysis = analyze(decorators)
    assert analysis.ok, [d.message for d in analysis.diagnostics]
    return analysis.flow()


def errors(decorators: str) -> list[tuple[str, str, int]]:
    return [(d.code, d.message, d.span.line) for d in analyze(decorators).diagnostics if d.is_error]


def metaflow_mapping(parameters):
    from metaflow.plugins.events_decorator import TriggerDecorator

    return TriggerDecorator.process_parameters(None, parameters, "e")


@pytest.mark.parametrize("mapping", [
    {"alpha": "a_field"},
    ["alpha", ("beta", "b_field")],
    {"ALPHA": "x"},
])
def test_parameter_mappings_match_metaflow(mapping):
    flow = flow_of(f"@trigger(event={{'name': 'data.updated', 'parameters': {mapping!r}}})")
    (event,) = flow.decorators.trigger.events
    expected = {k.lower(): v for k, v in metaflow_mapping(mapping).items()}  # Metaflow's Argo plugin lowercases
    assert {p.lower(): f for p, f in event.parameters} == expected
    assert event.name == "data.updated"


def test_one_event_without_a_mapping_maps_every_parameter_by_name():
    (event,) = flow_of("@trigger(event='data_updated')").decorators.trigger.events
    assert event.parameters == (("alpha", "alpha"), ("beta", "beta"))


def test_several_events_are_all_kept_and_none_is_mapped_automatically():
    trig = flow_of("@trigger(events=['a', {'name': 'b', 'parameters': {'beta': 'x'}}])").decorators.trigger
    assert [(e.name, e.parameters) for e in trig.events] == [("a", ()), ("b", (("beta", "x"),))]


@pytest.mark.parametrize("decorator,code,text", [
    ("@trigger(event={'name': 'e', 'parameters': {'gamma': 'x'}})", "FC403", "parameter 'gamma'"),
    ("@trigger(events=[{'name': 'e', 'parameters': {'alpha': 'x'}}, {'name': 'f', 'parameters': {'alpha': 'y'}}])",
     "FC403", "more than one"),
    ("@trigger(event='bad name!')", "FC403", "may hold only"),
    ("@trigger(event={'name': 'e', 'parameters': {'alpha': 'x-y'}})", "FC403", "payload field"),
    ("@trigger(event='a', events=['b'])", "FC403", "not both"),
    ("@trigger(event={'nom': 'e'})", "FC403", "no key"),
    ("@trigger_on_finish(flow='a.Flow')", "FC403", "PROJECT.BRANCH.FLOW"),
    ("@trigger_on_finish(flow={'name': 'p.Flow'})", "FC403", "flow class name"),
    ("@trigger_on_finish(flow='Bad-Name')", "FC403", "may hold only"),
    ("@trigger_on_finish(flow={'name': 'Up', 'project': 'p'})", "FC403", "no branch"),
    ("@trigger_on_finish()", "FC403", "needs flow= or flows="),
    ("@trigger(event='e')\n@trigger_on_finish(flow='Up')", "FC408", "both @trigger and @trigger_on_finish"),
])
def test_what_metaflow_refuses_is_an_error_with_its_place(decorator, code, text):
    found = errors(decorator)
    assert any(c == code and text in m and line >= 2 for c, m, line in found), found


@pytest.mark.parametrize("given", [
    "Upstream", "proj.prod.Upstream", "proj.user.bob.Upstream", "proj.test.feature.x.Upstream",
    {"name": "Upstream", "project": "other", "project_branch": "prod"},
])
def test_upstream_names_match_metaflow(given):
    from metaflow.plugins.events_decorator import TriggerOnFinishDecorator

    (theirs,) = TriggerOnFinishDecorator._parse_static_triggers([given])
    TriggerOnFinishDecorator._parse_fq_name(None, theirs)
    (event,) = flow_of(f"@trigger_on_finish(flow={given!r})").decorators.trigger_on_finish.events
    assert (event.flow, event.project, event.branch) == (theirs["flow"], theirs.get("project"), theirs.get("branch"))


def test_subscriptions_resolve_the_project_namespace_as_metaflow_names_end_events():
    flow = flow_of("@project(name='fc')\n@trigger_on_finish(flows=['Up', 'other.prod.Far'])")
    subs = subscriptions(flow, user="bob")
    assert [s.name for s in subs] == ["metaflow.fc.user.bob.Up.end", "metaflow.other.prod.Far.end"]
    assert [s.kind for s in subs] == ["run", "run"] and [s.flow for s in subs] == ["Up", "Far"]
    assert end_event_name(flow, "bob") == "metaflow.fc.user.bob.F.end"
    plain = flow_of("@trigger_on_finish(flow='Up')")
    assert [s.name for s in subscriptions(plain)] == ["metaflow.Up.end"] and end_event_name(plain) == "metaflow.F.end"


def test_the_end_event_rule_is_metaflows():
    """Metaflow's Argo plugin subscribes to metaflow.<project>.<branch>.<flow>.end (argo_workflows.py)."""
    import inspect

    from metaflow.plugins.argo import argo_workflows

    assert '"metaflow.%s.end"' in inspect.getsource(argo_workflows.ArgoWorkflows._process_triggers)
    from flowc.runtime.events import end_event_name as rule

    assert rule("Up", "p", "user.bob") == "metaflow.p.user.bob.Up.end" and rule("Up") == "metaflow.Up.end"
