"""The "Step Functions Execution Status Change" events moto never emits.

In AWS, Step Functions publishes an event on the account's default bus whenever an
execution starts (RUNNING) and when it ends (SUCCEEDED, FAILED, TIMED_OUT, ABORTED);
sfnflow's rules (run data, error router, workflow triggers) listen for them. Locally,
``StatusChangeEmitter`` watches moto's executions and publishes the same events with
``events.put_events``, so the same rules deliver them (``moto_patches`` makes rules deliver
to Lambda handlers and state machines).

Each (execution, status) is emitted exactly once: RUNNING when the execution is first
seen (also when it is first seen already ended), then its final status. Under ``sfnflow
serve`` moto announces each execution that starts or ends (``changed``), and
``emit_changed`` describes only those; ``poll_once`` lists every execution, the fallback.
``emit`` is safe to call from ``LocalCloud.wait`` and the background thread at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.services.reconciler import status_change_detail
from local.periodic import Periodic

SOURCE = "aws.states"
DETAIL_TYPE = "Step Functions Execution Status Change"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
__all__ = ["StatusChangeEmitter", "status_change_detail", "status_change_entry"]

logger = logging.getLogger("sfnflow.local.events")


def status_change_entry(described: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """A ``put_events`` entry for the event Step Functions would publish."""
    detail = status_change_detail(described, status)
    moment = described.get("stopDate") if detail["status"] in TERMINAL else None
    moment = moment or described.get("startDate") or datetime.now(UTC)
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "Resources": [described["executionArn"]],
        "Time": moment,
    }


def _depth(described: dict[str, Any]) -> int:
    try:
        envelope = json.loads(described.get("input") or "{}")
    except ValueError:
        return 0
    parent = envelope.get("parent") if isinstance(envelope, dict) else None
    depth = parent.get("depth") if isinstance(parent, dict) else None
    return depth if isinstance(depth, int) else 0


class StatusChangeEmitter:
    """Publishes status-change events for moto's executions, each exactly once.

    ``machines`` lists the state machine ARNs to watch (default: every state machine)."""

    def __init__(self, sfn: Any, events: Any, *, poll_seconds: float = 0.05,
                 machines: Callable[[], list[str]] | None = None) -> None:
        self.sfn = sfn
        self.events = events
        self.poll_seconds = poll_seconds
        self._machines = machines
        self._lock = threading.Lock()
        self._emitted: set[tuple[str, int, str]] = set()
        self._changed: set[str] = set()  # executions announced since ``emit_changed``
        self._ticker = Periodic(self.poll_once, poll_seconds, "sfnflow-status-events",
                                at_once=True)

    # ------------------------------------------------------------------ emitting

    def _claim(self, key: tuple[str, int, str]) -> bool:
        with self._lock:
            if key in self._emitted:
                return False
            self._emitted.add(key)
            return True

    def emitted(self, execution_arn: str, status: str, redrive_count: int = 0) -> bool:
        with self._lock:
            return (execution_arn, redrive_count, status) in self._emitted

    def emit(self, described: dict[str, Any]) -> int:
        """Publish what has not been published for this execution yet: RUNNING, then its
        final status when it has ended. Returns how many events were published."""
        arn = described["executionArn"]
        attempt = int(described.get("redriveCount") or 0)  # a redrive announces again
        statuses = ["RUNNING"] + ([described["status"]] if described["status"] in TERMINAL
                                  else [])
        published = 0
        for status in statuses:
            key = (arn, attempt, status)
            if not self._claim(key):
                continue
            try:
                response = self.events.put_events(
                    Entries=[status_change_entry(described, status)])
            except Exception:
                with self._lock:
                    self._emitted.discard(key)
                raise
            if response.get("FailedEntryCount"):
                logger.warning("status-change event for %s not accepted: %s", arn,
                               response.get("Entries"))
            published += 1
        return published

    # ------------------------------------------------------------------ announced changes

    def changed(self, execution_arn: str) -> None:
        """Note that an execution started or ended (``moto_patches.on_execution_change``);
        ``emit_changed`` publishes its events. Cheap, and safe from any thread."""
        if "/" not in execution_arn:  # a Distributed Map child: its parent's events count
            with self._lock:
                self._changed.add(execution_arn)

    def emit_changed(self) -> int:
        """Publish the events of the executions announced since the last call, ended ones
        deepest sub-workflow first; with none announced (the fallback interval, or a
        ``machines`` filter), poll every execution (``poll_once``). Describing only the
        executions that changed keeps a burst of starts linear: polling listed every
        execution of every machine again at each change (500 starts: 250,000 listings).
        Returns how many events were published."""
        with self._lock:
            changed, self._changed = self._changed, set()
        if not changed or self._machines is not None:
            return self.poll_once()
        ended: list[dict[str, Any]] = []
        published = 0
        for arn in sorted(changed):
            try:
                described = self.sfn.describe_execution(executionArn=arn)
            except self.sfn.exceptions.ExecutionDoesNotExist:
                continue
            if described["status"] not in TERMINAL:
                published += self.emit(described)
            elif not self.emitted(arn, described["status"]):
                ended.append(described)
        ended.sort(key=lambda described: (-_depth(described), described["startDate"]))
        for described in ended:
            published += self.emit(described)
        return published

    # ------------------------------------------------------------------ polling

    def _machine_arns(self) -> list[str]:
        if self._machines is not None:
            return self._machines()
        arns: list[str] = []
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            arns.extend(machine["stateMachineArn"] for machine in page["stateMachines"])
        return arns

    def poll_once(self) -> int:
        """Publish the events of every execution that changed since the last poll; ended
        executions deepest sub-workflow first (a parent's event after its children's).
        Returns how many events were published."""
        ended: list[dict[str, Any]] = []
        published = 0
        for machine in self._machine_arns():
            try:
                pages = list(self.sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine))
            except self.sfn.exceptions.StateMachineDoesNotExist:
                continue
            for page in pages:
                for listed in page["executions"]:
                    arn, status = listed["executionArn"], listed["status"]
                    if status in TERMINAL:
                        if not self.emitted(arn, status):
                            ended.append(self.sfn.describe_execution(executionArn=arn))
                    elif not self.emitted(arn, "RUNNING"):
                        published += self.emit(self.sfn.describe_execution(executionArn=arn))
        ended.sort(key=lambda described: (-_depth(described), described["startDate"]))
        for described in ended:
            published += self.emit(described)
        return published

    # ------------------------------------------------------------------ thread

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()


