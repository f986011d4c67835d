"""Completing executions whose status-change event never arrived.

EventBridge delivers Step Functions' status-change events best-effort, and a delivery that
fails every retry ends in a dead-letter queue, not in the run data: an execution could
stay RUNNING there forever and its error workflow never start. ``Reconciler.run`` (a
Lambda on an EventBridge schedule; locally ``LocalCloud.reconcile``) queries the RUNNING
executions started more than ``settle_seconds`` ago (the ``byStatus`` index, no Scan),
describes each, and completes those that ended through the very code the event handlers
run, with the event detail Step Functions would have sent (``status_change_detail``):
run data by ``ExecutionService.on_status_change``, failures through
``ErrorRouter.on_status_change``, whose error execution name is derived from the failed
execution — a late event and the reconciler together still start it once.

A record whose execution Step Functions does not know after the settle time (by the wall
clock) never started (the starter died between recording it and StartExecution): it is
recorded as FAILED.

Then admission's own pass (``Admission.reconcile``): the concurrency slot of an execution
that ended or vanished without its release is given back, an admission whose admitter died
before StartExecution is started (under its own name: at most once), and whatever waits
is admitted while slots are free — a lost release never wedges a queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.services.error_router import ROUTED_STATUSES, ErrorRouter
from functions.services.executions import ExecutionService, execution_arn_of
from functions.store.repository import Execution, RunRepository

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
PAGE_SIZE = 100
NOT_STARTED = "Sfnflow.ExecutionNotStarted"

__all__ = ["ReconcileResult", "Reconciler", "status_change_detail"]


def _millis(value: Any) -> Any:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


def status_change_detail(described: dict[str, Any], status: str | None = None) -> dict[str,
                                                                                     Any]:
    """The ``detail`` of the "Step Functions Execution Status Change" event, from a
    DescribeExecution result (as the execution was when it had ``status``: a RUNNING
    event has no stop date, output or error)."""
    status = status or described["status"]
    ended = status in TERMINAL
    return {
        "executionArn": described["executionArn"],
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": status,
        "startDate": _millis(described.get("startDate")),
        "stopDate": _millis(described.get("stopDate")) if ended else None,
        "input": described.get("input"),
        "output": described.get("output") if ended else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if ended else None,
        "error": described.get("error") if ended else None,
        "cause": described.get("cause") if ended else None,
        # as AWS's event carries them: which attempt of a redriven execution this is
        "redriveCount": int(described.get("redriveCount") or 0),
        "redriveDate": _millis(described.get("redriveDate")),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ReconcileResult:
    checked: int = 0
    completed: list[str] = field(default_factory=list)  # execution ids, with their status
    not_started: list[str] = field(default_factory=list)
    more: bool = False  # stopped by its budget before the last page
    # admission (functions.services.admission): slots given back, admissions started
    # again, queued executions admitted
    admission: dict[str, list[str]] = field(default_factory=dict)


class Reconciler:
    def __init__(self, sfn: Any, repository: RunRepository, executions: ExecutionService,
                 router: ErrorRouter, *, settle_seconds: int = 300,
                 max_checks: int = 500) -> None:
        self.sfn = sfn
        self.repository = repository
        self.executions = executions
        self.router = router
        self.settle_seconds = settle_seconds
        self.max_checks = max_checks

    def run(self, now: datetime, *, time_left: Callable[[], float] | None = None
            ) -> ReconcileResult:
        """Complete every ended execution still RUNNING in the run data that started
        before ``now - settle_seconds``, newest first, until ``max_checks`` descriptions
        or ``time_left()`` (seconds) runs low; the next run continues."""
        result = ReconcileResult()
        self._complete_lost_ends(now, result, time_left)
        # after the ends it completed (each released its slot): what is left is lost
        result.admission = self.executions.admission.reconcile(now, self.settle_seconds)
        return result

    def _complete_lost_ends(self, now: datetime, result: ReconcileResult,
                            time_left: Callable[[], float] | None) -> None:
        cutoff = _iso(now - timedelta(seconds=self.settle_seconds))
        cursor: str | None = None
        while True:
            page = self.repository.query_executions(status="RUNNING", started_to=cutoff,
                                                    limit=PAGE_SIZE, cursor=cursor)
            for execution in page.items:
                if result.checked >= self.max_checks or (
                        time_left is not None and time_left() < 5):
                    result.more = True
                    return
                result.checked += 1
                self._reconcile(execution, result)
            cursor = page.cursor
            if cursor is None:
                return

    def _reconcile(self, execution: Execution, result: ReconcileResult) -> None:
        arn = execution.execution_arn or execution_arn_of(
            self.repository.config.state_machine_arn(execution.workflow_id),
            execution.execution_id)
        try:
            described = self.sfn.describe_execution(executionArn=arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise
            real_cutoff = _iso(datetime.now(UTC) - timedelta(seconds=self.settle_seconds))
            if execution.started_at > real_cutoff:
                return  # judged by the wall clock, not the schedule's: it may be starting
            self.repository.record_execution_status(
                execution.execution_id, "FAILED", stopped_at=_iso(datetime.now(UTC)),
                error={"type": NOT_STARTED, "node": None,
                       "message": "Step Functions has no such execution: it never started"})
            result.not_started.append(execution.execution_id)
            return
        if described["status"] not in TERMINAL:
            return
        detail = status_change_detail(described)
        if detail["status"] in ROUTED_STATUSES:
            self.router.on_status_change(detail)  # records the status, then routes
        else:
            self.executions.on_status_change(detail)
        result.completed.append(execution.execution_id)

