"""ExecutionService: the execution envelope and status-change handling."""

from __future__ import annotations

from functions.services.executions import trigger_input
from functions.store.repository import Execution, NodeRun
from local.cloud import LocalCloud


def test_trigger_input_envelope() -> None:
    assert trigger_input([{"a": 1}], [], "manual") == {"items": [{"a": 1}], "mode": "manual"}
    assert trigger_input({"a": 1}, ["X"], "manual") == {"a": 1, "mode": "manual",
                                                         "pinned": ["X"]}
    assert trigger_input(None, [], "trigger") == {"mode": "trigger"}
    assert trigger_input(5, [], "manual") == {"items": [{"value": 5}], "mode": "manual"}


def test_failed_status_names_the_failed_node(cloud: LocalCloud) -> None:
    repo = cloud.repository
    repo.create_execution(Execution("e1", "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    repo.record_node_run(NodeRun("e1", "Fetch", "httpRequest", "error", "t0", "t1", 5,
                                 error={"type": "Sfnflow.HttpClientError", "message": "404"}))
    cloud.executions.on_status_change({
        "name": "e1", "status": "FAILED", "stopDate": 1767225600000,
        "error": "Sfnflow.HttpClientError",
        "cause": '{"errorMessage": "GET /x returned 404", "errorType": "x"}',
    })
    stored = repo.get_execution("e1")
    assert stored is not None
    assert stored.status == "FAILED"
    assert stored.stopped_at == "2026-01-01T00:00:00.000Z"
    assert stored.error == {"type": "Sfnflow.HttpClientError",
                            "message": "GET /x returned 404", "node": "Fetch"}


def test_running_event_changes_nothing(cloud: LocalCloud) -> None:
    repo = cloud.repository
    repo.create_execution(Execution("e1", "wf", "RUNNING", "2026-01-01T00:00:00.000Z"))
    cloud.executions.on_status_change({"name": "e1", "status": "RUNNING"})
    stored = repo.get_execution("e1")
    assert stored is not None and stored.status == "RUNNING"
