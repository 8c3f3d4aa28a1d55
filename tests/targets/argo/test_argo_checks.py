"""The checks and the harness themselves: each must reject what Argo would
reject, or the tests that rely on them could not fail."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import REPO
from tests.targets.argo.argo_checks import load_documents, round_trip_diff, schema_errors, semantic_errors
from tests.targets.argo.argo_expr import Unresolved, eval_text, substitute
from tests.targets.argo.argo_harness import Harness, HarnessError
from tests.targets.argo.argo_support import compile_argo, requires_schemas, single_file


@pytest.fixture(scope="module")
def nested():
    """A valid document with nested foreach, switches are elsewhere."""
    return load_documents(single_file(compile_argo(REPO / "examples/nested_foreach.py")))[0]


@pytest.fixture(scope="module")
def switchy():
    return load_documents(single_file(compile_argo(REPO / "tests/flows/recursive_switch.py")))[0]


def template(doc, name):
    return next(t for t in doc["spec"]["templates"] if t["name"] == name)


@requires_schemas
def test_schemas_reject_a_misspelt_field(nested):
    doc = copy.deepcopy(nested)
    task = template(doc, "grid-search-flow")["dag"]["tasks"][1]
    task["withSequenc"] = task.pop("withSequence")
    assert any("withSequenc" in e for e in schema_errors(doc))
    doc = copy.deepcopy(nested)
    template(doc, "start")["retryStrategy"] = {"limt": 2}
    assert schema_errors(doc)


@requires_schemas
def test_crd_schema_rejects_a_malformed_quantity(nested):
    doc = copy.deepcopy(nested)
    template(doc, "start")["container"]["resources"] = {"limits": {"cpu": "two"}}
    assert any(e.startswith("CRD schema") for e in schema_errors(doc))


def test_round_trip_notices_a_field_hera_does_not_know(nested):
    doc = copy.deepcopy(nested)
    template(doc, "start")["container"]["flowcExtra"] = True
    assert any("dropped" in e for e in round_trip_diff(doc))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][0].update(template="no-such"), "does not exist"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][2].update(depends="ghost.Succeeded"), "not a task"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][0].update(depends="end.Succeeded"), "cycle"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][2].update(when="{{tasks.ghost.outputs.parameters.out}}"),
     "not in"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][2].update(
        when="{{=jsonpath(tasks['end'].outputs.parameters.out, '$.chosen') == 'x'}}"), "not an ancestor"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][3].update(
        when="{{=jsonpath(tasks['pick'].outputs.parameters.nope, '$.x') == 'x'}}"), "has no output"),
    (lambda d: template(d, "run-step")["container"]["args"].append("{{inputs.parameters.ghost}}"), "not declared"),
    (lambda d: template(d, "run-step")["container"]["args"].append("{{workflow.parameters.ghost}}"), "not declared"),
    (lambda d: template(d, "run-step")["container"]["args"].append("{{retries}}"), "without retryStrategy"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][2]["arguments"]["parameters"].pop(), "not supplied"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][0].update(
        arguments={"parameters": [{"name": "extra", "value": "1"}]}), "not an input"),
    (lambda d: template(d, "grid-search-flow")["dag"]["tasks"][2]["arguments"]["parameters"][1].update(
        value="{{item}}"), "outside withSequence"),
])
def test_semantic_checks_catch(nested, mutate, message):
    doc = copy.deepcopy(nested)
    assert semantic_errors(doc) == []
    mutate(doc)
    errors = semantic_errors(doc)
    assert any(message in e for e in errors), errors


def test_recursion_is_allowed_only_behind_a_when(switchy):
    assert semantic_errors(switchy) == []
    doc = copy.deepcopy(switchy)
    again = template(doc, "loop-loop")["dag"]["tasks"][1]
    del again["when"]
    assert any("cycle" in e for e in semantic_errors(doc))


# ------------------------------------------------------------ the substitution model


def test_one_pass_does_not_rescan_what_it_inserted():
    assert substitute("{{a}}", {"a": "{{b}}", "b": "x"}) == "{{b}}"
    assert substitute("{{unknown}} {{ a }}", {"a": "1"}) == "{{unknown}} 1"
    with pytest.raises(Unresolved):
        substitute("{{tasks.x.outputs.parameters.y}}", {}, ("tasks",))


def test_expressions():
    env = {"tasks.s.outputs.parameters.out": '{"chosen": "b", "foreach_count": 3}', "inputs.parameters.i": "4"}
    assert eval_text('jsonpath(tasks["s"].outputs.parameters.out, "$.chosen") == "b"', env)
    assert substitute('{{=jsonpath(tasks["s"].outputs.parameters.out, "$.foreach_count")}}', env) == "3"
    assert substitute("{{=asInt(inputs.parameters.i) + 1}}", env) == "5"
    skipped = {"tasks.t.status": "Skipped", "tasks.t.outputs.parameters.out": None}  # declared, absent
    assert eval_text('false ? tasks["t"].outputs.parameters.out : "x"', env | skipped, ("tasks",)) == "x"
    with pytest.raises(Unresolved):  # a missing task output is not guarded by the ternary
        eval_text('false ? tasks["t"].outputs.parameters.out : "x"', env | {"tasks.t.status": "Skipped"}, ("tasks",))


def _naive_doc(arg: str) -> dict:
    return {"kind": "Workflow", "metadata": {"name": "x"}, "spec": {
        "entrypoint": "main",
        "arguments": {"parameters": [{"name": "p", "value": "{{workflow.name}}"}]},
        "templates": [{"name": "main", "dag": {"tasks": [{"name": "a", "template": "echo"}]}},
                      {"name": "echo", "container": {"image": "x", "command": ["python", "-c",
                       "import sys; open('seen', 'w').write(sys.argv[1])", arg]}}]}}


def test_the_harness_substitutes_a_naive_reference_twice(tmp_path):
    """Putting {{workflow.parameters.p}} straight into args lets Argo's second
    pass substitute inside the value: the harness shows it, so the escaping
    the target does is needed and tested."""
    Harness(_naive_doc("{{workflow.parameters.p}}"), workdir=str(tmp_path), run_name="run-1").run()
    assert (tmp_path / "seen").read_text() == "run-1"


def test_the_harness_rejects_what_it_does_not_model(tmp_path):
    doc = _naive_doc("x")
    doc["spec"]["templates"][0]["dag"]["tasks"][0]["when"] = "x =~ x"
    with pytest.raises(HarnessError):
        Harness(doc, workdir=str(tmp_path), run_name="r").run()
    doc = _naive_doc("x")
    doc["spec"]["templates"][0]["dag"]["tasks"][0]["when"] = "{{tasks.b.outputs.result}} == x"
    with pytest.raises(HarnessError, match="requeue"):
        Harness(doc, workdir=str(tmp_path), run_name="r").run()
    doc = _naive_doc("x")
    doc["spec"]["templates"][0]["dag"]["tasks"][0]["withParam"] = "[1, 2]"
    with pytest.raises(HarnessError, match="not modelled"):
        Harness(doc, workdir=str(tmp_path), run_name="r").run()
    doc = _naive_doc("x")
    doc["spec"]["arguments"]["parameters"][0].pop("value")
    with pytest.raises(HarnessError, match="required"):
        Harness(doc, workdir=str(tmp_path), run_name="r")


def test_object_checks():
    from tests.targets.argo.argo_checks import object_errors

    cron = {"kind": "CronWorkflow", "metadata": {"name": "x" * 53},
            "spec": {"schedules": ["0 0 * *"], "timezone": "Mars/Olympus"}}
    errors = object_errors(cron)
    assert len(errors) == 3 and "longer than 52" in errors[0]
    assert object_errors({"kind": "WorkflowTemplate", "metadata": {"name": "Bad_Name"}})
    assert object_errors({"kind": "WorkflowTemplate", "metadata": {"name": "ok", "labels": {"flow": "Flüsse"}}})
