"""Deleting old run data on demand: what DynamoDB TTL does in AWS, for the local runtime
(moto never expires TTL items) and for "older than N days" clean-ups.

* **Executions** are found through the ``byStartedAt`` index (a Query, no Scan): those whose
  ``expiresAt`` has passed, or — with ``older_than_days`` — that started before the cutoff.
  Running executions are kept. Each goes with its node runs, their S3 payloads and its
  progress events.
* **Every other table with an ``expiresAt``** (node cache, merge quorums, waits, ...) is
  scanned for expired items. That is a maintenance pass, never a request path; where the
  caller may not Scan (the API role in AWS, where TTL does this anyway) the table is
  reported as skipped.

Pins, workflows and their versions have no ``expiresAt``: they are authored data, kept.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from functions.store import models
from functions.store.models import ExecutionModel, NodeRunModel, ProgressEventModel

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_DENIED = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")
_CASCADED: tuple[type[Model], ...] = (ExecutionModel, NodeRunModel, ProgressEventModel)


def _iso(epoch: float) -> str:
    """The ISO time of ``epoch``; past the calendar's range (year 1 to 9999) a string that
    sorts before (or after) every ISO time, so a cutoff of "a million years ago" selects
    nothing instead of overflowing."""
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds") \
            .replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return "0000" if epoch < 0 else "9999"


def _expiring_models() -> list[type[Model]]:
    """Tables with a TTL attribute other than the execution tables (read at call time, so
    a model appended to ``ALL_MODELS`` later is pruned too)."""
    return [model for model in models.ALL_MODELS
            if "expiresAt" in model.get_attributes() and model not in _CASCADED]


class RetentionStore:
    def __init__(self, s3_client: Any = None) -> None:
        self.s3 = s3_client

    def prune(self, *, older_than_days: float | None = None,
              now: float | None = None) -> dict[str, Any]:
        """Delete expired (and, with ``older_than_days``, older) run data; the counts."""
        now = time.time() if now is None else now
        cutoff = _iso(now - older_than_days * 86_400) if older_than_days is not None else None
        deleted: Counter[str] = Counter()
        for execution in ExecutionModel.by_started_at.query("execution"):
            expired = execution.expiresAt is not None and execution.expiresAt <= now
            old = cutoff is not None and execution.startedAt < cutoff
            if (expired or old) and execution.status in TERMINAL:
                self._delete_execution(execution, deleted)
        skipped: list[str] = []
        for model in _expiring_models():
            name = models.TABLE_SUFFIXES[model]
            try:
                count = self._delete_expired(model, now)
            except PynamoDBException as exc:
                if exc.cause_response_code not in _DENIED:
                    raise
                skipped.append(name)
                continue
            if count:
                deleted[name] += count
        return {"deleted": dict(deleted), "skipped": skipped,
                "olderThanDays": older_than_days, "before": cutoff or _iso(now)}

    def _delete_execution(self, execution: ExecutionModel, deleted: Counter[str]) -> None:
        execution_id = execution.executionId
        with NodeRunModel.batch_write() as batch:
            for run in NodeRunModel.query(execution_id):
                if run.outputRef and self.s3 is not None:
                    bucket, _, key = run.outputRef.removeprefix("s3://").partition("/")
                    self.s3.delete_object(Bucket=bucket, Key=key)
                    deleted["payloads"] += 1
                batch.delete(run)
                deleted["node-runs"] += 1
        with ProgressEventModel.batch_write() as events:
            for event in ProgressEventModel.query(execution_id):
                events.delete(event)
                deleted["progress"] += 1
        execution.delete(add_version_condition=False)
        deleted["executions"] += 1

    @staticmethod
    def _delete_expired(model: type[Model], now: float) -> int:
        expires_at: Any = model.get_attributes()["expiresAt"]
        count = 0
        with model.batch_write() as batch:
            for item in model.scan(expires_at <= int(now)):
                batch.delete(item)
                count += 1
        return count
