"""Reading n8n's Wait (``compiler.n8n.wait``): defaults per version, units, fixed moments,
one-field expressions, and refusals that name the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from compiler.n8n.wait import (
    MAX_WAIT_SECONDS,
    N8nWait,
    WaitRefused,
    read,
    utc_timestamp,
)

CASES: list[tuple[str, float, dict[str, Any], N8nWait]] = [
    ("v1 defaults to 1 hour", 1, {}, N8nWait("time", seconds=3600)),
    ("v1.1 defaults to 5 seconds", 1.1, {}, N8nWait("time", seconds=5)),
    ("minutes", 1.1, {"amount": 2, "unit": "minutes"}, N8nWait("time", seconds=120)),
    ("days", 1, {"amount": 1.5, "unit": "days"}, N8nWait("time", seconds=129600)),
    ("a fraction of a second rounds up", 1.1, {"amount": 0.25}, N8nWait("time", seconds=1)),
    ("zero waits nothing", 1.1, {"amount": 0}, N8nWait("time", seconds=0)),
    ("whole milliseconds do not round up", 1.1, {"amount": 0.1, "unit": "minutes"},
     N8nWait("time", seconds=6)),
    ("an amount field", 1.1, {"amount": "={{ $json.delay.s }}", "unit": "hours"},
     N8nWait("time", amount="={{ $json.delay.s }}", factor=3600)),
    ("amount arithmetic", 1.1, {"amount": "={{ $json.m * 60 }}"},
     N8nWait("time", amount="={{ $json.m * 60 }}")),
    ("a fixed moment", 1, {"resume": "specificTime", "dateTime": "2030-01-02T03:04:05"},
     N8nWait("time", moment=datetime(2030, 1, 2, 3, 4, 5))),
    ("a moment field", 1, {"resume": "specificTime", "dateTime": "={{$json.at}}"},
     N8nWait("time", moment_expression="={{$json.at}}")),
    ("webhook", 1.1, {"resume": "webhook", "httpMethod": "POST"}, N8nWait("webhook")),
]


@pytest.mark.parametrize(("title", "version", "parameters", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_read(title: str, version: float, parameters: dict[str, Any],
              expected: N8nWait) -> None:
    assert read(version, parameters) == expected


REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"resume": "form"}, "parameters.resume", "forms"),
    ({"resume": "webhook", "limitWaitTime": True}, "parameters.limitWaitTime", "time limit"),
    ({"unit": "weeks"}, "parameters.unit", "Invalid wait unit"),
    ({"amount": -1}, "parameters.amount", "0 or greater"),
    ({"amount": "={{ $json.s.toUpperCase() }}"}, "parameters.amount",
     "not one sfnflow computes"),
    ({"amount": 366, "unit": "days"}, "parameters.amount", "one year"),
    ({"resume": "specificTime", "dateTime": "next tuesday"}, "parameters.dateTime",
     "not a valid date"),
    ({"resume": "specificTime", "dateTime": "={{ $now.plus(1, 'day') }}"},
     "parameters.dateTime", "not one sfnflow computes"),
]


@pytest.mark.parametrize(("parameters", "field", "why"), REFUSED)
def test_refused_naming_the_field(parameters: dict[str, Any], field: str, why: str) -> None:
    with pytest.raises(WaitRefused) as refused:
        read(1.1, parameters)
    assert refused.value.field == field and why in refused.value.why


def test_the_longest_wait_is_a_standard_execution_year() -> None:
    assert read(1.1, {"amount": 365, "unit": "days"}).seconds == MAX_WAIT_SECONDS


def test_a_naive_moment_is_read_in_the_workflow_zone() -> None:
    moment = datetime(2030, 7, 1, 12, 0, 0)
    assert utc_timestamp(moment, "Europe/Berlin") == "2030-07-01T10:00:00Z"
    assert utc_timestamp(moment, "UTC") == "2030-07-01T12:00:00Z"
    aware = datetime.fromisoformat("2030-07-01T12:00:00.900+02:00")
    assert utc_timestamp(aware, "America/New_York") == "2030-07-01T10:00:00Z"
