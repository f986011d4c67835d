"""Wait nodes that pause (``resume: webhook | approval``): one ``.waitForTaskToken`` Task."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.lowering.resume import CALLBACK_RESOURCE, TIMEOUT
from compiler.lowering.task import NODE_RUNNER
from tests.compiler.test_emit import check_definition
from tests.support.asl_validator import assert_valid_asl


def paused(parameters: dict[str, Any], *, last: bool = False, **node: Any) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Hold on", "type": "wait", "parameters": parameters, **node},
    ]
    connections = [{"from": "Start", "to": "Hold on"}]
    if not last:
        nodes.append({"name": "After", "type": "noOp"})
        connections.append({"from": "Hold on", "to": "After"})
    return {"name": "paused", "nodes": nodes, "connections": connections}


def compiled_state(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    compiled = compile_workflow(document)
    check_definition(compiled)
    assert_valid_asl(compiled)
    return compiled.definition["States"]["Hold on"], compiled.definition["States"]


def problems(document: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    return [(p.node, p.message) for p in info.value.problems]


@pytest.mark.parametrize("mode", ["webhook", "approval"])
def test_a_resumable_wait_is_a_callback_task_on_the_node_runner(mode: str) -> None:
    state, _ = compiled_state(paused({"resume": mode}))
    assert state["Type"] == "Task" and state["Resource"] == CALLBACK_RESOURCE
    assert state["Arguments"]["FunctionName"] == NODE_RUNNER
    payload = state["Arguments"]["Payload"]
    assert payload["taskToken"] == "{% $states.context.Task.Token %}"
    assert payload["wait"] == {"mode": mode, "timeoutSeconds": None}
    assert payload["node"]["name"] == "Hold on" and payload["node"]["type"] == "wait"
    assert payload["data"] == {"Start": "{% $Start %}"}
    assert "outputRefs" not in payload  # the API sends the outputs inline
    assert state["Assign"] == {"Hold_on": "{% $states.result %}"}
    assert state["Next"] == "After"
    assert "TimeoutSeconds" not in state and "HeartbeatSeconds" not in state
    assert "Catch" not in state  # onError: stopWorkflow


def test_a_time_wait_is_still_a_native_wait_state() -> None:
    state, _ = compiled_state(paused({"seconds": 5}))
    assert state["Type"] == "Wait" and state["Seconds"] == 5


def test_timeout_fails_into_on_error() -> None:
    state, _ = compiled_state(paused({"resume": "approval"}, timeoutSeconds=3600,
                                     onError="continueErrorOutput"))
    assert state["TimeoutSeconds"] == 3600
    timeout, catch = state["Catch"]  # the timeout tells the runner first (#expired)
    assert timeout["ErrorEquals"] == [TIMEOUT] and timeout["Next"] == "#expired Hold on"
    assert timeout["Assign"] == catch["Assign"]  # the same error item either way
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"].endswith("After")
    assert state["Arguments"]["Payload"]["node"]["outputs"] == ["main", "error"]


def test_on_timeout_continue_hands_the_input_items_on_before_on_error() -> None:
    state, states = compiled_state(paused({"resume": "webhook", "onTimeout": "continue"},
                                          timeoutSeconds=60, onError="continueRegularOutput"))
    timeout, errors = state["Catch"]
    assert timeout["ErrorEquals"] == [TIMEOUT] and timeout["Next"] == "#expired Hold on"
    assert "$Start.ports[0].items" in timeout["Assign"]["Hold_on"]
    assert errors["ErrorEquals"] == ["States.ALL"]
    expired = states["#expired Hold on"]  # tells the runner, then goes on unchanged
    assert expired["Type"] == "Task" and expired["Next"] == "After"
    assert expired["Arguments"]["waitExpired"] is True
    assert "taskToken" not in expired["Arguments"]
    assert expired["Output"] == "{% $states.input %}"


def test_on_timeout_continue_at_the_end_of_the_workflow_goes_through_a_pass() -> None:
    state, states = compiled_state(paused({"resume": "webhook", "onTimeout": "continue"},
                                          last=True, timeoutSeconds=60))
    (timeout,) = state["Catch"]
    assert timeout["Next"] == "#expired Hold on"
    assert states["#expired Hold on"]["Next"] == "#timed out Hold on"
    assert states["#timed out Hold on"]["Type"] == "Pass"
    assert state["End"] is True


def test_a_resumable_wait_inside_a_loop_passes_its_iteration() -> None:
    document = {
        "name": "per-item",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Each", "type": "forEach"},
                  {"name": "Approve", "type": "wait", "parameters": {"resume": "approval"}},
                  {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Each"},
                        {"from": "Each", "to": "Approve", "output": "loop"},
                        {"from": "Approve", "to": "Each"},
                        {"from": "Each", "to": "After", "output": "done"}],
    }
    compiled = compile_workflow(document)
    check_definition(compiled)
    assert_valid_asl(compiled)
    loop = compiled.definition["States"]["Each"]
    state = loop["ItemProcessor"]["States"]["Approve"]
    assert state["Resource"] == CALLBACK_RESOURCE
    assert "runIndex" in state["Arguments"]["Payload"]


@pytest.mark.parametrize(("parameters", "message"), [
    ({"resume": "approval", "seconds": 5}, "seconds and until apply to resume: time"),
    ({"resume": "webhook", "until": "2030-01-01T00:00:00Z"}, "seconds and until"),
    ({"onTimeout": "continue"}, "onTimeout applies to resume: webhook or approval"),
    ({"resume": "email"}, "webhook"),
])
def test_invalid_resume_parameters_name_the_node(parameters: dict[str, Any],
                                                 message: str) -> None:
    found = problems(paused(parameters))
    assert any(node == "Hold on" and message in text for node, text in found), found
