"""`flowc worker`'s message handling, without AWS: what it accepts, how it
fills in a command, how it names failures."""

from __future__ import annotations

import json

import pytest

from flowc.runtime.worker import PROTOCOL, MessageError, _region_of, error_name, parse_message, substitute
from tests.conftest import REPO, load_ir
from flowc.targets import registry


def body(**fields) -> str:
    message = {"protocol": PROTOCOL, "step": "train", "command": ["python", "-m", "flowc.runtime", "step",
                                                                 "--run-id", "Ref::run_id"],
               "parameters": {"run_id": "r1"}, "task_token": "token"}
    message.update(fields)
    return json.dumps({k: v for k, v in message.items() if v is not None})


def test_a_task_message_is_read():
    task = parse_message(body(heartbeat_seconds=30, secrets={"DB": "db-credentials"}))
    assert task.step == "train" and task.token == "token" and task.heartbeat_seconds == 30
    assert task.secrets == {"DB": "db-credentials"}
    assert substitute(task.command, task.parameters)[-1] == "r1"


@pytest.mark.parametrize("text", [
    "not json", json.dumps([1]), body(protocol="other/1"), body(command=[]), body(command="python x"),
    body(parameters={"run_id": 1}), body(task_token=None), body(task_token=""), body(secrets=["x"]),
    body(heartbeat_seconds=-1),
])
def test_what_is_not_a_task_is_refused(text):
    with pytest.raises(MessageError):
        parse_message(text)


def test_references_are_whole_arguments_and_values_are_never_split_or_interpreted():
    hostile = "a b; $(rm -rf /) \"q\" {{x}} Ref::other"
    argv = substitute(["x", "Ref::v", "--k=Ref::v", "Ref::v"], {"v": hostile})
    assert argv == ["x", hostile, "--k=Ref::v", hostile]
    with pytest.raises(MessageError):
        substitute(["Ref::missing"], {})


def test_the_commands_the_state_machine_sends_fill_in_completely():
    """Every Ref:: in every compiled task command has a parameter in its message."""
    for stem in ("recursive_switch", "nested_foreach", "parameters"):
        flow = load_ir(REPO / "tests" / "flows" / f"{stem}.py")
        machine = json.loads(registry.get("stepfunctions")({"mode": "worker", "queue_url": "q"}).compile(flow)
                             .files[f"{flow.name}.asl.json"])
        for state in _tasks(machine["States"]):
            message = state["Parameters"]["MessageBody"]
            names = {k.removesuffix(".$") for k in message["parameters"]}
            refs = {a[len("Ref::"):] for a in message["command"] if a.startswith("Ref::")}
            assert refs == names and {"run_id", "index", "attempt"} <= names


def _tasks(states: dict):
    for state in states.values():
        if state["Type"] == "Task":
            yield state
        for branch in state.get("Branches", []):
            yield from _tasks(branch["States"])
        if "ItemProcessor" in state:
            yield from _tasks(state["ItemProcessor"]["States"])


@pytest.mark.parametrize("code, name", [(1, "flowc.TaskFailed"), (2, "flowc.BadArguments"), (-9, "flowc.TaskKilled")])
def test_failures_are_named_by_exit_status(code, name):
    assert error_name(code) == name


@pytest.mark.parametrize("url, region", [
    ("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"),
    ("http://127.0.0.1:5000/123456789012/q", None),
])
def test_the_region_comes_from_the_queue_url(url, region):
    assert _region_of(url) == region
