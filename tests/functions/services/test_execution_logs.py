"""An execution's log lines from CloudWatch Logs Insights: the query, its time range,
paging without an offset, and a query that runs out of time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.services.execution_logs import (
    BadLogCursor,
    LogsInsightsSource,
    TimeRange,
    decode_cursor,
    log_line,
)

SPAN = TimeRange("2026-01-01T00:00:00.000Z", "2026-01-01T00:01:00.000Z")
START = 1767225600  # 2026-01-01T00:00:00Z


def row(ms: int, node: str, message: str) -> list[dict[str, str]]:
    seconds, millis = divmod(ms, 1000)
    stamp = f"2026-01-01 00:00:{seconds:02d}.{millis:03d}"
    document = {"level": "INFO", "message": message, "timestamp": stamp,
                "function_name": "sfnflow-dev-node-runner", "execution": "e1",
                "workflow": "wf", "node": node, "runIndex": 0, "attempt": 1, "status": "ok"}
    return [{"field": "@timestamp", "value": stamp},
            {"field": "@message", "value": json.dumps(document)}]


class FakeLogs:
    """Logs Insights over ``rows`` (sorted), honouring the query's ms filter and limit."""

    def __init__(self, rows: list[tuple[int, str, str]], statuses: list[str] | None = None):
        self.rows = rows
        self.statuses = statuses or ["Complete"]
        self.started: list[dict[str, Any]] = []
        self.stopped: list[str] = []

    def start_query(self, **kwargs: Any) -> dict[str, str]:
        self.started.append(kwargs)
        return {"queryId": "q1"}

    def get_query_results(self, queryId: str) -> dict[str, Any]:  # noqa: N803
        query = self.started[-1]["queryString"]
        after = next((int(line.rsplit(" ", 1)[1]) for line in query.splitlines()
                      if "toMillis" in line), 0)
        limit = int(query.splitlines()[-1].split()[-1])
        picked = [row(ms, node, message) for ms, node, message in self.rows
                  if START * 1000 + ms >= after][:limit]
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"status": status, "results": picked}

    def stop_query(self, queryId: str) -> None:  # noqa: N803
        self.stopped.append(queryId)


def test_the_query_filters_by_the_execution_key_over_its_time_range() -> None:
    logs = FakeLogs([(10, "A", "node run recorded")])
    page = LogsInsightsSource(logs, ["/aws/lambda/a", "/aws/lambda/b"]).page(
        "e1", SPAN, None, 50)
    (started,) = logs.started
    assert started["logGroupNames"] == ["/aws/lambda/a", "/aws/lambda/b"]
    assert started["startTime"] == START - 1
    assert started["endTime"] == START + 60 + 300  # the end, plus ingestion's margin
    assert 'filter execution = "e1"' in started["queryString"]
    assert started["queryString"].endswith("| sort @timestamp asc\n| limit 50")
    assert page.cursor is None and page.complete
    (line,) = page.lines
    assert (line["node"], line["runIndex"], line["attempt"], line["message"]) == \
        ("A", 0, 1, "node run recorded")
    assert line["fields"] == {"status": "ok"}  # correlation and Powertools keys taken out


def test_quotes_in_an_execution_id_cannot_end_the_string() -> None:
    query = LogsInsightsSource(FakeLogs([]), ["g"]).query('x" or 1=1', 0, 10)
    assert 'execution = "x\\" or 1=1"' in query


def test_pages_follow_each_other_without_loss_when_lines_share_a_millisecond() -> None:
    rows = [(5, "A", "one"), (5, "A", "two"), (5, "B", "three"), (9, "B", "four"),
            (12, "C", "five")]
    source = LogsInsightsSource(FakeLogs(rows), ["g"])
    seen, cursor = [], None
    for _ in range(10):
        page = source.page("e1", SPAN, cursor, 2)
        seen += [line["message"] for line in page.lines]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == ["one", "two", "three", "four", "five"]


def test_a_query_that_runs_out_of_time_is_stopped_and_marked_partial() -> None:
    clock = iter(range(0, 1000, 10))
    logs = FakeLogs([(1, "A", "one")], statuses=["Running"])
    source = LogsInsightsSource(logs, ["g"], wait_seconds=15, sleep=lambda _: None,
                                now=lambda: float(next(clock)))
    page = source.page("e1", TimeRange("2026-01-01T00:00:00Z"), None, 10)
    assert logs.stopped == ["q1"] and not page.complete and page.cursor is None


def test_a_foreign_cursor_is_refused() -> None:
    with pytest.raises(BadLogCursor):
        decode_cursor("%%%")
    with pytest.raises(BadLogCursor):
        decode_cursor("WzFd")  # base64 of [1]: not an object


def test_a_line_without_correlation_keys_keeps_its_fields() -> None:
    line = log_line({"level": "ERROR", "message": "m", "extra": 1})
    assert line["node"] is None and line["fields"] == {"extra": 1}


def test_powertools_timestamps_are_shown_as_iso_8601_utc() -> None:
    assert log_line({"timestamp": "2026-01-01 02:00:00,123+0200"})["at"] == \
        "2026-01-01T00:00:00.123Z"
    assert log_line({"timestamp": "not a time"})["at"] == "not a time"
