"""Lambda throttles on the embedded cloud: the Invoke answers 429 (moto_patches.throttle),
the Task sees ``Lambda.TooManyRequestsException`` as on AWS, and a compiled workflow rides
them out with its throttle retrier (compiler.lowering.task.THROTTLE_RETRY), on a scaled
clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from local import moto_patches
from local.cloud import NODE_RUNNER, LocalCloud
from tests.examples.test_examples import run_compiled
from tests.local.test_moto_patches import jsonata_machine, run_asl

CODE = {"name": "Work", "type": "code",
        "parameters": {"code": "return [{**item, 'done': True} for item in items]"}}


@pytest.fixture(autouse=True)
def no_throttles_left() -> Iterator[None]:
    yield
    for function in (NODE_RUNNER, "busy-fn"):
        moto_patches.throttle(function, 0)


def workflow(*nodes: dict[str, Any], connections: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "throttled", "nodes": [{"name": "Start", "type": "manualTrigger"}, *nodes],
            "connections": connections}


def lambda_failures(history: list[dict[str, Any]]) -> list[str]:
    return [event["lambdaFunctionFailedEventDetails"]["error"] for event in history
            if event["type"] == "LambdaFunctionFailed"]


def test_a_throttled_invoke_is_lambda_too_many_requests(cloud: LocalCloud) -> None:
    moto_patches.register_lambda("busy-fn", lambda event, context: {"ok": True})
    moto_patches.throttle("busy-fn", 1)
    described = run_asl(cloud, jsonata_machine({
        "Call": {"Type": "Task", "Resource":
                 "arn:aws:lambda:us-east-1:123456789012:function:busy-fn",
                 "Catch": [{"ErrorEquals": ["Lambda.TooManyRequestsException"],
                            "Next": "Caught", "Output": "{% $states.errorOutput %}"}],
                 "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }, "Call"))
    assert json.loads(described["output"])["Error"] == "Lambda.TooManyRequestsException"
    # The throttle is used up: the next invoke reaches the handler.
    assert json.loads(run_asl(cloud, jsonata_machine({"Call": {
        "Type": "Task", "End": True,
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:busy-fn"}}, "Call"))
        ["output"]) == {"ok": True}


def test_a_runner_node_rides_out_a_burst_of_throttles(cloud: LocalCloud) -> None:
    """Six throttles in a row: more than the two retries a Task had before."""
    compiled = compile_workflow(workflow(CODE, connections=[{"from": "Start", "to": "Work"}]))
    moto_patches.throttle(NODE_RUNNER, 6, when=lambda event: event["node"]["name"] == "Work")
    report = run_compiled(cloud, compiled, {"id": 1})
    assert report["status"] == "SUCCEEDED"
    assert report["nodes"]["Work"]["output"] == [[{"id": 1, "done": True}]]


def test_a_loops_iterations_ride_out_throttles(cloud: LocalCloud) -> None:
    loop = {"name": "Each", "type": "forEach", "parameters": {"maxConcurrency": 4}}
    compiled = compile_workflow(workflow(
        {"name": "Items", "type": "code", "parameters": {
            "code": "return [{'n': n} for n in range(8)]"}},
        loop, CODE, {"name": "All", "type": "code", "parameters": {"code": "return items"}},
        connections=[{"from": "Start", "to": "Items"}, {"from": "Items", "to": "Each"},
                     {"from": "Each", "to": "Work", "output": "loop"},
                     {"from": "Work", "to": "Each"},
                     {"from": "Each", "to": "All", "output": "done"}]))
    # Two iterations are throttled eight times between them while the others run.
    moto_patches.throttle(NODE_RUNNER, 8, when=lambda event: event["node"]["name"] == "Work"
                          and event.get("runIndex") in (2, 5))
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report.get("error")
    (done,) = report["nodes"]["All"]["output"]
    assert sorted(item["n"] for item in done) == list(range(8))
    assert all(item["done"] for item in done)
