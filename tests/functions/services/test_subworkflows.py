"""Sub-workflow run data: the child execution and the parent node's run, from the child's
status-change events (the parent's executeWorkflow node has no node runner)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.errors import SubworkflowDepthExceeded
from functions.nodes.triggers import check_subworkflow_depth
from functions.services.subworkflows import ParentLink, child_output_items
from functions.store.repository import Execution
from local.cloud import LocalCloud

START, STOP = 1767225600000, 1767225600250  # 2026-01-01T00:00:00.000Z, +250 ms


def child_event(status: str, *, wait: bool = True, output: Any = None, **extra: Any,
                ) -> dict[str, Any]:
    envelope = {
        "items": [{"amount": 1}, {"amount": 2}], "mode": "subworkflow", "workflow": "child",
        "parent": {"executionId": "p1", "workflow": "parent", "node": "Run child",
                   "depth": 1, "maxDepth": 10, "attempt": 2, "runIndex": 0,
                   "waitForCompletion": wait},
    }
    return {"name": "c1", "status": status, "stateMachineArn": "arn:...:stateMachine:child",
            "startDate": START,
            "stopDate": None if status == "RUNNING" else STOP,
            "input": json.dumps(envelope), "output": json.dumps(output), **extra}


def test_child_output_items_concatenate_every_sink_port() -> None:
    output = {"A": {"ports": [{"count": 1, "items": [{"a": 1}]}, {"count": 0, "items": []}]},
              "B": {"ports": [{"count": 2, "items": [{"b": 1}, {"b": 2}]}]}}
    assert child_output_items(output) == [{"a": 1}, {"b": 1}, {"b": 2}]
    assert child_output_items(None) == []


def test_parent_link_needs_an_execution_and_a_node() -> None:
    assert ParentLink.of({"parent": {"executionId": "p"}}) is None
    assert ParentLink.of({"items": []}) is None
    link = ParentLink.of({"parent": {"executionId": "p", "node": "N", "depth": 3}})
    assert link == ParentLink("p", "", "N", depth=3)


def test_succeeded_child_is_linked_and_records_the_parent_node_run(cloud: LocalCloud) -> None:
    repo = cloud.repository
    repo.create_execution(Execution("p1", "parent", "RUNNING", "2026-01-01T00:00:00.000Z"))
    cloud.executions.on_status_change(child_event("RUNNING"))
    assert repo.node_runs("p1") == []  # a waited-for child records the node at its end
    output = {"Double": {"ports": [{"count": 2, "items": [{"amount": 2}, {"amount": 4}]}]}}
    cloud.executions.on_status_change(child_event("SUCCEEDED", output=output))

    child = repo.get_execution("c1")
    assert child is not None
    assert (child.workflow_id, child.status, child.mode) == ("child", "SUCCEEDED", "subworkflow")
    assert (child.parent_execution_id, child.parent_node) == ("p1", "Run child")
    assert child.started_at == "2026-01-01T00:00:00.000Z"
    (run,) = repo.node_runs("p1")
    assert (run.node, run.node_type, run.status, run.attempts) == (
        "Run child", "executeWorkflow", "success", 2)
    assert run.child_execution_id == "c1" and run.duration_ms == 250
    assert run.input_counts == [2] and run.output == [[{"amount": 2}, {"amount": 4}]]


def test_failed_child_records_a_typed_error_on_the_parent_node(cloud: LocalCloud) -> None:
    cloud.executions.on_status_change(child_event(
        "FAILED", error="Sfnflow.CodeError",
        cause=json.dumps({"errorType": "Sfnflow.CodeError", "errorMessage": "bad amount"})))
    (run,) = cloud.repository.node_runs("p1")
    assert run.status == "error" and run.child_execution_id == "c1"
    assert run.error == {"type": "Sfnflow.SubworkflowFailed", "message":
                         "child execution c1 failed: Sfnflow.CodeError: bad amount"}
    child = cloud.repository.get_execution("c1")
    assert child is not None and child.status == "FAILED"
    assert child.error is not None and child.error["type"] == "Sfnflow.CodeError"


def test_fire_and_forget_child_records_the_parent_node_when_it_starts(
    cloud: LocalCloud,
) -> None:
    cloud.executions.on_status_change(child_event("RUNNING", wait=False))
    (run,) = cloud.repository.node_runs("p1")
    assert run.status == "success" and run.output == [[{"amount": 1}, {"amount": 2}]]
    cloud.executions.on_status_change(child_event("FAILED", wait=False, error="X"))
    (run,) = cloud.repository.node_runs("p1")
    assert run.status == "success"  # the node only started the child


def test_late_running_event_does_not_reset_a_finished_child(cloud: LocalCloud) -> None:
    cloud.executions.on_status_change(child_event("SUCCEEDED", output={}))
    cloud.executions.on_status_change(child_event("RUNNING"))
    child = cloud.repository.get_execution("c1")
    assert child is not None and child.status == "SUCCEEDED"


@pytest.mark.parametrize(("parent", "fails"), [
    ({"depth": 10, "maxDepth": 10}, False),
    ({"depth": 11}, True),
    ({"depth": 2, "maxDepth": 1}, True),
    ({"node": "no depth"}, False),
])
def test_trigger_enforces_the_depth_limit(parent: dict[str, Any], fails: bool) -> None:
    trigger = {"items": [], "parent": {"node": "N", "workflow": "w", **parent}}
    if fails:
        with pytest.raises(SubworkflowDepthExceeded, match="exceeds the limit"):
            check_subworkflow_depth(trigger)
    else:
        check_subworkflow_depth(trigger)
    check_subworkflow_depth({"parent": "not a link"})
    check_subworkflow_depth(None)
