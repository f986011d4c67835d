"""Admission: priorities and concurrency limits in front of StartExecution.

A workflow with ``settings.maxConcurrency`` (or any workflow, when the stage has
``Config.global_concurrency``) does not start when asked: ``ExecutionService.start``
records it ``QUEUED`` and hands it here. ``submit`` queues it and ``pump`` admits what the
free slots allow, highest ``priority`` first (``settings.priority``, overridable per start),
first come first served within a priority. An admitted execution holds a lease until it
ends: the status-change handler (``on_finished``) releases it and pumps the queue again,
and the reconciler (``reconcile``) releases the leases of executions that ended or vanished
without it and admits what still waits, so a lost release never wedges a queue.

Where the queue lives, and why not SQS. The issue suggests an SQS queue per priority and a
DynamoDB semaphore. The queue here is DynamoDB too (``functions.store.admission``): queued
items keyed ``<rank>#<queued at>#<id>`` in the workflow's item collection, and a sparse index
in the same order for the stage. What that buys:

* admitting is ONE transaction (take the slot, delete the queue item, put the lease):
  an execution is never admitted twice nor lost between a queue and a semaphore, which two
  services cannot promise (an SQS receive, then a DynamoDB write, then a delete);
* ``QUEUED`` with its ``position``, cancelling one queued execution, the depth per
  workflow and priority and the oldest waiting are Queries; SQS has no position, no delete
  of an arbitrary message and only approximate depths;
* priorities are one sort order; per-priority SQS queues are polled high to low and a
  FIFO queue's message groups block behind an unadmittable head.

Nothing polls: admission happens in the calls that change the state (a start, an end)
and in the reconciler's schedule, all existing AWS-driven invocations; no scheduler thread.

Never twice, never dropped: the execution is named with its id, so a repeated StartExecution
(a reconciler re-starting an admission whose admitter died) meets
``ExecutionAlreadyExists`` and starts nothing new. Sub-workflows that Step Functions starts
itself (``startExecution.sync``) are not admitted: their parent holds the slot.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions import metrics
from functions.errors import SfnflowError
from functions.services import execution_metrics
from functions.store.admission import (
    PRIORITIES,
    STAGE,
    DynamoAdmissionStore,
    Outcome,
    Ticket,
)
from functions.store.repository import TERMINAL, Execution, RunRepository

logger = logging.getLogger(__name__)

PRIORITY_HEADER = "X-Priority"
DEFAULT_PRIORITY = "normal"
# A workflow without maxConcurrency under a stage-wide limit: its counter never fills.
UNLIMITED = 2**31 - 1
QUEUED = "QUEUED"
CANCELLED = "Sfnflow.Cancelled"
BATCH = 25  # queued executions read per Query while admitting
STAGE_SCAN = 200  # queued executions of the stage one stage-wide pump looks at, at most
CONFLICT_RETRIES = 4


class InvalidPriority(SfnflowError, ValueError):
    """A priority other than high, normal or low (400)."""


def parse_priority(value: str | None) -> str | None:
    """A per-start priority (``X-Priority`` header or ``priority`` in the body)."""
    if value is None or value == "":
        return None
    priority = value.strip().lower()
    if priority not in PRIORITIES:
        raise InvalidPriority(f"priority {value!r}: use one of {', '.join(PRIORITIES)}")
    return priority


@dataclass(frozen=True)
class Policy:
    """How one start is admitted: its workflow's limit and this start's priority."""

    limit: int | None = None  # settings.maxConcurrency
    priority: str = DEFAULT_PRIORITY


def policy_of(document: Mapping[str, Any] | None, priority: str | None = None) -> Policy:
    """The workflow's settings, ``priority`` (validated) overriding its own."""
    settings = (document or {}).get("settings") or {}
    limit = settings.get("maxConcurrency")
    return Policy(limit=int(limit) if isinstance(limit, int) else None,
                  priority=parse_priority(priority) or parse_priority(
                      settings.get("priority")) or DEFAULT_PRIORITY)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Admission:
    def __init__(self, sfn: Any, repository: RunRepository,
                 store: DynamoAdmissionStore | None = None) -> None:
        self.sfn = sfn
        self.repository = repository
        self.store = store or DynamoAdmissionStore()

    @property
    def stage_limit(self) -> int | None:
        return self.repository.config.global_concurrency

    def applies(self, policy: Policy | None) -> bool:
        return (policy is not None and policy.limit is not None) or \
            self.stage_limit is not None

    # ------------------------------------------------------------------ start

    def submit(self, execution: Execution, state_machine_arn: str,
               policy: Policy | None) -> Execution:
        """Queue a recorded ``QUEUED`` execution, then admit what the slots allow (maybe
        this one); returns the record as it is now (RUNNING or QUEUED)."""
        policy = policy or Policy()
        self.store.set_limit(execution.workflow_id, policy.limit or UNLIMITED)
        if self.stage_limit is not None:
            self.store.set_limit(STAGE, self.stage_limit)
        self.store.enqueue(Ticket(execution.workflow_id, execution.execution_id,
                                  policy.priority, _now(), state_machine_arn))
        self._pump_after_change(execution.workflow_id)
        return self.repository.get_execution(execution.execution_id) or execution

    def pump(self, workflow_id: str) -> list[str]:
        """Admit the workflow's queued executions while its slots (and the stage's) allow."""
        admitted: list[str] = []
        gone: set[str] = set()  # taken by someone else while we read
        while True:
            tickets = [t for t in self.store.waiting(workflow_id, BATCH) if t.entry not in gone]
            if not tickets:
                return admitted
            for ticket in tickets:
                outcome = self._admit(ticket)
                if outcome == Outcome.ADMITTED:
                    admitted.append(ticket.execution_id)
                elif outcome == Outcome.GONE:
                    gone.add(ticket.entry)
                else:
                    return admitted  # full

    def pump_stage(self) -> list[str]:
        """Under the stage-wide limit: admit the stage's queued executions in priority
        order, skipping those whose own workflow is full, until the stage is full."""
        admitted: list[str] = []
        for seen, ticket in enumerate(self.store.waiting_in_stage()):
            if seen >= STAGE_SCAN:
                break
            outcome = self._admit(ticket)
            if outcome == Outcome.ADMITTED:
                admitted.append(ticket.execution_id)
            elif outcome == Outcome.STAGE_FULL:
                break
        return admitted

    def _admit(self, ticket: Ticket) -> str:
        """One admission attempt, retried a few times with jitter while a concurrent
        transaction holds one of its items; still conflicting, it counts as full (the next
        end or the reconciler admits it)."""
        for attempt in range(CONFLICT_RETRIES):
            outcome = self.store.admit(ticket, workflow_limited=True,
                                       stage_limit=self.stage_limit, at=_now())
            if outcome != Outcome.CONFLICT:
                break
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311 - jitter
        else:
            return Outcome.WORKFLOW_FULL
        if outcome == Outcome.ADMITTED:
            self._start(ticket)
        return outcome

    def _start(self, ticket: Ticket) -> None:
        """Start an admitted execution under its own id (idempotent: a second start of the
        same name meets ExecutionAlreadyExists)."""
        record = self.repository.get_execution(ticket.execution_id)
        if record is None or record.status != QUEUED:
            if record is None or record.status in TERMINAL:  # cancelled meanwhile
                self._release(ticket.workflow_id, ticket.execution_id)
            return
        try:
            response = self.sfn.start_execution(
                stateMachineArn=ticket.state_machine_arn, name=ticket.execution_id,
                input=json.dumps(record.input))
            arn = str(response["executionArn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                self._start_failed(ticket, exc)
                return
            from functions.services.executions import execution_arn_of

            arn = execution_arn_of(ticket.state_machine_arn, ticket.execution_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the execution, slot given back
            self._start_failed(ticket, exc)
            return
        now = _now()
        marker = {"priority": ticket.priority, "entry": ticket.entry,
                  "queuedAt": ticket.queued_at}
        if self.store.mark_started(ticket.execution_id, arn, now, marker):
            waited = (_parse(now) - _parse(ticket.queued_at)).total_seconds()
            metrics.record("QueueWaits", max(waited, 0.0), workflow=ticket.workflow_id)
            execution_metrics.started(ticket.workflow_id)
            return
        again = self.repository.get_execution(ticket.execution_id)
        if again is not None and again.status in TERMINAL:  # cancelled while starting
            self.sfn.stop_execution(executionArn=arn, error=CANCELLED,
                                    cause="cancelled while it was being admitted")

    def _start_failed(self, ticket: Ticket, exc: BaseException) -> None:
        logger.warning("admitted execution %s failed to start: %s", ticket.execution_id, exc)
        self.repository.record_execution_status(
            ticket.execution_id, "FAILED", stopped_at=_now(),
            error={"type": "Sfnflow.StartFailed", "message": str(exc), "node": None})
        self._release(ticket.workflow_id, ticket.execution_id)

    # ------------------------------------------------------------------ end

    def on_finished(self, execution_id: str, workflow_id: str | None) -> bool:
        """An execution ended: give its slot back (once) and admit the next; False when it
        held none. Costs one GetItem of its record for an execution never admitted."""
        if workflow_id is None or self.store.marker(execution_id) is None:
            return False
        released = self._release(workflow_id, execution_id)
        self._pump_after_change(workflow_id)
        return released

    def _pump_after_change(self, workflow_id: str) -> None:
        """Under the stage-wide limit the stage's order comes first (a free slot goes to
        the highest priority of any workflow); the workflow's own queue then, read
        consistently, catches what the index did not show yet."""
        if self.stage_limit is not None:
            self.pump_stage()
        self.pump(workflow_id)

    def _release(self, workflow_id: str, execution_id: str) -> bool:
        lease = self.store.lease(workflow_id, execution_id)
        return lease is not None and self.store.release(lease)

    # ------------------------------------------------------------------ queued executions

    def cancel(self, execution: Execution) -> bool:
        """Take a QUEUED execution off its queue and record it ABORTED (``Sfnflow.Cancelled``);
        False when it was admitted meanwhile (the caller stops it as a running one)."""
        marker = self.store.marker(execution.execution_id)
        if marker is None or not self.store.remove(execution.workflow_id, marker["entry"]):
            return False
        self.repository.record_execution_status(
            execution.execution_id, "ABORTED", stopped_at=_now(),
            error={"type": CANCELLED, "message": "cancelled while queued", "node": None})
        return True

    def position(self, execution: Execution) -> int | None:
        """1 for the next of its workflow admitted (0: being admitted right now, by a
        concurrent start or end); None when it is not queued."""
        if execution.status != QUEUED:
            return None
        marker = self.store.marker(execution.execution_id)
        if marker is None:
            return None
        return self.store.position(marker["entry"], execution.workflow_id)

    def overview(self, now: datetime | None = None) -> dict[str, Any]:
        """``GET /admin/queue``: depth per priority and workflow, the oldest waiting,
        running per workflow, the limits."""
        now = now or datetime.now(UTC)
        by_workflow: dict[str, Counter[str]] = defaultdict(Counter)
        oldest: Ticket | None = None
        for ticket in self.store.waiting_in_stage():
            by_workflow[ticket.workflow_id][ticket.priority] += 1
            if oldest is None or ticket.queued_at < oldest.queued_at:
                oldest = ticket
        running = Counter(lease.workflow_id for lease in self.store.leases())
        limits = {}
        for workflow_id in sorted(set(by_workflow) | set(running)):
            limit = self.store.slots(workflow_id).limit
            limits[workflow_id] = None if limit in (None, UNLIMITED) else limit
        by_priority = Counter[str]()
        for counts in by_workflow.values():
            by_priority.update(counts)
        return {
            "queued": sum(by_priority.values()),
            "byPriority": {p: by_priority.get(p, 0) for p in PRIORITIES},
            "byWorkflow": {wf: {p: counts.get(p, 0) for p in PRIORITIES}
                           for wf, counts in sorted(by_workflow.items())},
            "oldestWaiting": None if oldest is None else {
                "executionId": oldest.execution_id, "workflowId": oldest.workflow_id,
                "priority": oldest.priority, "queuedAt": oldest.queued_at,
                "ageSeconds": round((now - _parse(oldest.queued_at)).total_seconds(), 3)},
            "running": dict(sorted(running.items())),
            "limits": {"stage": self.stage_limit, "workflows": limits},
        }

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, now: datetime, settle_seconds: float) -> dict[str, list[str]]:
        """Release the leases of executions that ended or vanished, start the admitted
        ones whose admitter died before StartExecution (older than ``settle_seconds``),
        and admit whatever waits while slots are free."""
        released: list[str] = []
        restarted: list[str] = []
        if not self.repository.query_executions(status=QUEUED, limit=1).items:
            # nobody waits, so no slot can be wedging anyone: the next pass after a start
            # queues finds any lost slot (and a stage that never queues never reads here)
            return {"released": released, "restarted": restarted, "admitted": []}
        cutoff = (now - timedelta(seconds=settle_seconds)).isoformat()
        for lease in list(self.store.leases()):
            record = self.repository.get_execution(lease.execution_id)
            if record is None or record.status in TERMINAL:
                if self.store.release(lease):
                    released.append(lease.execution_id)
            elif record.status == QUEUED and _parse(lease.acquired_at).isoformat() < cutoff:
                marker = self.store.marker(lease.execution_id) or {}
                arn = self.repository.config.state_machine_arn(lease.workflow_id)
                self._start(Ticket(lease.workflow_id, lease.execution_id,
                                   str(marker.get("priority") or DEFAULT_PRIORITY),
                                   str(marker.get("queuedAt") or lease.acquired_at), arn))
                restarted.append(lease.execution_id)
        admitted: list[str] = []
        waiting = {ticket.workflow_id for ticket in self.store.waiting_in_stage()}
        for workflow_id in sorted(waiting):
            admitted += self.pump(workflow_id)
        if self.stage_limit is not None:
            admitted += self.pump_stage()
        return {"released": released, "restarted": restarted, "admitted": admitted}
