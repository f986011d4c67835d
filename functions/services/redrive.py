"""Step Functions' own redrive: continue a failed Standard execution from the state that
failed, under the same execution ARN, with the same input (``RedriveExecution``).

AWS's rules, checked here first so the answer names the reason (AWS checks them again):

- the execution ended FAILED, TIMED_OUT or ABORTED (not RUNNING, not SUCCEEDED);
- it ended less than 14 days ago (the redrivable period), and it has been open less than
  a year (an execution's maximum duration, redrives included);
- its machine is Standard: Express executions cannot be redriven;
- it is not a Distributed Map's child (``<machine>/<map run>`` in its ARN): redrive its
  parent, which redrives the failed Map Run with it;
- AWS's own verdict, ``redriveStatus: NOT_REDRIVABLE`` with its ``redriveStatusReason``
  (history over 25,000 events, machine being deleted, ...), wins when it is given.

Successful states are not run again; inside Parallel and inline Map only the failed
branches and iterations are. A second redrive of the same failure is idempotent: the
client token names (execution, redrive count), so a repeated request is answered as the
first, and once the execution runs again AWS refuses another (ExecutionNotRedrivable).

Compare ``ExecutionControl.retry``: a new execution (new id) that reuses the successful
node runs' outputs from the run data, for any workflow, Express included, and with the
workflow's current version.

The embedded cloud implements RedriveExecution in ``local/moto_redrive.py``, as a subset:
it reruns the failed top-level state whole (a Parallel's or inline Map's branches and
iterations that succeeded run again).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import SfnflowError

REDRIVABLE_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
REDRIVABLE_PERIOD = timedelta(days=14)
MAX_OPEN = timedelta(days=365)

__all__ = ["ExecutionNotRedrivable", "ExecutionRedrive", "redrive_refusal"]


class RedriveError(SfnflowError):
    """Root of the redrive errors."""


class ExecutionNotRedrivable(RedriveError):
    """The execution breaks one of AWS's redrive rules (the message says which)."""


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def redrive_refusal(described: dict[str, Any], machine_type: str,
                    now: datetime) -> str | None:
    """Why ``DescribeExecution``'s answer may not be redriven, or None when it may."""
    parts = str(described.get("executionArn", "")).split(":")
    status = described.get("status")
    if machine_type != "STANDARD":
        return f"an {machine_type} execution cannot be redriven (Standard only)"
    if len(parts) > 7 and "/" in parts[6]:  # execution:<machine>/<map run>:<name>
        return "a Distributed Map's child execution: redrive its parent execution"
    if status not in REDRIVABLE_STATUSES:
        return f"execution is {status} and cannot be redriven"
    stopped, started = _aware(described.get("stopDate")), _aware(described.get("startDate"))
    if stopped is not None and now - stopped > REDRIVABLE_PERIOD:
        return "execution redrivable period (14 days) exceeded"
    if started is not None and now - started > MAX_OPEN:
        return "execution has exceeded the max execution time (one year)"
    if described.get("redriveStatus") == "NOT_REDRIVABLE":
        return str(described.get("redriveStatusReason") or "Step Functions: not redrivable")
    return None


def client_token(execution_arn: str, redrive_count: int) -> str:
    """One token per (execution, redrive): a retried request is the same redrive."""
    return hashlib.sha256(f"{execution_arn}#{redrive_count}".encode()).hexdigest()[:64]


class ExecutionRedrive:
    def __init__(self, sfn: Any, now: Any = None) -> None:
        self.sfn = sfn
        self.now = now or (lambda: datetime.now(UTC))

    def redrive(self, execution_arn: str) -> dict[str, Any]:
        """Redrive the execution; returns ``{"executionArn", "redriveDate", "redriveCount"}``
        (the count before this redrive)."""
        described = self.sfn.describe_execution(executionArn=execution_arn)
        machine = self.sfn.describe_state_machine_for_execution(executionArn=execution_arn)
        machine_type = str(machine.get("type") or "STANDARD")
        if (reason := redrive_refusal(described, machine_type, self.now())) is not None:
            raise ExecutionNotRedrivable(reason)
        count = int(described.get("redriveCount") or 0)
        try:
            answer = self.sfn.redrive_execution(
                executionArn=execution_arn, clientToken=client_token(execution_arn, count))
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            message = exc.response["Error"].get("Message", code)
            if code == "ExecutionNotRedrivable":
                raise ExecutionNotRedrivable(message) from exc
            raise
        return {"executionArn": execution_arn, "redriveDate": answer.get("redriveDate"),
                "redriveCount": count}
