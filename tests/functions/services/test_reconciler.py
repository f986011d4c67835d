"""The reconciler (issue 10, item 11): executions whose status-change event was lost are
completed from DescribeExecution, their error workflow started exactly once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from compiler import compile_workflow
from functions.services.error_router import error_execution_name
from functions.services.reconciler import NOT_STARTED
from functions.store.repository import Execution
from local.cloud import LocalCloud

HANDLER = {"name": "on-failure",
           "nodes": [{"name": "Failed", "type": "errorTrigger"},
                     {"name": "Notify", "type": "noOp"}],
           "connections": [{"from": "Failed", "to": "Notify"}]}


def workflow(name: str, last: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "settings": {"errorWorkflow": "on-failure"},
            "nodes": [{"name": "Start", "type": "manualTrigger"}, {"name": "Last", **last}],
            "connections": [{"from": "Start", "to": "Last"}]}


FAILS = {"type": "code", "parameters": {"code": "raise ValueError('out of paper')"}}


def ended_without_event(cloud: LocalCloud, execution_id: str) -> dict[str, Any]:
    """Wait for the execution to end in Step Functions, publishing no status change (the
    event EventBridge lost)."""
    for _ in range(500):
        described = cloud.sfn.describe_execution(executionArn=cloud._arns[execution_id])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError("the execution did not end")


def later(minutes: int = 10) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def error_runs(cloud: LocalCloud) -> list[str]:
    arn = cloud._state_machines["on-failure"]
    return [run["name"] for run in cloud.sfn.list_executions(stateMachineArn=arn)["executions"]]


def test_a_lost_failure_is_completed_and_routed_once(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(HANDLER))
    execution_id = cloud.start(compile_workflow(workflow("fragile", FAILS)), [{"n": 1}])
    described = ended_without_event(cloud, execution_id)
    assert described["status"] == "FAILED"
    record = cloud.repository.get_execution(execution_id)
    assert record is not None and record.status == "RUNNING"  # the event never came

    assert cloud.reconcile(datetime.now(UTC))["completed"] == []  # too young to judge
    report = cloud.reconcile(later())
    assert report["completed"] == [execution_id]
    record = cloud.repository.get_execution(execution_id)
    assert record is not None and record.status == "FAILED"
    assert record.error is not None and record.error["node"] == "Last"
    assert "out of paper" in record.error["message"]
    assert error_runs(cloud) == [error_execution_name(execution_id)]

    # Nothing left to do; and the event arriving late after all starts nothing new.
    assert execution_id not in cloud.reconcile(later())["completed"]
    cloud.emitter.emit(described)
    assert error_runs(cloud) == [error_execution_name(execution_id)]


def test_a_lost_success_is_completed_with_its_output(cloud: LocalCloud) -> None:
    execution_id = cloud.start(compile_workflow(workflow("fine", {"type": "noOp"})),
                               [{"n": 1}])
    assert ended_without_event(cloud, execution_id)["status"] == "SUCCEEDED"
    assert cloud.reconcile(later())["completed"] == [execution_id]
    record = cloud.repository.get_execution(execution_id)
    assert record is not None and record.status == "SUCCEEDED"
    assert record.output is not None and record.stopped_at is not None


def test_running_executions_stay_running(cloud: LocalCloud) -> None:
    napping = workflow("napping", {"type": "wait", "parameters": {"seconds": 3600}})
    execution_id = cloud.start(compile_workflow(napping), [{"n": 1}])
    report = cloud.reconcile(later())
    assert report["checked"] == 1 and report["completed"] == []
    record = cloud.repository.get_execution(execution_id)
    assert record is not None and record.status == "RUNNING"
    cloud.sfn.stop_execution(executionArn=cloud._arns[execution_id])


def test_a_record_step_functions_never_heard_of_fails(cloud: LocalCloud) -> None:
    cloud.repository.create_execution(Execution(
        "ghost", "nowhere", "RUNNING",
        (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")))
    assert cloud.reconcile(datetime.now(UTC))["notStarted"] == ["ghost"]
    record = cloud.repository.get_execution("ghost")
    assert record is not None and record.status == "FAILED"
    assert record.error is not None and record.error["type"] == NOT_STARTED


def test_a_run_stops_at_its_budget_and_the_next_continues(cloud: LocalCloud) -> None:
    from functions.services.error_router import ErrorRouter
    from functions.services.reconciler import Reconciler

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for index in range(3):
        cloud.repository.create_execution(Execution(
            f"ghost-{index}", "nowhere", "RUNNING",
            (an_hour_ago + timedelta(seconds=index)).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")))
    router = ErrorRouter(cloud.sfn, cloud.executions, cloud.repository, cloud.config)
    reconciler = Reconciler(cloud.sfn, cloud.repository, cloud.executions, router,
                            max_checks=2)
    first = reconciler.run(datetime.now(UTC))
    assert (first.not_started, first.more) == (["ghost-2", "ghost-1"], True)  # newest first
    second = reconciler.run(datetime.now(UTC))
    assert (second.not_started, second.more) == (["ghost-0"], False)
    seconds = iter([60.0, 4.0])  # a Lambda running out of time stops before the next
    third_ghost = Execution("ghost-3", "nowhere", "RUNNING",
                            an_hour_ago.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    cloud.repository.create_execution(third_ghost)
    cloud.repository.create_execution(Execution("ghost-4", "nowhere", "RUNNING",
                                                third_ghost.started_at))
    third = reconciler.run(datetime.now(UTC), time_left=lambda: next(seconds))
    assert third.checked == 1 and third.more
