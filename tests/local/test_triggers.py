"""Triggers and error workflows end to end on the embedded cloud: status-change events
through EventBridge to the real handlers, rules starting state machines, error workflows
exactly once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions.services.error_router import error_execution_name
from local.cloud import Finished, LocalCloud

HANDLER = {
    "name": "on-failure",
    "nodes": [{"name": "Failed", "type": "errorTrigger"},
              {"name": "Notify", "type": "noOp"}],
    "connections": [{"from": "Failed", "to": "Notify"}],
}


def fragile(name: str, *, timeout: int | None = None, wait_seconds: int | None = None,
            fail: bool = True) -> dict[str, Any]:
    """Start -> Prepare (code) -> [Nap (wait)] -> Boom (code that raises, or a no-op)."""
    nodes: list[dict[str, Any]] = [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Prepare", "type": "code",
         "parameters": {"code": "return [{'prepared': item['n']} for item in items]"}},
    ]
    if wait_seconds is not None:
        nodes.append({"name": "Nap", "type": "wait", "parameters": {"seconds": wait_seconds}})
    nodes.append({"name": "Boom", "type": "code", "parameters": {
        "code": "raise ValueError('out of paper')" if fail else "return items"}})
    names = [node["name"] for node in nodes]
    settings: dict[str, Any] = {"errorWorkflow": "on-failure"}
    if timeout is not None:
        settings["timeoutSeconds"] = timeout
    return {"name": name, "settings": settings, "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)]}


def executions_of(cloud: LocalCloud, workflow: str) -> list[dict[str, Any]]:
    arn = cloud._state_machines[workflow]
    return cloud.sfn.list_executions(stateMachineArn=arn)["executions"]


def the_error_run(cloud: LocalCloud, failed: Finished) -> tuple[Finished, dict[str, Any]]:
    """The error workflow's only execution, finished, and its one item."""
    runs = executions_of(cloud, "on-failure")
    assert [run["name"] for run in runs] == [error_execution_name(failed.execution_id)]
    finished = cloud.wait(runs[0]["name"])
    assert finished.status == "SUCCEEDED", finished.cause
    envelope = json.loads(cloud.sfn.describe_execution(
        executionArn=finished.execution_arn)["input"])
    assert envelope["mode"] == "error" and envelope["triggerType"] == "errorTrigger"
    (item,) = envelope["items"]
    return finished, item


def deliver_again(cloud: LocalCloud, finished: Finished) -> None:
    """EventBridge delivers at least once: publish the final event a second time."""
    from local.eventbridge import status_change_entry

    described = cloud.sfn.describe_execution(executionArn=finished.execution_arn)
    cloud.events.put_events(Entries=[status_change_entry(described)])


@pytest.fixture
def handler(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(HANDLER))


@pytest.mark.usefixtures("handler")
def test_a_failed_execution_runs_its_error_workflow_once(cloud: LocalCloud) -> None:
    compiled = compile_workflow(fragile("printer"))
    failed = cloud.wait(cloud.start(compiled, [{"n": 1}, {"n": 2}]))
    assert failed.status == "FAILED"
    deliver_again(cloud, failed)
    error_run, item = the_error_run(cloud, failed)
    execution = item["execution"]
    assert execution["id"] == failed.execution_id
    assert execution["url"].endswith(f"/executions/{failed.execution_id}")
    assert execution["error"]["node"] == "Boom"
    assert execution["error"]["type"] == "Sfnflow.CodeError"
    assert "out of paper" in execution["error"]["message"]
    assert execution["lastNodeExecuted"] == "Boom"
    assert execution["mode"] == "manual"
    assert execution["startedAt"] < execution["stoppedAt"]
    assert execution["input"]["items"] == [{"n": 1}, {"n": 2}]
    assert execution["partialResults"]["Prepare"] == [[{"prepared": 1}, {"prepared": 2}]]
    assert "Boom" not in execution["partialResults"]
    assert item["workflow"] == {"id": "printer", "name": "printer"}
    # The error workflow's run data: its trigger emitted the item.
    notify = cloud.repository.node_output(error_run.execution_id, "Failed")
    assert notify == [[item]]
    record = cloud.repository.get_execution(error_run.execution_id)
    assert record is not None and record.mode == "error" and record.status == "SUCCEEDED"
    assert len(executions_of(cloud, "on-failure")) == 1


@pytest.mark.usefixtures("handler")
def test_a_timed_out_execution_runs_its_error_workflow(cloud: LocalCloud) -> None:
    compiled = compile_workflow(fragile("sleepy", timeout=1, wait_seconds=3000, fail=False))
    timed_out = cloud.wait(cloud.start(compiled, [{"n": 1}]))
    assert timed_out.status == "TIMED_OUT"
    _, item = the_error_run(cloud, timed_out)
    assert item["execution"]["error"]["type"] == "TIMED_OUT"
    assert item["execution"]["stoppedAt"] is not None
    assert isinstance(item["execution"]["partialResults"], dict)  # how far it got depends on load
    assert item["workflow"]["id"] == "sleepy"


@pytest.mark.usefixtures("handler")
def test_a_cancelled_execution_runs_its_error_workflow(cloud: LocalCloud) -> None:
    compiled = compile_workflow(fragile("stoppable", wait_seconds=3000, fail=False))
    execution_id = cloud.start(compiled, [{"n": 1}])
    arn = cloud._arns[execution_id]
    deadline = time.monotonic() + 10
    while cloud.repository.node_output(execution_id, "Prepare") is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    cloud.sfn.stop_execution(executionArn=arn, error="Sfnflow.Cancelled", cause="by a test")
    aborted = cloud.wait(execution_id)
    assert aborted.status == "ABORTED"
    _, item = the_error_run(cloud, aborted)
    assert item["execution"]["error"]["type"] in ("Sfnflow.Cancelled", "ABORTED")
    assert item["execution"]["lastNodeExecuted"] == "Prepare"


def test_an_error_workflow_that_fails_is_not_routed_again(cloud: LocalCloud) -> None:
    """A workflow handling its own failures (errorTrigger, no errorWorkflow) whose error
    branch fails too: one error run, then nothing more."""
    document = {
        "name": "self-handling",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Failed", "type": "errorTrigger"},
                  {"name": "Boom", "type": "stopAndError", "parameters": {"message": "x"}}],
        "connections": [{"from": "Start", "to": "Boom"}, {"from": "Failed", "to": "Boom"}],
    }
    compiled = compile_workflow(document)
    assert compiled.manifest["tags"] == {"sfnflow:workflow": "self-handling",
                                         "sfnflow:errorWorkflow": "self-handling"}
    failed = cloud.wait(cloud.start(compiled))
    assert failed.status == "FAILED"
    error_name = error_execution_name(failed.execution_id)
    error_run = cloud.wait(error_name)
    assert error_run.status == "FAILED"
    deliver_again(cloud, error_run)
    assert sorted(e["name"] for e in executions_of(cloud, "self-handling")) == sorted(
        [failed.execution_id, error_name])


def wait_for_start(cloud: LocalCloud, workflow: str, count: int = 1) -> list[Finished]:
    """Executions a rule or schedule started: recorded by their RUNNING event, then waited."""
    deadline = time.monotonic() + 10
    while len(executions_of(cloud, workflow)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    cloud.emitter.poll_once()
    return [cloud.wait(e["name"]) for e in executions_of(cloud, workflow)]


def test_an_event_on_a_bus_starts_a_workflow(cloud: LocalCloud) -> None:
    cloud.events.create_event_bus(Name="shop")
    document = {
        "name": "on-order",
        "nodes": [{"name": "Order placed", "type": "eventTrigger", "parameters": {
                      "eventBus": "shop",
                      "pattern": {"source": ["shop.orders"], "detail": {"total": [
                          {"numeric": [">", 100]}]}}}},
                  {"name": "Big order", "type": "set", "parameters": {
                      "values": {"id": "{% $json.detail.id %}"}, "keepOnlySet": True}}],
        "connections": [{"from": "Order placed", "to": "Big order"}],
    }
    cloud.deploy(compile_workflow(document))
    for order in ({"id": 1, "total": 50}, {"id": 2, "total": 250}):
        cloud.events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "Order",
                                          "EventBusName": "shop", "Detail": json.dumps(order)}])
    (finished,) = wait_for_start(cloud, "on-order")
    assert finished.status == "SUCCEEDED", finished.cause
    record = cloud.repository.get_execution(finished.execution_id)
    assert record is not None and record.mode == "trigger" and record.status == "SUCCEEDED"
    (event,) = record.input["items"]
    assert event["detail"] == {"id": 2, "total": 250} and event["source"] == "shop.orders"
    assert record.input["triggeredBy"] == "Order placed"
    assert cloud.repository.node_output(finished.execution_id, "Order placed") == [[event]]


def test_a_workflow_trigger_starts_b_when_a_succeeds(cloud: LocalCloud) -> None:
    upstream = {"name": "nightly-import", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Maybe fail", "type": "code", "parameters": {"code": (
            "if items[0].get('fail'): raise ValueError('bad')\nreturn items")}}],
        "connections": [{"from": "Start", "to": "Maybe fail"}]}
    downstream = {"name": "report", "nodes": [
        {"name": "After import", "type": "workflowTrigger",
         "parameters": {"workflow": "nightly-import"}},
        {"name": "Write", "type": "noOp"}],
        "connections": [{"from": "After import", "to": "Write"}]}
    cloud.deploy(compile_workflow(downstream))
    compiled = compile_workflow(upstream)
    failed = cloud.wait(cloud.start(compiled, [{"fail": True}]))
    assert failed.status == "FAILED"
    succeeded = cloud.wait(cloud.start(compiled, [{"n": 1}]))
    assert succeeded.status == "SUCCEEDED"
    (report,) = wait_for_start(cloud, "report")
    assert report.status == "SUCCEEDED"
    record = cloud.repository.get_execution(report.execution_id)
    assert record is not None
    (item,) = record.input["items"]
    assert item["name"] == succeeded.execution_id and item["status"] == "SUCCEEDED"
    assert item["stateMachineArn"].endswith(":stateMachine:nightly-import")
    assert record.input["triggeredBy"] == "After import"


def test_a_workflow_cannot_trigger_itself() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow({"name": "loop", "nodes": [
            {"name": "Again", "type": "workflowTrigger", "parameters": {"workflow": "loop"}},
            {"name": "Work", "type": "noOp"}], "connections": [{"from": "Again", "to": "Work"}]})
    (problem,) = caught.value.problems
    assert (problem.node, problem.field) == ("Again", "parameters.workflow")
    assert "cannot trigger itself" in problem.message


def test_manifest_carries_triggers_and_tags() -> None:
    compiled = compile_workflow({
        "name": "many", "settings": {"errorWorkflow": "on-failure"},
        "nodes": [{"name": "Hook", "type": "webhook", "parameters": {"path": "in"}},
                  {"name": "Events", "type": "eventTrigger",
                   "parameters": {"pattern": {"source": ["a"]}}},
                  {"name": "Off", "type": "manualTrigger", "disabled": True},
                  {"name": "Work", "type": "noOp"}],
        "connections": [{"from": "Hook", "to": "Work"}, {"from": "Events", "to": "Work"},
                        {"from": "Off", "to": "Work"}]})
    assert compiled.manifest["tags"] == {"sfnflow:workflow": "many",
                                         "sfnflow:errorWorkflow": "on-failure"}
    assert compiled.manifest["triggers"] == [
        {"node": "Hook", "type": "webhook", "parameters": {
            "path": "in", "method": "POST", "secret": None, "responseMode": "onReceived"}},
        {"node": "Events", "type": "eventTrigger",
         "parameters": {"eventBus": "default", "pattern": {"source": ["a"]}}},
    ]
