"""The error router's rules (functions/services/error_router.py), on crafted events."""

from __future__ import annotations

import json
from typing import Any

from compiler import compile_workflow
from functions.config import Config
from functions.services.error_router import (
    PAYLOAD_LIMIT,
    ErrorRouter,
    error_execution_name,
    partial_results,
)
from functions.store.repository import Execution, NodeRun
from local.cloud import LocalCloud


def router(cloud: LocalCloud) -> ErrorRouter:
    config = Config(**{**cloud.config.__dict__, "api_url": "https://api.example.test"})
    return ErrorRouter(cloud.sfn, cloud.executions, cloud.repository, config)


def deploy(cloud: LocalCloud, name: str, *, error_workflow: str | None = None,
           error_trigger: bool = False) -> str:
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"},
                                   {"name": "Work", "type": "noOp"}]
    connections = [{"from": "Start", "to": "Work"}]
    if error_trigger:
        nodes.append({"name": "On error", "type": "errorTrigger"})
        connections.append({"from": "On error", "to": "Work"})
    settings = {"errorWorkflow": error_workflow} if error_workflow else {}
    return cloud.deploy(compile_workflow({"name": name, "settings": settings, "nodes": nodes,
                                          "connections": connections}))


def failed_event(cloud: LocalCloud, machine: str, name: str, *, mode: str = "manual",
                 status: str = "FAILED", envelope: dict[str, Any] | None = None) -> dict[str, Any]:
    envelope = envelope or {"items": [{"n": 1}], "mode": mode}
    cloud.repository.create_execution(Execution(
        execution_id=name, workflow_id=machine.rsplit(":", 1)[-1], status="RUNNING",
        started_at="2026-06-01T09:00:00.000Z", mode=mode, input=envelope))
    # No executionArn: no execution exists in Step Functions to read native runs from.
    return {"executionArn": None,
            "stateMachineArn": machine, "name": name, "status": status,
            "startDate": 1780304400000, "stopDate": 1780304401000,
            "input": json.dumps(envelope), "output": None, "error": "Sfnflow.Boom",
            "cause": json.dumps({"errorMessage": "it broke"})}


def test_routes_a_failure_once_with_the_documented_item(cloud: LocalCloud) -> None:
    deploy(cloud, "handler", error_trigger=True)
    machine = deploy(cloud, "fragile", error_workflow="handler")
    cloud.repository.record_node_run(NodeRun(
        "run-1", "Start", "manualTrigger", "success", "2026-06-01T09:00:00.100Z",
        "2026-06-01T09:00:00.200Z", 100, output_counts=[1], output=[[{"n": 1}]]))
    event = failed_event(cloud, machine, "run-1")
    started = router(cloud).on_status_change(event)
    assert started is not None
    assert started.execution_id == error_execution_name("run-1")
    assert started.workflow_id == "handler" and started.mode == "error"
    again = router(cloud).on_status_change(event)  # a second delivery
    assert again is not None and again.execution_id == started.execution_id
    executions = cloud.sfn.list_executions(
        stateMachineArn=cloud._state_machines["handler"])["executions"]
    assert len(executions) == 1
    envelope = json.loads(cloud.sfn.describe_execution(
        executionArn=executions[0]["executionArn"])["input"])
    assert envelope["mode"] == "error" and envelope["triggerType"] == "errorTrigger"
    (item,) = envelope["items"]
    assert item == {
        "execution": {
            "id": "run-1",
            "url": "https://api.example.test/executions/run-1",
            "error": {"message": "it broke", "type": "Sfnflow.Boom", "node": None},
            "lastNodeExecuted": "Start",
            "mode": "manual",
            "startedAt": "2026-06-01T09:00:00.000Z",
            "stoppedAt": "2026-06-01T09:00:01.000Z",
            "input": {"items": [{"n": 1}], "mode": "manual"},
            "partialResults": {"Start": [[{"n": 1}]]},
        },
        "workflow": {"id": "fragile", "name": "fragile"},
    }
    failed = cloud.repository.get_execution("run-1")
    assert failed is not None and failed.status == "FAILED"  # recorded first


def test_nothing_to_route(cloud: LocalCloud) -> None:
    untagged = deploy(cloud, "no-handler")
    tagged = deploy(cloud, "tagged", error_workflow="no-handler")
    route = router(cloud).on_status_change
    assert route({**failed_event(cloud, untagged, "a"), "status": "SUCCEEDED"}) is None
    assert route({**failed_event(cloud, untagged, "b"), "status": "RUNNING"}) is None
    assert route(failed_event(cloud, untagged, "c")) is None  # no errorWorkflow tag
    assert route(failed_event(cloud, tagged, "d", mode="error")) is None  # never again
    waited_child = {"items": [], "mode": "subworkflow", "parent": {
        "executionId": "parent-1", "workflow": "p", "node": "Call", "depth": 1}}
    assert route(failed_event(cloud, tagged, "e", envelope=waited_child)) is None


def test_timeouts_and_aborts_are_routed_too(cloud: LocalCloud) -> None:
    deploy(cloud, "handler2", error_trigger=True)
    machine = deploy(cloud, "slow", error_workflow="handler2")
    for status in ("TIMED_OUT", "ABORTED"):
        started = router(cloud).on_status_change(
            failed_event(cloud, machine, f"x-{status}", status=status))
        assert started is not None and started.workflow_id == "handler2"


def test_a_workflow_with_an_error_trigger_handles_its_own_failures(cloud: LocalCloud) -> None:
    machine = deploy(cloud, "self-healing", error_trigger=True)
    tags = cloud.sfn.list_tags_for_resource(resourceArn=machine)["tags"]
    assert {"key": "sfnflow:errorWorkflow", "value": "self-healing"} in tags
    started = router(cloud).on_status_change(failed_event(cloud, machine, "own-1"))
    assert started is not None and started.workflow_id == "self-healing"


def run(node: str, items: list[dict[str, Any]], finished: str, status: str = "success",
        stored: bool = False) -> NodeRun:
    return NodeRun("x", node, "code", status, finished, finished, 1,
                   output_counts=[len(items)], output=None if stored else [items])


def test_partial_results_are_bounded() -> None:
    big = [{"blob": "x" * 1000} for _ in range(40)]  # ~40 KB: over the bound alone
    results = partial_results([
        run("First", [{"a": 1}], "2026-01-01T00:00:01Z"),
        run("Big", big, "2026-01-01T00:00:02Z"),
        run("Failed", [{"b": 2}], "2026-01-01T00:00:03Z", status="error"),
        run("In S3", [{"c": 3}], "2026-01-01T00:00:04Z", stored=True),
        run("Last", [{"d": 4}], "2026-01-01T00:00:05Z"),
    ])
    assert results == {"First": [[{"a": 1}]], "Big": {"truncated": True, "items": 40},
                       "In S3": {"truncated": True, "items": 1}, "Last": [[{"d": 4}]]}
    many = partial_results([run(f"N{i}", [{"blob": "y" * 3000}], f"2026-01-01T00:00:{i:02d}Z")
                            for i in range(20)])
    assert len(json.dumps(many)) <= PAYLOAD_LIMIT + 200
    assert many["N0"] != {"truncated": True, "items": 1}
    assert many["N19"] == {"truncated": True, "items": 1}


def test_error_execution_names_are_short_and_distinct() -> None:
    long_id = "p" * 80
    assert len(error_execution_name(long_id)) <= 80
    assert error_execution_name(long_id) != error_execution_name(long_id[:-1] + "q")


def test_an_error_workflow_with_a_limit_is_admitted(cloud: LocalCloud) -> None:
    """The error workflow's settings.maxConcurrency applies to the executions the router
    starts: the first is admitted (it holds a slot), the next waits QUEUED."""
    deploy(cloud, "limited-handler", error_trigger=True)
    machine = deploy(cloud, "flaky", error_workflow="limited-handler")

    class Registry:
        def get(self, workflow_id: str) -> Any:
            assert workflow_id == "limited-handler"
            return type("Record", (), {"document": {"settings": {"maxConcurrency": 1}}})

    config = Config(**{**cloud.config.__dict__, "api_url": "https://api.example.test"})
    routed = ErrorRouter(cloud.sfn, cloud.executions, cloud.repository, config, Registry())
    first = routed.on_status_change(failed_event(cloud, machine, "flaky-1"))
    second = routed.on_status_change(failed_event(cloud, machine, "flaky-2"))
    assert first is not None and second is not None
    assert cloud.executions.admission.store.marker(first.execution_id) is not None
    assert second.status == "QUEUED"
