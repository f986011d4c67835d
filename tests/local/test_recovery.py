"""What a restarted server does with the executions the last one left unfinished
(local/recovery.py): running ones fail with a typed error and can be retried; a paused
sub-workflow fails too (its parent's task died); a paused top-level one is resumed (the
whole path, over HTTP, is in tests/local/test_persistence.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from functions.api.dependencies import services
from functions.services.execution_control import ExecutionConflict
from functions.services.waits import WaitService
from functions.services.workflows import unqualified
from functions.store.repository import Execution, utc_now
from functions.store.waits import EXECUTION_WAITING, RESUMING, Wait, WaitRepository
from local.cloud import LocalCloud
from local.recovery import RESTARTED, recover_executions
from tests.conftest import TIME_SCALE

DOCUMENT: dict[str, Any] = {"name": "orphans", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Work", "type": "noOp"}],
    "connections": [{"from": "Start", "to": "Work"}]}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        services().workflows.create(DOCUMENT)
        yield local_cloud


def orphan(cloud: LocalCloud, execution_id: str, status: str, *,
           parent: str | None = None) -> None:
    """The run data a stopped server leaves: the record, and no execution in moto."""
    cloud.repository.create_execution(Execution(
        execution_id=execution_id, workflow_id="orphans", status=status,
        started_at=utc_now(), mode="api", workflow_version="1",
        input={"items": [{"n": 1}], "mode": "api"}, parent_execution_id=parent))


def finish(cloud: LocalCloud, arn: str) -> str:
    """Wait for the execution to end and deliver its status-change event."""
    deadline = time.monotonic() + 20
    while (described := cloud.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.02)
    cloud.emitter.emit(described)
    return str(described["status"])


def recover(cloud: LocalCloud) -> Any:
    return recover_executions(cloud.sfn, cloud.repository, services().workflows.workflows,
                              WaitRepository())


def test_a_running_execution_fails_with_a_typed_error_and_can_be_retried(
        cloud: LocalCloud) -> None:
    orphan(cloud, "was-running", "RUNNING")
    recovered = recover(cloud)
    assert recovered.failed == ["was-running"] and recovered.resumed == []
    failed = cloud.repository.get_execution("was-running")
    assert failed is not None and failed.status == "FAILED"
    assert failed.error is not None and failed.error["type"] == RESTARTED
    assert "retry" in failed.error["message"]
    retried = services().executions.retry("was-running")
    assert retried.execution_arn is not None
    assert finish(cloud, retried.execution_arn) == "SUCCEEDED"
    assert recover(cloud).failed == []  # nothing left to recover


def test_a_paused_sub_workflow_fails_with_its_parent(cloud: LocalCloud) -> None:
    orphan(cloud, "parent", "RUNNING")
    orphan(cloud, "child", EXECUTION_WAITING, parent="parent")
    WaitRepository().save(Wait(execution_id="child", wait_id="hold-0-abc", workflow_id="orphans",
                               node="Hold", mode="approval", token="old-token"))
    recovered = recover(cloud)
    assert sorted(recovered.failed) == ["child", "parent"] and recovered.resumed == []
    for execution_id in ("child", "parent"):
        execution = cloud.repository.get_execution(execution_id)
        assert execution is not None and execution.status == "FAILED"
        assert execution.error is not None and execution.error["type"] == RESTARTED


def test_a_resumed_executions_wait_is_held_until_it_pauses_again(cloud: LocalCloud) -> None:
    """Its token died with the old process: a decision before the new pause is told to come
    back (409), not sent to a token Step Functions no longer knows."""
    orphan(cloud, "was-paused", EXECUTION_WAITING)
    WaitRepository().save(Wait(execution_id="was-paused", wait_id="hold-0-abc",
                               workflow_id="orphans", node="Hold", mode="approval",
                               token="old-token"))
    assert recover(cloud).resumed == ["was-paused"]
    held = WaitRepository().get("was-paused", "hold-0-abc")
    assert held is not None and held.token == RESUMING and held.signing_token == "old-token"
    with pytest.raises(ExecutionConflict, match="try again in a moment"):
        WaitService(cloud.sfn, cloud.repository, WaitRepository(), cloud.config).decide(
            "was-paused", "hold-0-abc", "approve", None)
    record = services().workflows.workflows.get("orphans")
    assert record is not None
    (resumed,) = [e for e in cloud.sfn.list_executions(stateMachineArn=unqualified(
        record.state_machine_arn))["executions"] if e["name"] == "was-paused"]
    assert finish(cloud, resumed["executionArn"]) == "SUCCEEDED"  # (this one has no wait)
