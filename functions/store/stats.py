"""Per-workflow statistics in DynamoDB (``StatsModel``): the only code touching them.

One aggregate item per workflow and day (``bucket = "day#<YYYY-MM-DD>"``) holds counters:
executions by status, a duration histogram (``functions.services.duration_histogram``),
their total and maximum, and failures by node. Counting an execution is idempotent: one
transaction puts the execution's marker (``bucket = "counted#<executionId>"``, condition:
absent) and adds to the counters, so a second delivery of the same status change cancels
on the marker and adds nothing. The maximum is a conditional ``SET`` outside the
transaction, in the update that creates the day's item (raising it twice to the same value
changes nothing, and a smaller value must not fail the counting). An execution costs two
writes, the transaction's counting double (DynamoDB bills transactional writes twice), all
on its workflow's day item: one item takes up to 1,000 write units a second, so a workflow
ending more than ~300 executions a second would be throttled (retried by the SDK).

A marker expires after ``MARKER_DAYS``; a status change arriving later than that would be
counted again (EventBridge retries for 24 hours at most and the reconciler replays only
executions still recorded as running).

Reads are Queries by key: a workflow's days (``workflowId`` and a ``bucket`` range), and
every workflow's days through the sparse ``byMonth`` index, one Query per month touched.
Node names are map keys quoted (``urllib.parse.quote``) because a document path reads
``.`` and ``[n]`` as structure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import quote, unquote

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from functions.store.models import StatsModel

DAY_PREFIX = "day#"
MARKER_PREFIX = "counted#"
MARKER_DAYS = 400
_CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Counted:
    """What one ended execution adds to its workflow's day."""

    workflow_id: str
    day: date
    execution_id: str
    status: str
    duration_ms: int
    duration_bucket: int
    failed_nodes: frozenset[str] = frozenset()


@dataclass
class DayStats:
    """One workflow's aggregate of one day, as stored."""

    workflow_id: str
    day: date
    statuses: dict[str, int] = field(default_factory=dict)
    durations: dict[int, int] = field(default_factory=dict)  # bucket index -> executions
    total_ms: int = 0
    max_ms: int | None = None
    node_failures: dict[str, int] = field(default_factory=dict)


def _day_key(day: date) -> str:
    return DAY_PREFIX + day.isoformat()


class StatsStore:
    def count(self, counted: Counted, *, now: float | None = None) -> bool:
        """Add one ended execution to its day; False (nothing added) when it already was."""
        key = _day_key(counted.day)
        aggregate = StatsModel(counted.workflow_id, key)
        self._prepare(aggregate, counted)
        marker = StatsModel(
            counted.workflow_id, MARKER_PREFIX + counted.execution_id,
            countedAt=key,
            expiresAt=int((time.time() if now is None else now) + MARKER_DAYS * 86_400))
        one = 1
        actions = [
            StatsModel.statuses[counted.status].set(
                (StatsModel.statuses[counted.status] | 0) + one),
            StatsModel.durations[str(counted.duration_bucket)].set(
                (StatsModel.durations[str(counted.duration_bucket)] | 0) + one),
            StatsModel.totalMs.set((StatsModel.totalMs | 0) + counted.duration_ms),
        ]
        for node in sorted(counted.failed_nodes):
            path = StatsModel.nodeFailures[quote(node, safe="")]
            actions.append(path.set((path | 0) + one))
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(marker, condition=StatsModel.bucket.does_not_exist())
                transaction.update(aggregate, actions=actions)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == _CONDITION_FAILED:
                return False  # the marker is there: this execution was counted before
            raise
        return True

    @staticmethod
    def _prepare(aggregate: StatsModel, counted: Counted) -> None:
        """Raise the day's maximum and, on the day's first execution, create the item with
        its maps, so the transaction can add inside them (an update may not write into a map
        that does not exist yet). One conditional update: when the maximum is already as
        high the condition fails, and the maps exist, for the maximum is only ever written
        together with them. Idempotent."""
        day = counted.day.isoformat()
        try:
            aggregate.update(
                actions=[
                    StatsModel.maxMs.set(counted.duration_ms),
                    StatsModel.month.set(day[:7]),
                    StatsModel.dayWorkflow.set(f"{day}#{counted.workflow_id}"),
                    StatsModel.statuses.set(StatsModel.statuses | {}),
                    StatsModel.durations.set(StatsModel.durations | {}),
                    StatsModel.nodeFailures.set(StatsModel.nodeFailures | {}),
                ],
                condition=StatsModel.maxMs.does_not_exist()
                | (StatsModel.maxMs < counted.duration_ms))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def workflow_days(self, workflow_id: str, first: date, last: date) -> list[DayStats]:
        """The workflow's days from ``first`` to ``last`` (inclusive) that had executions."""
        return [_day_stats(item) for item in StatsModel.query(
            workflow_id, StatsModel.bucket.between(_day_key(first), _day_key(last)))]

    def all_days(self, first: date, last: date) -> Iterator[DayStats]:
        """Every workflow's days from ``first`` to ``last``, one Query per month touched."""
        for month in _months(first, last):
            yield from (_day_stats(item) for item in StatsModel.by_month.query(
                month, StatsModel.dayWorkflow.between(
                    f"{max(first.isoformat(), month)}#",
                    f"{min(last.isoformat(), month + '-31')}#\U0010ffff")))

    def is_counted(self, workflow_id: str, execution_id: str) -> bool:
        return StatsModel.count(workflow_id, StatsModel.bucket == MARKER_PREFIX + execution_id,
                                consistent_read=True) > 0


def _connection() -> Connection:
    """A connection to the endpoint the models are bound to (``bind_tables``), one per
    endpoint: a botocore client is slow to build."""
    return _connection_to(StatsModel.Meta.region, getattr(StatsModel.Meta, "host", None))


@cache
def _connection_to(region: str, host: str | None) -> Connection:
    return Connection(region=region, host=host)


def _months(first: date, last: date) -> Iterable[str]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _numbers(raw: Any) -> dict[str, int]:
    values = raw.as_dict() if hasattr(raw, "as_dict") else (raw or {})
    return {str(key): int(value) for key, value in values.items()}


def _day_stats(item: StatsModel) -> DayStats:
    return DayStats(
        workflow_id=item.workflowId,
        day=date.fromisoformat(item.bucket.removeprefix(DAY_PREFIX)),
        statuses=_numbers(item.statuses),
        durations={int(k): v for k, v in _numbers(item.durations).items()},
        total_ms=int(item.totalMs or 0),
        max_ms=int(item.maxMs) if item.maxMs is not None else None,
        node_failures={unquote(k): v for k, v in _numbers(item.nodeFailures).items()},
    )
