"""The log lines of one execution across its Lambdas: ``GET /executions/{id}/logs``.

Every line a handler writes during a node run carries the correlation keys of
``functions.tracing`` (workflow, execution, node, runIndex, attempt), so one execution's
lines are those whose ``execution`` key is its id, whichever function wrote them:

* in AWS, ``LogsInsightsSource`` asks CloudWatch Logs Insights over the log groups of the
  functions that run executions (``SFNFLOW_EXECUTION_LOG_GROUPS``, set by the stack), in
  the execution's time range: Logs Insights scans only that range, and the time range
  is what a query is billed by;
* locally, the embedded cloud captures the handlers' lines as they are written
  (``local.log_capture``) and installs its source with ``use_source``.

Lines come oldest first, in pages of at most ``MAX_PAGE``; each is normalised by
``log_line`` (when, level, message, function, node, runIndex, attempt, other fields).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from functions.errors import SfnflowError

MAX_PAGE = 500
LOG_GROUPS_ENV = "SFNFLOW_EXECUTION_LOG_GROUPS"  # comma-separated; set by the stack
# Lambda writes a line to CloudWatch Logs a moment after the function logs it; the range
# queried reaches this far past the execution's end.
INGESTION_MARGIN_SECONDS = 300
QUERY_WAIT_SECONDS = 20.0  # within API Gateway's 29 s integration timeout
POWERTOOLS_KEYS = ("timestamp", "level", "message", "service", "function_name", "location",
                   "function_request_id", "function_arn", "function_memory_size",
                   "cold_start", "xray_trace_id", "sampling_rate")
CORRELATION = ("workflow", "execution", "node", "runIndex", "attempt")


class BadLogCursor(SfnflowError, ValueError):
    """A logs cursor this API did not hand out."""


@dataclass(frozen=True)
class LogPage:
    lines: list[dict[str, Any]]
    cursor: str | None = None
    complete: bool = True  # False: the query ran out of time; these lines are partial


@dataclass(frozen=True)
class TimeRange:
    """An execution's start and end (None while it runs), ISO-8601."""

    started_at: str
    stopped_at: str | None = None


class LogSource(Protocol):
    def page(self, execution_id: str, span: TimeRange, cursor: str | None,
             limit: int) -> LogPage: ...


def _iso_at(value: Any) -> Any:
    """Powertools' default timestamp (``2026-01-01 00:00:00,123+0000``) as ISO-8601 UTC
    (``2026-01-01T00:00:00.123Z``), as every other time in the API; others unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S,%f%z")
    except ValueError:
        return value
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_line(document: Mapping[str, Any]) -> dict[str, Any]:
    """One Powertools JSON line as the API shows it."""
    fields = {key: value for key, value in document.items()
              if key not in POWERTOOLS_KEYS and key not in CORRELATION}
    return {
        "at": _iso_at(document.get("timestamp")),
        "level": document.get("level"),
        "message": document.get("message"),
        "function": document.get("function_name") or document.get("service"),
        "node": document.get("node"),
        "runIndex": document.get("runIndex"),
        "attempt": document.get("attempt"),
        "fields": fields,
    }


def encode_cursor(position: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error):
        raise BadLogCursor("the cursor is not one this API returned") from None
    if not isinstance(position, dict):
        raise BadLogCursor("the cursor is not one this API returned")
    return position


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class LogsInsightsSource:
    """CloudWatch Logs Insights over ``log_groups``. A page is one query: lines at or
    after the cursor's millisecond, the ones already returned at that millisecond
    skipped (``toMillis(@timestamp)``; Insights has no offset)."""

    logs: Any  # a boto3 ``logs`` client
    log_groups: Sequence[str]
    wait_seconds: float = QUERY_WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time

    def query(self, execution_id: str, after_ms: int, limit: int) -> str:
        lines = ["fields @timestamp, @message",
                 f"| filter execution = {_quoted(execution_id)}"]
        if after_ms:
            lines.append(f"| filter toMillis(@timestamp) >= {after_ms}")
        lines += ["| sort @timestamp asc", f"| limit {limit}"]
        return "\n".join(lines)

    def page(self, execution_id: str, span: TimeRange, cursor: str | None,
             limit: int) -> LogPage:
        position = decode_cursor(cursor)
        after_ms, seen = int(position.get("ms") or 0), int(position.get("seen") or 0)
        start = int(max(_epoch(span.started_at), after_ms / 1000)) - 1
        end = int((_epoch(span.stopped_at) if span.stopped_at else self.now())
                  + INGESTION_MARGIN_SECONDS)
        query_id = self.logs.start_query(
            logGroupNames=list(self.log_groups), startTime=start, endTime=end,
            queryString=self.query(execution_id, after_ms, limit + seen))["queryId"]
        deadline = self.now() + self.wait_seconds
        while True:
            response = self.logs.get_query_results(queryId=query_id)
            if response["status"] not in ("Scheduled", "Running"):
                break
            if self.now() >= deadline:
                self.logs.stop_query(queryId=query_id)
                break
            self.sleep(0.25)
        complete = response["status"] == "Complete"
        rows = [{cell["field"]: cell["value"] for cell in row}
                for row in response.get("results", [])]
        lines: list[dict[str, Any]] = []
        last_ms, at_last = after_ms, seen
        for index, row in enumerate(rows):
            millis = int(_epoch(row["@timestamp"].replace(" ", "T") + "Z") * 1000) \
                if "@timestamp" in row else after_ms
            if index < seen and millis == after_ms:
                continue
            try:
                document = json.loads(row.get("@message", "{}"))
            except ValueError:
                document = {"message": row.get("@message")}
            lines.append(log_line(document if isinstance(document, dict) else {}))
            at_last = at_last + 1 if millis == last_ms else 1
            last_ms = millis
            if len(lines) == limit:
                break
        more = complete and len(rows) == limit + seen
        return LogPage(lines, encode_cursor({"ms": last_ms, "seen": at_last}) if more
                       else None, complete)


@dataclass
class NoLogSource:
    """Where no log groups are configured: no lines."""

    reason: str = field(default="no execution log groups are configured")

    def page(self, execution_id: str, span: TimeRange, cursor: str | None,
             limit: int) -> LogPage:
        return LogPage([])


def configured_source(region: str) -> LogSource:
    groups = [g for g in os.environ.get(LOG_GROUPS_ENV, "").split(",") if g]
    if not groups:
        return NoLogSource()
    import boto3

    return LogsInsightsSource(boto3.client("logs", region_name=region), groups)


_lock = threading.Lock()
_source: LogSource | None = None


def use_source(source: LogSource | None) -> LogSource | None:
    """Read lines from ``source`` from now on (None: the configured one); returns the
    source it replaces."""
    global _source
    with _lock:
        previous, _source = _source, source
    return previous


def current_source(region: str) -> LogSource:
    global _source
    with _lock:
        if _source is None:
            _source = configured_source(region)
        return _source
