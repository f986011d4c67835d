"""Triggers with a net (issue 10, item 16): every schedule and rule sfnflow creates has a
retry policy and a dead-letter queue, and targets the trigger starter, which names the
execution after the delivery, so a duplicate delivery starts nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from compiler import compile_workflow
from functions.handlers import triggers as handler
from functions.services.triggers import (
    RETRY_POLICY,
    TriggerStarter,
    event_execution_name,
    scheduled_execution_name,
    trigger_name,
)
from local import moto_patches
from local.cloud import LocalCloud

SCHEDULED = {"name": "nightly", "nodes": [
    {"name": "Tick", "type": "scheduleTrigger",
     "parameters": {"expression": "cron(0 2 * * ? *)", "timezone": "Europe/Berlin"}},
    {"name": "Work", "type": "noOp"}], "connections": [{"from": "Tick", "to": "Work"}]}
ON_EVENT = {"name": "on-order", "nodes": [
    {"name": "Order", "type": "eventTrigger",
     "parameters": {"pattern": {"source": ["shop"], "detail-type": ["OrderPlaced"]}}},
    {"name": "Work", "type": "noOp"}], "connections": [{"from": "Order", "to": "Work"}]}
EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
         "detail-type": "OrderPlaced", "source": "shop", "account": "123456789012",
         "time": "2026-06-01T09:00:00Z", "region": "us-east-1", "resources": [],
         "detail": {"order": 7}}


def executions(cloud: LocalCloud, workflow: str) -> list[dict[str, Any]]:
    arn = cloud.config.state_machine_arn(workflow)
    return cloud.sfn.list_executions(stateMachineArn=arn)["executions"]


def test_schedules_target_the_starter_with_retries_and_a_dead_letter_queue(
        cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(SCHEDULED))
    schedule = cloud.scheduler_client.get_schedule(
        Name=trigger_name(cloud.config, "nightly", "Tick"))
    target = schedule["Target"]
    assert target["Arn"] == cloud.config.trigger_function_arn
    assert target["RoleArn"] == cloud.config.scheduler_role_arn
    assert target["RetryPolicy"] == RETRY_POLICY
    assert target["DeadLetterConfig"] == {"Arn": cloud.config.trigger_dlq_arn}
    assert json.loads(target["Input"]) == {
        "trigger": "schedule", "workflow": "nightly", "node": "Tick",
        "timezone": "Europe/Berlin", "schedule": "<aws.scheduler.schedule-arn>",
        "scheduledTime": "<aws.scheduler.scheduled-time>"}


def test_rules_target_the_starter_with_retries_and_a_dead_letter_queue(
        cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(ON_EVENT))
    rule = trigger_name(cloud.config, "on-order", "Order")
    (target,) = cloud.events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["Arn"] == cloud.config.trigger_function_arn
    assert "RoleArn" not in target  # Lambda targets: the function's resource policy
    assert target["RetryPolicy"] == RETRY_POLICY
    assert target["DeadLetterConfig"] == {"Arn": cloud.config.trigger_dlq_arn}


def test_a_scheduled_fire_delivered_twice_starts_one_execution(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(SCHEDULED))
    schedule_arn = cloud.scheduler_client.get_schedule(
        Name=trigger_name(cloud.config, "nightly", "Tick"))["Arn"]
    template = cloud.scheduler_client.get_schedule(
        Name=trigger_name(cloud.config, "nightly", "Tick"))["Target"]["Input"]
    names = []
    for attempt in ("1", "2"):  # Scheduler retried: a new execution id, the same time
        payload = (template.replace("<aws.scheduler.schedule-arn>", schedule_arn)
                   .replace("<aws.scheduler.scheduled-time>", "2026-06-02T00:00:00Z")
                   .replace("<aws.scheduler.execution-id>", f"attempt-{attempt}"))
        names.append(handler.lambda_handler(json.loads(payload),
                                            moto_patches.InvokeContext("sfnflow-triggers")))
    expected = scheduled_execution_name(schedule_arn, datetime(2026, 6, 2, tzinfo=UTC))
    # Step Functions answers a repeated name with the open execution (same input) or
    # ExecutionAlreadyExists (closed): either way nothing new starts.
    assert names[0] == {"executionName": expected}
    assert names[1]["executionName"] in (expected, None)
    (started,) = executions(cloud, "nightly")
    assert started["name"] == expected and len(expected) <= 80
    described = cloud.sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(described["input"]) == {
        "items": [{"scheduledAt": "2026-06-02T00:00:00Z", "timezone": "Europe/Berlin"}],
        "triggeredBy": "Tick", "mode": "trigger"}


def test_an_event_delivered_twice_starts_one_execution(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(ON_EVENT))
    rule = cloud.events.describe_rule(Name=trigger_name(cloud.config, "on-order", "Order"))
    (target,) = cloud.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    for _ in range(2):  # at-least-once: the same event (same id) reaches the target twice
        text = moto_patches.event_target_input(target, EVENT, rule["Name"], rule["Arn"],
                                               "2026-06-01T09:00:00Z")
        assert moto_patches.invoke_registered(target["Arn"], json.loads(text))
    (started,) = executions(cloud, "on-order")
    assert started["name"] == event_execution_name(rule["Arn"], EVENT["id"])
    described = cloud.sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(described["input"]) == {"items": [EVENT], "triggeredBy": "Order",
                                              "mode": "trigger"}


def test_other_events_start_their_own_executions(cloud: LocalCloud) -> None:
    cloud.deploy(compile_workflow(ON_EVENT))
    starter = TriggerStarter(cloud.sfn, cloud.config)
    rule = cloud.events.describe_rule(Name=trigger_name(cloud.config, "on-order", "Order"))
    for event_id in ("a", "b"):
        assert starter.start({"trigger": "event", "workflow": "on-order", "node": "Order",
                              "item": "event", "rule": rule["Arn"],
                              "event": {**EVENT, "id": event_id}}) is not None
    assert len(executions(cloud, "on-order")) == 2
    assert len(event_execution_name(rule["Arn"] + "x" * 200, EVENT["id"])) <= 80


def test_deliveries_to_a_limited_workflow_beyond_its_limit_are_queued(
        cloud: LocalCloud) -> None:
    """Schedules and rules start through admission: with ``maxConcurrency: 1`` the first
    delivery runs and the next wait QUEUED (a duplicate still starts nothing)."""
    document = {**ON_EVENT, "settings": {"maxConcurrency": 1}, "nodes": [
        ON_EVENT["nodes"][0], {"name": "Work", "type": "wait",
                               "parameters": {"seconds": 100_000}}]}
    cloud.deploy(compile_workflow(document))

    class Registry:
        def get(self, workflow_id: str) -> Any:
            return type("Record", (), {"document": document, "version": 1})

    starter = TriggerStarter(cloud.sfn, cloud.config, executions=cloud.executions,
                             workflows=Registry())  # type: ignore[arg-type]
    rule = cloud.events.describe_rule(Name=trigger_name(cloud.config, "on-order", "Order"))
    names = [starter.start({"trigger": "event", "workflow": "on-order", "node": "Order",
                            "item": "event", "rule": rule["Arn"],
                            "event": {**EVENT, "id": event_id}}) for event_id in "abc"]
    assert None not in names
    statuses = [cloud.repository.get_execution(str(name)).status  # type: ignore[union-attr]
                for name in names]
    assert statuses == ["RUNNING", "QUEUED", "QUEUED"]
    assert len(executions(cloud, "on-order")) == 1
    assert starter.start({"trigger": "event", "workflow": "on-order", "node": "Order",
                          "item": "event", "rule": rule["Arn"],
                          "event": {**EVENT, "id": "b"}}) is None
