"""Schedules and event rules for a workflow's trigger nodes, from its compiled manifest,
and the trigger starter they all target.

``TriggerRules(events, scheduler, config)`` — boto3 ``events`` and ``scheduler`` clients
passed in — has three calls, each taking the manifest (``manifest["workflow"]`` and
``manifest["triggers"]``, see ``compiler.triggers``) and each idempotent:

- ``activate(manifest)`` creates or updates, per trigger node:
  - ``scheduleTrigger``: an EventBridge Scheduler schedule in ``Config.schedule_group``;
  - ``eventTrigger``: a rule with the node's pattern on its bus;
  - ``workflowTrigger``: a rule on the default bus matching the named workflow's
    "Step Functions Execution Status Change" events with the node's statuses; the item
    is that event's ``detail`` (executionArn, name, status, input, output, error, ...).
- ``deactivate(manifest)`` deletes them (a missing one is fine): nothing fires while a
  workflow is inactive, and a later ``activate`` with a newer manifest leaves no orphans.
- ``remove(manifest)`` is ``deactivate`` (for a deleted workflow).

An ``eventTrigger`` on a bus that does not exist is the author's mistake, not the
platform's: PutRule's ResourceNotFoundException becomes ``WorkflowInvalid`` naming the node
and field (a 400), and the deploy that was activating rolls back
(``functions.services.rollback``). It is found there rather than by a DescribeEventBus
before anything is created, which the deployed roles are not granted.

Every schedule and rule targets the trigger starter (``Config.trigger_function_arn``), not
the state machine: neither Scheduler nor EventBridge can name the execution they start,
and both deliver at least once. ``TriggerStarter.start`` names it after the delivery —
``scheduled_execution_name(schedule, scheduled time)`` (``<aws.scheduler.execution-id>``
changes with every attempt, and the scheduled time's ":" is not allowed in a name) or
``event_execution_name(rule, event id)`` — so a duplicate delivery meets
``ExecutionAlreadyExists`` (names are unique per machine for 90 days) and starts nothing.
The local scheduler (``local.scheduler``) names its fires the same way. Each target has a
retry policy (``RETRY_POLICY``) and, with ``Config.trigger_dlq_arn``, a dead-letter queue:
Scheduler sends to it with its role, EventBridge under the queue's resource policy.

Names: ``<Config.state_machine_prefix><workflow>-<8 hex of SHA-256(workflow, node)>``,
at most 64 characters, so the stack's IAM policies (by prefix) cover them. The event
input uses ``<aws.events.event.json>``: EventBridge's ``<aws.events.event>`` leaves
``detail`` out. Workflow triggers can form cycles across workflows (A starts B starts
A); only a workflow triggering itself is rejected, at compile time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import Problem, WorkflowInvalid
from functions.config import Config
from functions.services.admission import policy_of
from functions.services.executions import ExecutionService
from functions.store.repository import RunRepository
from functions.store.workflows import WorkflowRepository

STATUS_CHANGE = "Step Functions Execution Status Change"
TARGET_ID = "workflow"
_MISSING = ("ResourceNotFoundException",)
# Both services' maxima: retry for a day (EventBridge: 185 attempts, Scheduler the same),
# then the dead-letter queue.
RETRY_POLICY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86_400}

__all__ = ["RETRY_POLICY", "TriggerRules", "TriggerStarter", "event_execution_name",
           "scheduled_execution_name", "trigger_name"]


def trigger_name(config: Config, workflow: str, node: str) -> str:
    digest = hashlib.sha256(f"{workflow}\x00{node}".encode()).hexdigest()[:8]
    return f"{config.state_machine_prefix}{workflow}"[:55] + "-" + digest


def scheduled_execution_name(schedule_arn: str, fired_at: datetime) -> str:
    """``<schedule name>-<hash of its ARN>-<fire time>``: at most 67 characters, and the
    same for the same schedule and fire time."""
    name = schedule_arn.rsplit("/", 1)[-1]
    digest = hashlib.sha256(schedule_arn.encode()).hexdigest()[:8]
    return f"{name[:40]}-{digest}-{fired_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def event_execution_name(rule_arn: str, event_id: str) -> str:
    """``<rule name>-<hash of rule ARN and event id>``: at most 73 characters, the same
    for every delivery of one event by one rule (EventBridge keeps the event's ``id``)."""
    name = rule_arn.rsplit("/", 1)[-1]
    digest = hashlib.sha256(f"{rule_arn}\x00{event_id}".encode()).hexdigest()[:32]
    return f"{name[:40]}-{digest}"


def _delivery(kind: str, workflow: str, node: str, **fields: str) -> dict[str, Any]:
    return {"trigger": kind, "workflow": workflow, "node": node, **fields}


class TriggerRules:
    def __init__(self, *, events: Any, scheduler: Any, config: Config) -> None:
        self.events = events
        self.scheduler = scheduler
        self.config = config

    # ------------------------------------------------------------------ public

    def activate(self, manifest: dict[str, Any]) -> None:
        workflow = manifest["workflow"]
        for trigger in manifest.get("triggers") or []:
            node, kind, params = trigger["node"], trigger["type"], trigger["parameters"]
            name = trigger_name(self.config, workflow, node)
            if kind == "scheduleTrigger":
                self._put_schedule(name, workflow, node, params)
            elif kind == "eventTrigger":
                bus = params.get("eventBus") or "default"
                try:
                    self._put_rule(name, workflow, node, bus, params["pattern"], "event")
                except ClientError as exc:
                    if exc.response["Error"]["Code"] not in _MISSING:
                        raise
                    raise WorkflowInvalid([Problem(
                        node, "parameters.eventBus", f"event bus {bus!r} does not exist in "
                        "this account and Region: create it first, or listen on another",
                        "unknown_event_bus")]) from None
            elif kind == "workflowTrigger":
                pattern = {
                    "source": ["aws.states"],
                    "detail-type": [STATUS_CHANGE],
                    "detail": {"stateMachineArn": [
                        self.config.state_machine_arn(params["workflow"])],
                        "status": list(params.get("statuses") or ["SUCCEEDED"])},
                }
                self._put_rule(name, workflow, node, "default", pattern, "detail")

    def deactivate(self, manifest: dict[str, Any]) -> None:
        workflow = manifest["workflow"]
        for trigger in manifest.get("triggers") or []:
            name = trigger_name(self.config, workflow, trigger["node"])
            if trigger["type"] == "scheduleTrigger":
                self._ignore_missing(self.scheduler.delete_schedule, Name=name,
                                     GroupName=self.config.schedule_group)
            elif trigger["type"] == "eventTrigger":
                self._delete_rule(name, trigger["parameters"].get("eventBus") or "default")
            elif trigger["type"] == "workflowTrigger":
                self._delete_rule(name, "default")

    def remove(self, manifest: dict[str, Any]) -> None:
        self.deactivate(manifest)

    # ------------------------------------------------------------------ schedules

    def _put_schedule(self, name: str, workflow: str, node: str,
                      params: dict[str, Any]) -> None:
        timezone = params.get("timezone") or "UTC"
        delivery = _delivery("schedule", workflow, node, timezone=timezone,
                             schedule="<aws.scheduler.schedule-arn>",
                             scheduledTime="<aws.scheduler.scheduled-time>")
        target = self._target({"Input": json.dumps(delivery)})
        if self.config.scheduler_role_arn:
            target["RoleArn"] = self.config.scheduler_role_arn
        request = {
            "Name": name,
            "GroupName": self.config.schedule_group,
            "ScheduleExpression": params["expression"],
            "ScheduleExpressionTimezone": timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": target,
            "State": "ENABLED",
            "Description": f"sfnflow: {workflow} / {node}"[:512],
        }
        try:
            self.scheduler.create_schedule(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
            self.scheduler.update_schedule(**request)

    # ------------------------------------------------------------------ rules

    def _target(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The trigger starter, retried for a day, then dead-lettered."""
        if not self.config.trigger_function_arn:
            raise ValueError("SFNFLOW_TRIGGER_FUNCTION_ARN is not set: schedules and rules "
                             "start workflows through the trigger starter")
        target = {"Arn": self.config.trigger_function_arn, **fields,
                  "RetryPolicy": dict(RETRY_POLICY)}
        if self.config.trigger_dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self.config.trigger_dlq_arn}
        return target

    def _put_rule(self, name: str, workflow: str, node: str, bus: str,
                  pattern: dict[str, Any], item: str) -> None:
        """A rule whose target gets the delivery: workflow, node, the rule's ARN and the
        whole event (its ``id`` names the execution); ``item`` says which part of the
        event is the workflow's item (``event`` or its ``detail``)."""
        self.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern),
                             State="ENABLED", Description=f"sfnflow: starts {workflow}")
        head = json.dumps(_delivery("event", workflow, node, item=item,
                                    rule="<aws.events.rule-arn>"))
        template = head[:-1] + ', "event": <aws.events.event.json>}'
        target = self._target({"Id": TARGET_ID, "InputTransformer": {
            "InputPathsMap": {}, "InputTemplate": template}})
        self.events.put_targets(Rule=name, EventBusName=bus, Targets=[target])

    def _delete_rule(self, name: str, bus: str) -> None:
        self._ignore_missing(self.events.remove_targets, Rule=name, EventBusName=bus,
                             Ids=[TARGET_ID])
        self._ignore_missing(self.events.delete_rule, Name=name, EventBusName=bus)

    @staticmethod
    def _ignore_missing(call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _MISSING:
                raise


class TriggerStarter:
    """What the trigger starter Lambda does with one delivery of a schedule or a rule.

    It starts through ``ExecutionService.start`` (named after the delivery, so idempotent),
    with the workflow's admission policy: a schedule or rule of a workflow with
    ``settings.maxConcurrency`` (or under the stage's limit) queues beyond the limit like
    any other start. A workflow with no registry record (deployed by the stack alone, or
    locally without the API) has no limit of its own."""

    def __init__(self, sfn: Any, config: Config, *,
                 executions: ExecutionService | None = None,
                 workflows: WorkflowRepository | None = None) -> None:
        self.sfn = sfn
        self.config = config
        self.executions = executions or ExecutionService(sfn, RunRepository(config))
        self.workflows = workflows or WorkflowRepository()

    def start(self, delivery: dict[str, Any]) -> str | None:
        """Start the delivery's workflow under the delivery's name; returns the name, or
        None when a previous delivery already started (or queued) it."""
        workflow, node = str(delivery["workflow"]), str(delivery["node"])
        if delivery["trigger"] == "schedule":
            scheduled = str(delivery["scheduledTime"])
            moment = datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
            name = scheduled_execution_name(str(delivery["schedule"]), moment)
            item: Any = {"scheduledAt": scheduled, "timezone": delivery.get("timezone") or "UTC"}
        else:
            event = delivery["event"]
            name = event_execution_name(str(delivery["rule"]), str(event["id"]))
            item = event.get("detail") if delivery.get("item") == "detail" else event
        if self.executions.repository.get_execution(name) is not None:
            return None  # a duplicate delivery (a racing one meets the conditional put)
        record = self.workflows.get(workflow)
        self.executions.start(
            workflow, self.config.state_machine_arn(workflow), [item], mode="trigger",
            name=name, envelope_extras={"triggeredBy": node},
            version=str(record.version) if record is not None else None,
            admission=policy_of(record.document if record is not None else None))
        return name
