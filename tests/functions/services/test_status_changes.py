"""Status changes that must not be lost (issue 10, item 11): the final status is recorded
before the history read, and Distributed Map child executions are not sfnflow executions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.services.error_router import ErrorRouter
from functions.services.executions import ExecutionService, is_map_run_child
from functions.store.repository import Execution
from local.cloud import LocalCloud

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:wf"
# Step Functions labels a Map Run's children: machine "<name>/<label>", execution
# "<name>/<label>:<id>" (documented in "Viewing a Distributed Map Run execution").
CHILD_MACHINE = f"{MACHINE}/Each"
CHILD_EXECUTION = ("arn:aws:states:us-east-1:123456789012:execution:wf/Each:"
                   "0f5c1a9e-6a8b-3f7e-9c4d-2b1e0a9d8c7f")


class HistoryUnavailable(Exception):
    pass


class SlowHistory:
    """The Step Functions client, except that reading a history fails (a Lambda timing
    out on a 25,000-event history, throttling)."""

    def __init__(self, sfn: Any) -> None:
        self._sfn = sfn

    def get_execution_history(self, **_: Any) -> Any:
        raise HistoryUnavailable("history read timed out")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sfn, name)


def detail(name: str, status: str, *, machine: str = MACHINE,
           execution_arn: str | None = None) -> dict[str, Any]:
    return {"executionArn": execution_arn or f"{machine.replace(':stateMachine:', ':execution:')}"
                                              f":{name}",
            "stateMachineArn": machine, "name": name, "status": status,
            "startDate": 1780304400000, "stopDate": 1780304401000,
            "input": json.dumps({"mode": "manual"}), "output": json.dumps({"ok": 1}),
            "error": "Sfnflow.Boom" if status == "FAILED" else None,
            "cause": json.dumps({"errorMessage": "it broke"}) if status == "FAILED" else None}


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED"])
def test_the_final_status_is_recorded_before_the_history_is_read(cloud: LocalCloud,
                                                                 status: str) -> None:
    cloud.repository.create_execution(Execution("e1", "wf", "RUNNING",
                                                "2026-06-01T09:00:00.000Z"))
    service = ExecutionService(SlowHistory(cloud.sfn), cloud.repository)
    with pytest.raises(HistoryUnavailable):  # the handler fails: EventBridge retries it
        service.on_status_change(detail("e1", status))
    stored = cloud.repository.get_execution("e1")
    assert stored is not None and stored.status == status
    assert stored.stopped_at == "2026-06-01T09:00:01.000Z"
    if status == "FAILED":
        assert stored.error == {"type": "Sfnflow.Boom", "message": "it broke", "node": None}
    else:
        assert stored.output == {"ok": 1}


def test_execution_finished_is_the_last_progress_event_and_is_written_once(
        cloud: LocalCloud) -> None:
    """Stream clients stop at ``executionFinished``: it must follow the native nodes'
    events (recorded from the history after the final status), and a repeated status
    change must not announce the end twice. A handler that failed reading the history
    announces nothing; its retry does."""
    from compiler import compile_workflow

    compiled = compile_workflow({"name": "wf", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Same", "type": "noOp"}],  # native: its run comes from the history
        "connections": [{"from": "Start", "to": "Same"}]})
    execution_id = cloud.start(compiled, None)
    finished = cloud.wait(execution_id)
    events = cloud.repository.progress_events(execution_id, consistent=True)
    assert [e["type"] for e in events][-1] == "executionFinished"
    assert ("nodeFinished", "Same") in [(e["type"], e["node"]) for e in events]
    again = {"executionArn": finished.execution_arn, "name": execution_id,
             "status": "SUCCEEDED", "stateMachineArn": cloud.deploy(compiled),
             "stopDate": cloud.sfn.describe_execution(
                 executionArn=finished.execution_arn)["stopDate"].timestamp() * 1000,
             "input": "{}"}
    ExecutionService(cloud.sfn, cloud.repository).on_status_change(again)
    repeated = cloud.repository.progress_events(execution_id, consistent=True)
    assert [e["type"] for e in repeated].count("executionFinished") == 1

    cloud.repository.create_execution(Execution("e2", "wf", "RUNNING",
                                                "2026-06-01T09:00:00.000Z"))
    with pytest.raises(HistoryUnavailable):
        ExecutionService(SlowHistory(cloud.sfn), cloud.repository).on_status_change(
            detail("e2", "SUCCEEDED"))
    assert cloud.repository.progress_events("e2", consistent=True) == []


def test_map_run_children_are_recognised_by_their_labelled_arns() -> None:
    assert is_map_run_child({"stateMachineArn": CHILD_MACHINE,
                             "executionArn": CHILD_EXECUTION})
    assert is_map_run_child({"executionArn": CHILD_EXECUTION})
    assert not is_map_run_child({"stateMachineArn": MACHINE,
                                 "executionArn": MACHINE.replace(":stateMachine:",
                                                                 ":execution:") + ":run-1"})


@pytest.mark.parametrize("status", ["RUNNING", "FAILED"])
def test_status_events_of_map_run_children_are_ignored(cloud: LocalCloud, status: str) -> None:
    name = CHILD_EXECUTION.rsplit(":", 1)[-1]
    event = detail(name, status, machine=CHILD_MACHINE, execution_arn=CHILD_EXECUTION)
    cloud.executions.on_status_change(event)
    assert cloud.repository.get_execution(name) is None
    router = ErrorRouter(cloud.sfn, cloud.executions, cloud.repository, cloud.config)
    assert router.on_status_change(event) is None  # no ListTagsForResource on a child
    assert cloud.repository.get_execution(name) is None
