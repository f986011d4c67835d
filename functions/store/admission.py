"""Admission's state in DynamoDB: the only code touching ``AdmissionModel`` (and the
``admission`` attribute of an execution record).

Per workflow (the item collection ``scope = <workflow id>``; ``#stage`` for the stage-wide
limit):

* ``slots``: ``held`` executions of ``limit``. It changes only inside a transaction that
  also writes or deletes a lease, on condition ``held < limit``: that condition is the
  semaphore, and the lease is the proof of who holds a slot.
* ``lease#<execution id>``: one per execution holding a slot (``kind = lease``), so the
  reconciler can list every holder (the ``byAdmissionKind`` index) and give back the slot
  of one that ended without its release.
* ``queue#<rank>#<queued at>#<execution id>``: one per waiting execution (``kind =
  queued``). A Query of the collection returns them highest priority first, first come
  first served within a priority; the index returns the stage's waiting executions in the
  same order; a position is a ``Select=COUNT`` Query of the keys before one.

Admitting moves an execution from its queue item to a lease in ONE transaction (slots +1,
queue item deleted if it still exists, lease put if absent): of two admitters racing for
one queued execution (or an admitter and a cancel) exactly one wins, and no slot is taken
without a lease nor a lease left without its slot. Releasing deletes the lease and gives
the slot back in one transaction conditioned on the lease existing: a second release (a
repeated status-change event, the reconciler) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from functions.store.models import AdmissionModel, ExecutionModel

STAGE = "#stage"  # the scope of the stage-wide limit (workflow ids never start with "#")
SLOTS = "slots"
LEASE = "lease"
QUEUED = "queued"
RANKS = {"high": 0, "normal": 1, "low": 2}
PRIORITIES = tuple(RANKS)
_CONDITION_FAILED = "ConditionalCheckFailed"
_CONFLICT = "TransactionConflict"


@dataclass(frozen=True)
class Ticket:
    """A queued execution."""

    workflow_id: str
    execution_id: str
    priority: str
    queued_at: str  # ISO-8601, microseconds: FIFO order within a priority
    state_machine_arn: str

    @property
    def order(self) -> str:
        return f"{RANKS[self.priority]}#{self.queued_at}#{self.execution_id}"

    @property
    def entry(self) -> str:
        return f"queue#{self.order}"


@dataclass(frozen=True)
class Lease:
    workflow_id: str
    execution_id: str
    acquired_at: str
    workflow_slot: bool  # it holds a slot of its workflow's limit
    stage: bool  # it also holds a stage-wide slot


@dataclass(frozen=True)
class Slots:
    held: int
    limit: int | None


class Outcome:
    ADMITTED = "admitted"
    WORKFLOW_FULL = "workflowFull"
    STAGE_FULL = "stageFull"
    GONE = "gone"  # admitted or cancelled by someone else
    # another transaction on one of its items was in flight (DynamoDB cancels one of two
    # concurrent transactions touching an item, reason TransactionConflict): try again
    CONFLICT = "conflict"


class DynamoAdmissionStore:
    """Admission state on the admission table (``functions.store.models.AdmissionModel``)."""

    # ------------------------------------------------------------------ slots

    def set_limit(self, scope: str, limit: int) -> None:
        """Create the scope's counter or change its limit; what is held stays."""
        AdmissionModel(scope, SLOTS).update(actions=[
            AdmissionModel.limit.set(limit),
            AdmissionModel.held.set(AdmissionModel.held | 0),
        ])

    def slots(self, scope: str) -> Slots:
        try:
            model = AdmissionModel.get(scope, SLOTS, consistent_read=True)
        except DoesNotExist:
            return Slots(0, None)
        return Slots(int(model.held or 0),
                     int(model.limit) if model.limit is not None else None)

    # ------------------------------------------------------------------ queue

    def enqueue(self, ticket: Ticket) -> bool:
        """Queue the execution and mark its record admitted-under-a-limit, together;
        False when its record was marked before (a repeated start)."""
        item = AdmissionModel(
            ticket.workflow_id, ticket.entry, kind=QUEUED, order=ticket.order,
            executionId=ticket.execution_id, priority=ticket.priority,
            stateMachineArn=ticket.state_machine_arn, at=ticket.queued_at)
        marker = {"priority": ticket.priority, "entry": ticket.entry,
                  "queuedAt": ticket.queued_at}
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(item, condition=AdmissionModel.entry.does_not_exist())
                transaction.update(
                    ExecutionModel(ticket.execution_id),
                    actions=[ExecutionModel.admission.set(marker)],
                    condition=(ExecutionModel.status == "QUEUED")
                    & ExecutionModel.admission.does_not_exist(),
                    add_version_condition=False)
        except TransactWriteError as exc:
            if _failed(exc, 0) or _failed(exc, 1):
                return False
            raise
        return True

    def waiting(self, workflow_id: str, limit: int = 25) -> list[Ticket]:
        """The workflow's queued executions in admission order (the first ``limit``)."""
        return [_ticket(model) for model in AdmissionModel.query(
            workflow_id, AdmissionModel.entry.startswith("queue#"), limit=limit,
            consistent_read=True)]

    def waiting_in_stage(self, limit: int = 100) -> Iterator[Ticket]:
        """Every queued execution of the stage in admission order, lazily."""
        for model in AdmissionModel.by_kind.query(QUEUED, page_size=limit):
            yield _ticket(model)

    def position(self, ticket_entry: str, workflow_id: str) -> int:
        """1 for the next one admitted, 2 after it, ..."""
        ahead = AdmissionModel.count(
            workflow_id, AdmissionModel.entry.between("queue#", ticket_entry),
            consistent_read=True)
        return int(ahead)

    def remove(self, workflow_id: str, entry: str) -> bool:
        """Take a queued execution off the queue (cancel); False when it was not there
        (admitted or cancelled already)."""
        from pynamodb.exceptions import DeleteError

        try:
            AdmissionModel(workflow_id, entry).delete(
                condition=AdmissionModel.entry.exists())
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ------------------------------------------------------------------ leases

    def admit(self, ticket: Ticket, *, workflow_limited: bool, stage_limit: int | None,
              at: str) -> str:
        """Move ``ticket`` from the queue to a lease, taking a slot of its workflow (when
        limited) and of the stage (when ``stage_limit``); an ``Outcome``."""
        lease = AdmissionModel(
            ticket.workflow_id, f"{LEASE}#{ticket.execution_id}", kind=LEASE,
            order=f"{at}#{ticket.execution_id}", executionId=ticket.execution_id,
            priority=ticket.priority, stateMachineArn=ticket.state_machine_arn, at=at,
            stage=stage_limit is not None, held=1 if workflow_limited else 0)
        # pynamodb sends a transaction's deletes, then puts, then updates: the order of
        # the cancellation reasons, and of the outcomes they mean
        steps = [Outcome.GONE, Outcome.GONE]
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.delete(AdmissionModel(ticket.workflow_id, ticket.entry),
                                   condition=AdmissionModel.entry.exists())
                transaction.save(lease, condition=AdmissionModel.entry.does_not_exist())
                if workflow_limited:
                    steps.append(Outcome.WORKFLOW_FULL)
                    transaction.update(
                        AdmissionModel(ticket.workflow_id, SLOTS),
                        actions=[AdmissionModel.held.add(1)],
                        condition=AdmissionModel.held < AdmissionModel.limit)
                if stage_limit is not None:
                    steps.append(Outcome.STAGE_FULL)
                    transaction.update(
                        AdmissionModel(STAGE, SLOTS), actions=[AdmissionModel.held.add(1)],
                        condition=AdmissionModel.held < stage_limit)
        except TransactWriteError as exc:
            for index, outcome in enumerate(steps):
                if _failed(exc, index):
                    return outcome
            if any(reason is not None and reason.code == _CONFLICT
                   for reason in exc.cancellation_reasons or []):
                return Outcome.CONFLICT
            raise
        return Outcome.ADMITTED

    def lease(self, workflow_id: str, execution_id: str) -> Lease | None:
        try:
            model = AdmissionModel.get(workflow_id, f"{LEASE}#{execution_id}",
                                       consistent_read=True)
        except DoesNotExist:
            return None
        return _lease(model)

    def release(self, lease: Lease) -> bool:
        """Give the lease's slots back; False when it was released before."""
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.delete(
                    AdmissionModel(lease.workflow_id, f"{LEASE}#{lease.execution_id}"),
                    condition=AdmissionModel.entry.exists())
                if lease.workflow_slot:
                    transaction.update(AdmissionModel(lease.workflow_id, SLOTS),
                                       actions=[AdmissionModel.held.add(-1)],
                                       condition=AdmissionModel.held > 0)
                if lease.stage:
                    transaction.update(AdmissionModel(STAGE, SLOTS),
                                       actions=[AdmissionModel.held.add(-1)],
                                       condition=AdmissionModel.held > 0)
        except TransactWriteError as exc:
            if _failed(exc, 0):
                return False
            if not any(_failed(exc, index) for index in (1, 2)):
                raise
            # a counter already at 0 (set by hand, or a table restored): drop the lease
            AdmissionModel(lease.workflow_id, f"{LEASE}#{lease.execution_id}").delete()
        return True

    def leases(self) -> Iterator[Lease]:
        """Every lease of the stage, oldest first."""
        for model in AdmissionModel.by_kind.query(LEASE):
            yield _lease(model)

    # ------------------------------------------------------------------ execution records

    def marker(self, execution_id: str) -> dict[str, Any] | None:
        """The execution's admission marker (None: it was never admitted under a limit,
        or its record is gone)."""
        try:
            model = ExecutionModel.get(execution_id, consistent_read=True)
        except DoesNotExist:
            return None
        return dict(model.admission) if isinstance(model.admission, dict) else None

    def mark_started(self, execution_id: str, execution_arn: str, at: str,
                     marker: dict[str, Any]) -> bool:
        """QUEUED -> RUNNING once Step Functions runs it; False when the record is no
        longer QUEUED (cancelled meanwhile, or marked by a concurrent admitter)."""
        try:
            ExecutionModel(execution_id).update(
                actions=[ExecutionModel.status.set("RUNNING"),
                         ExecutionModel.startedAt.set(at),
                         ExecutionModel.executionArn.set(execution_arn),
                         ExecutionModel.admission.set(marker | {"admittedAt": at})],
                condition=ExecutionModel.status == "QUEUED", add_version_condition=False)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _failed(exc: TransactWriteError, index: int) -> bool:
    reasons = exc.cancellation_reasons or []
    return (index < len(reasons) and reasons[index] is not None
            and reasons[index].code == _CONDITION_FAILED)


def _ticket(model: AdmissionModel) -> Ticket:
    return Ticket(str(model.scope), str(model.executionId), str(model.priority),
                  str(model.at), str(model.stateMachineArn))


def _lease(model: AdmissionModel) -> Lease:
    return Lease(str(model.scope), str(model.executionId), str(model.at),
                 bool(model.held), bool(model.stage))


def _connection() -> Connection:
    """A connection to the endpoint the models are bound to (``bind_tables``)."""
    return _connection_to(AdmissionModel.Meta.region, getattr(AdmissionModel.Meta, "host", None))


@cache
def _connection_to(region: str, host: str | None) -> Connection:
    return Connection(region=region, host=host)
