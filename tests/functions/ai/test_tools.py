"""Sub-workflow tools against a scripted Step Functions client: the child's name and
input, its output as the result, a failed child, a child stopped at the tool's timeout.
(The same path against moto's interpreter: tests/examples/test_agent_examples.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from compiler.nodetypes import NODE_TYPES
from functions.ai.errors import ToolFailed, ToolTimeout
from functions.ai.tools import ToolEnv, call_tool, child_name
from functions.errors import ParameterError

ToolDef = NODE_TYPES["tool"].params.model_fields["tool"].annotation
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:double"
OWN = "arn:aws:states:us-east-1:123456789012:execution:double:" + "e" * 40


class Sfn:
    """Answers DescribeExecution from ``statuses`` (the last repeats)."""

    class exceptions:  # noqa: N801 (boto3's attribute name)
        class ExecutionAlreadyExists(Exception):
            pass

        class StateMachineDoesNotExist(Exception):
            pass

        class ExecutionDoesNotExist(Exception):
            pass

    def __init__(self, *statuses: dict[str, Any], missing: bool = False,
                 own_input: Any = None) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.missing = missing
        self.own_input = own_input  # the input of the execution the node runs in

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("start", kwargs))
        if self.missing:
            raise self.exceptions.StateMachineDoesNotExist()
        return {"executionArn": f"{MACHINE}:{kwargs['name']}"}

    def describe_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe", kwargs))
        if kwargs["executionArn"] == OWN:
            if self.own_input is None:
                raise self.exceptions.ExecutionDoesNotExist()
            return {"status": "RUNNING", "input": json.dumps(self.own_input)}
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def stop_execution(self, **kwargs: Any) -> None:
        self.calls.append(("stop", kwargs))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def env(sfn: Sfn, clock: Clock) -> ToolEnv:
    return ToolEnv(session=requests.Session(), execution_id="e" * 40, node="Assistant",
                   workflow="agents",
                   attempt=2, sfn=lambda: sfn, state_machine_arn=lambda _w: MACHINE,
                   sleep=clock.sleep, clock=clock)


TOOL = ToolDef.model_validate({"name": "double", "workflow": "double", "timeoutSeconds": 5,
                               "inputSchema": {"type": "object"}})
SUCCEEDED = {"status": "SUCCEEDED", "output": json.dumps(
    {"Double": {"ports": [{"count": 1, "items": [{"amount": 42}]}]}})}


def test_the_child_runs_with_the_input_as_its_item_and_its_output_is_the_result() -> None:
    sfn, clock = Sfn({"status": "RUNNING"}, SUCCEEDED), Clock()
    result = call_tool(TOOL, {"amount": 21}, env(sfn, clock), "0/1/call_0")
    assert result == {"amount": 42}
    start = next(kwargs for call, kwargs in sfn.calls if call == "start")
    assert start["stateMachineArn"] == MACHINE
    assert start["name"] == child_name(env(sfn, clock), "0/1/call_0")
    assert start["name"].startswith("e" * 32 + "-") and start["name"].endswith("-2")
    assert len(start["name"]) <= 80
    assert json.loads(start["input"]) == {
        "items": [{"amount": 21}], "mode": "subworkflow", "workflow": "double",
        "parent": {"depth": 1, "maxDepth": 10, "workflow": "agents", "node": "Assistant"},
        "calledBy": {"executionId": "e" * 40, "node": "Assistant", "tool": "double"}}


def test_the_child_is_one_level_deeper_than_this_execution_within_its_limit() -> None:
    sfn = Sfn(SUCCEEDED, own_input={"items": [], "parent": {"depth": 3, "maxDepth": 4}})
    tool_env = env(sfn, Clock())
    call_tool(TOOL, {}, tool_env, "a")
    call_tool(TOOL, {}, tool_env, "b")
    starts = [json.loads(kw["input"])["parent"] for call, kw in sfn.calls if call == "start"]
    assert [(p["depth"], p["maxDepth"]) for p in starts] == [(4, 4), (4, 4)]
    assert "executionId" not in starts[0]  # no executeWorkflow run is recorded for it
    assert [kw["executionArn"] for call, kw in sfn.calls if call == "describe"].count(OWN) == 1


def test_a_failed_child_is_tool_failed() -> None:
    sfn = Sfn({"status": "FAILED", "error": "Sfnflow.CodeError", "cause": "boom"})
    with pytest.raises(ToolFailed, match="failed: Sfnflow.CodeError: boom"):
        call_tool(TOOL, {}, env(sfn, Clock()), "k")


def test_a_child_running_past_the_timeout_is_stopped() -> None:
    sfn, clock = Sfn({"status": "RUNNING"}), Clock()
    with pytest.raises(ToolTimeout, match="still running after 5s") as caught:
        call_tool(TOOL, {}, env(sfn, clock), "k")
    assert caught.value.error_type == "Sfnflow.Timeout"
    assert sfn.calls[-1][0] == "stop" and clock.now == pytest.approx(5.0)


def test_a_workflow_not_deployed_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="'double' is not deployed"):
        call_tool(TOOL, {}, env(Sfn(SUCCEEDED, missing=True), Clock()), "k")
