"""Schedules and event rules for a workflow's trigger nodes, from its compiled manifest.

``TriggerRules(events, scheduler, config)`` — boto3 ``events`` and ``scheduler`` clients
passed in — has three calls, each taking the manifest (``manifest["workflow"]`` and
``manifest["triggers"]``, see ``compiler.triggers``) and each idempotent:

- ``activate(manifest)`` creates or updates, per trigger node:
  - ``scheduleTrigger``: an EventBridge Scheduler schedule in ``Config.schedule_group``
    targeting the state machine (role ``Config.scheduler_role_arn``), input
    ``{"items": [{"scheduledAt": "<aws.scheduler.scheduled-time>", "timezone"}],
    "triggeredBy": <node>, "mode": "trigger"}``;
  - ``eventTrigger``: a rule with the node's pattern on its bus, targeting the state
    machine (role ``Config.events_role_arn``) with an input transformer giving
    ``{"items": [<the whole event>], "triggeredBy": <node>, "mode": "trigger"}``;
  - ``workflowTrigger``: a rule on the default bus matching the named workflow's
    "Step Functions Execution Status Change" events with the node's statuses; the item
    is that event's ``detail`` (executionArn, name, status, input, output, error, ...).
- ``deactivate(manifest)`` deletes them (a missing one is fine): nothing fires while a
  workflow is inactive, and a later ``activate`` with a newer manifest leaves no orphans.
- ``remove(manifest)`` is ``deactivate`` (for a deleted workflow).

Names: ``<Config.state_machine_prefix><workflow>-<8 hex of SHA-256(workflow, node)>``,
at most 64 characters, so the stack's IAM policies (by prefix) cover them. The event
input uses ``<aws.events.event.json>``: EventBridge's ``<aws.events.event>`` leaves
``detail`` out. Workflow triggers can form cycles across workflows (A starts B starts
A); only a workflow triggering itself is rejected, at compile time.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from functions.config import Config

STATUS_CHANGE = "Step Functions Execution Status Change"
TARGET_ID = "workflow"
_MISSING = ("ResourceNotFoundException",)

__all__ = ["TriggerRules", "trigger_name"]


def trigger_name(config: Config, workflow: str, node: str) -> str:
    digest = hashlib.sha256(f"{workflow}\x00{node}".encode()).hexdigest()[:8]
    return f"{config.state_machine_prefix}{workflow}"[:55] + "-" + digest


def _envelope(node: str, items_json: str) -> str:
    """The execution input template: items (JSON text, may hold placeholders) + envelope."""
    return ('{"items": [' + items_json + '], "triggeredBy": ' + json.dumps(node)
            + ', "mode": "trigger"}')


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
                self._put_rule(name, workflow, params.get("eventBus") or "default",
                               params["pattern"], _envelope(node, "<aws.events.event.json>"))
            elif kind == "workflowTrigger":
                pattern = {
                    "source": ["aws.states"],
                    "detail-type": [STATUS_CHANGE],
                    "detail": {"stateMachineArn": [
                        self.config.state_machine_arn(params["workflow"])],
                        "status": list(params.get("statuses") or ["SUCCEEDED"])},
                }
                self._put_rule(name, workflow, "default", pattern, _envelope(node, "<detail>"),
                               {"detail": "$.detail"})

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
        item = json.dumps({"scheduledAt": "<aws.scheduler.scheduled-time>",
                           "timezone": timezone})
        target: dict[str, Any] = {"Arn": self.config.state_machine_arn(workflow),
                                  "Input": _envelope(node, item)}
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

    def _put_rule(self, name: str, workflow: str, bus: str, pattern: dict[str, Any],
                  template: str, paths: dict[str, str] | None = None) -> None:
        self.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern),
                             State="ENABLED", Description=f"sfnflow: starts {workflow}")
        target: dict[str, Any] = {
            "Id": TARGET_ID,
            "Arn": self.config.state_machine_arn(workflow),
            "InputTransformer": {"InputPathsMap": paths or {}, "InputTemplate": template},
        }
        if self.config.events_role_arn:
            target["RoleArn"] = self.config.events_role_arn
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
