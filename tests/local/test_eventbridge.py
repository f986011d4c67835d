"""The status-change events moto never emits (local/eventbridge.py), observed the way any
rule would see them: through an SQS queue target on the default bus."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from compiler import compile_workflow
from local.cloud import LocalCloud
from local.eventbridge import DETAIL_TYPE, SOURCE, StatusChangeEmitter, status_change_detail


def workflow(name: str, wait_seconds: int = 0, fail: bool = False) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"}]
    if wait_seconds:
        nodes.append({"name": "Nap", "type": "wait", "parameters": {"seconds": wait_seconds}})
    if fail:
        nodes.append({"name": "Boom", "type": "stopAndError", "parameters": {"message": "no"}})
    names = [node["name"] for node in nodes]
    return {"name": name, "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)]}


def listen(cloud: LocalCloud) -> Any:
    """An SQS queue receiving every status-change event (moto delivers to SQS itself)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="status-changes")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    cloud.events.put_rule(Name="spy", EventPattern=json.dumps(
        {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}))
    cloud.events.put_targets(Rule="spy", Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        events = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages"):
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return events

    return received


def test_wait_publishes_running_then_the_final_event_once(cloud: LocalCloud) -> None:
    received = listen(cloud)
    execution_id = cloud.start(compile_workflow(workflow("quick")), {"n": 1})
    finished = cloud.wait(execution_id)
    events = received()
    assert [e["detail"]["status"] for e in events] == ["RUNNING", "SUCCEEDED"]
    final = events[1]
    assert final["source"] == "aws.states" and final["detail-type"] == DETAIL_TYPE
    assert final["resources"] == [finished.execution_arn]
    detail = final["detail"]
    assert detail["name"] == execution_id and detail["executionArn"] == finished.execution_arn
    assert detail["stateMachineArn"].endswith(":stateMachine:quick")
    assert isinstance(detail["startDate"], int) and isinstance(detail["stopDate"], int)
    assert json.loads(detail["input"])["n"] == 1 and json.loads(detail["output"]) is not None
    assert events[0]["detail"]["stopDate"] is None and events[0]["detail"]["output"] is None
    # Emitting again (the thread, a second wait) publishes nothing.
    assert cloud.emitter.emit(cloud.sfn.describe_execution(
        executionArn=finished.execution_arn)) == 0
    assert cloud.emitter.poll_once() == 0
    assert received() == []
    # The run data came through the rule, not a direct call.
    record = cloud.repository.get_execution(execution_id)
    assert record is not None and record.status == "SUCCEEDED"


def test_poll_once_follows_executions_started_elsewhere(cloud: LocalCloud) -> None:
    received = listen(cloud)
    arn = cloud.deploy(compile_workflow(workflow("napper", wait_seconds=30)))
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="from-the-console",
                                          input=json.dumps({"items": [{"a": 1}]}))
    assert cloud.emitter.poll_once() == 1  # RUNNING
    record = cloud.repository.get_execution("from-the-console")
    assert record is not None and record.status == "RUNNING" and record.mode == "trigger"
    while cloud.sfn.describe_execution(executionArn=execution["executionArn"])[
            "status"] == "RUNNING":
        time.sleep(0.02)
    assert cloud.emitter.poll_once() == 1  # SUCCEEDED
    assert [e["detail"]["status"] for e in received()] == ["RUNNING", "SUCCEEDED"]
    record = cloud.repository.get_execution("from-the-console")
    assert record is not None and record.status == "SUCCEEDED"


def test_an_execution_first_seen_ended_gets_both_events(cloud: LocalCloud) -> None:
    received = listen(cloud)
    arn = cloud.deploy(compile_workflow(workflow("broken", fail=True)))
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="one", input="{}")
    while (described := cloud.sfn.describe_execution(
            executionArn=execution["executionArn"]))["status"] == "RUNNING":
        time.sleep(0.01)
    assert cloud.emitter.poll_once() == 2
    events = received()
    assert [e["detail"]["status"] for e in events] == ["RUNNING", "FAILED"]
    assert events[1]["detail"]["error"] == described["error"]
    assert events[0]["detail"]["error"] is None


def test_the_background_thread_publishes_without_wait(cloud: LocalCloud) -> None:
    received = listen(cloud)
    emitter = StatusChangeEmitter(cloud.sfn, cloud.events, poll_seconds=0.01)
    arn = cloud.deploy(compile_workflow(workflow("background")))
    emitter.start()
    try:
        cloud.sfn.start_execution(stateMachineArn=arn, name="bg", input="{}")
        deadline = time.monotonic() + 10
        statuses: list[str] = []
        while "SUCCEEDED" not in statuses and time.monotonic() < deadline:
            statuses += [e["detail"]["status"] for e in received()]
            time.sleep(0.02)
    finally:
        emitter.stop()
    assert statuses == ["RUNNING", "SUCCEEDED"]


def test_status_change_detail_as_of_a_status() -> None:
    from datetime import UTC, datetime

    described = {"executionArn": "arn:aws:states:us-east-1:1:execution:m:e",
                 "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:m", "name": "e",
                 "status": "FAILED", "startDate": datetime(2026, 1, 1, tzinfo=UTC),
                 "stopDate": datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), "input": "{}",
                 "error": "Boom", "cause": "why"}
    final = status_change_detail(described)
    assert final["startDate"] == 1767225600000 and final["stopDate"] == 1767225601000
    assert (final["status"], final["error"], final["cause"]) == ("FAILED", "Boom", "why")
    running = status_change_detail(described, "RUNNING")
    assert running["status"] == "RUNNING" and running["stopDate"] is None
    assert running["error"] is None


def test_periodic_runs_its_task_until_stopped_and_survives_failures() -> None:
    """What ``sfnflow serve`` uses to tick the reconciler as the stack's schedule does."""
    import threading

    from local.periodic import Periodic

    calls: list[int] = []
    enough = threading.Event()

    def task() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a failed tick")  # logged; the next tick still comes
        if len(calls) >= 3:
            enough.set()

    ticker = Periodic(task, 0.01, "test-ticker")
    ticker.start()
    assert enough.wait(5)
    ticker.stop()
    count = len(calls)
    time.sleep(0.05)
    assert len(calls) == count >= 3


class NoListing:
    """The emitter's Step Functions client, refusing to list executions."""

    def __init__(self, sfn: Any) -> None:
        self._sfn = sfn
        self.described: list[str] = []

    def get_paginator(self, name: str) -> Any:
        raise AssertionError(f"listed ({name}): only announced executions are described")

    def describe_execution(self, executionArn: str) -> Any:  # noqa: N803 - boto3's name
        self.described.append(executionArn)
        return self._sfn.describe_execution(executionArn=executionArn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sfn, name)


def test_announced_changes_are_published_without_listing_executions(
        cloud: LocalCloud) -> None:
    """moto announces each start and end; ``emit_changed`` describes just those (a poll
    listed every execution of every machine at each change: quadratic in a burst)."""
    received = listen(cloud)
    arn = cloud.deploy(compile_workflow(workflow("announced-only")))
    for name in ("a", "b"):
        execution = cloud.sfn.start_execution(stateMachineArn=arn, name=name, input="{}")
        while cloud.sfn.describe_execution(executionArn=execution["executionArn"])[
                "status"] == "RUNNING":
            time.sleep(0.01)
    cloud.emitter.sfn = NoListing(cloud.emitter.sfn)
    assert cloud.emitter.emit_changed() == 4
    assert sorted(cloud.emitter.sfn.described) == sorted(
        {a.replace(":stateMachine:", ":execution:") + f":{n}" for a in [arn] for n in "ab"})
    assert sorted((e["detail"]["name"], e["detail"]["status"]) for e in received()) == [
        ("a", "RUNNING"), ("a", "SUCCEEDED"), ("b", "RUNNING"), ("b", "SUCCEEDED")]


def test_wait_sleeps_until_the_end_is_announced(cloud: LocalCloud) -> None:
    """``LocalCloud.wait`` described the execution every 20 ms until it ended."""
    compiled = compile_workflow(workflow("announced-end", wait_seconds=30))  # 0.3 s scaled
    execution_id = cloud.start(compiled)
    counted = NoListing(cloud.sfn)
    cloud.sfn = counted  # type: ignore[assignment]
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    assert len(counted.described) <= 4  # its start, maybe a spurious wake, its end
