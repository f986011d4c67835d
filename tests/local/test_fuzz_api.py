"""The API fuzz suite (issue 11): a few hundred seeded hostile requests to every route of
``sfnflow serve`` over real HTTP on loopback (``tests.support.fuzz_requests``), asserting
no 5xx, a JSON ``{"error": ...}`` with a Content-Type for every error, no answer slower than
``SLOW_SECONDS``, and a server that still answers afterwards. ``benchmarks/fuzz_api.py``
runs many more cases and prints a table."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support import fuzz_requests as fuzz

KEY = "fuzz-key"
CASES = 400


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalPlatform, fuzz.Target, list[fuzz.Route]]]:
    """``sfnflow serve`` with a workflow, a webhook and an execution for the cases to name."""
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        target, table = fuzz.prepare(platform.url, KEY)
        yield platform, target, table


def test_the_generator_covers_every_route_and_mutation() -> None:
    from functions.api.app import app

    table = fuzz.routes(json.loads(app.get_openapi_json_schema()))
    target = fuzz.Target("wf", "exec", "Node")
    generated = list(fuzz.cases(table, target, CASES))
    assert {case.route for case in generated} == {f"{r.method} {r.template}" for r in table}
    assert {"POST /webhook/{webhook}", "POST /executions/{execution_id}/resume/{wait_id}",
            "POST /workflows", "GET /executions", "POST /admin/prune"} <= {
        case.route for case in generated}
    assert set(Counter(case.category for case in generated)) == {
        "valid", "method", "path", "query", "body", "headers", "protocol"}
    assert generated == list(fuzz.cases(table, target, CASES))  # seeded: reproducible


def test_hostile_requests_get_typed_answers_never_a_5xx(
        served: tuple[LocalPlatform, fuzz.Target, list[fuzz.Route]]) -> None:
    platform, target, table = served
    outcomes = fuzz.run(platform.url, KEY, table, target, CASES)
    failures = [(verdict, outcome.case) for outcome in outcomes
                if (verdict := fuzz.verdict(outcome)) is not None]
    assert failures == [], "\n".join(
        f"{kind}: {what} <- {case.method} {case.target[:120]} {(case.body or b'')[:80]!r}"
        for (kind, what), case in failures[:20])
    statuses = Counter(outcome.status for outcome in outcomes)
    assert sum(statuses.values()) == CASES and statuses[200] + statuses[202] > 0
    alive = requests.get(platform.url + "/workflows", headers={"x-api-key": KEY}, timeout=10)
    assert alive.status_code == 200 and alive.json()["items"]


@pytest.mark.parametrize(("status", "content_type", "body", "seconds", "kind"), [
    (200, "application/json", b"{}", 0.1, None),
    (404, "application/json", b'{"error": {"type": "NotFound"}}', 0.1, None),
    (500, "application/json", b'{"error": {"type": "InternalError"}}', 0.1, "handler"),
    (400, "application/json", b'{"message": "bad"}', 0.1, "handler"),
    (200, None, b"{}", 0.1, "handler"),
    (200, "application/json", b"{}", fuzz.SLOW_SECONDS + 1, "handler"),
    (501, "text/html", b"<html>", 0.1, "protocol"),
    (None, None, b"", 0.1, "protocol"),
])
def test_the_verdict_flags_what_issue_11_found(status: int | None, content_type: str | None,
                                               body: bytes, seconds: float,
                                               kind: str | None) -> None:
    outcome = fuzz.Outcome(fuzz.Case("GET /x", "valid", "GET", "/x"), status, content_type,
                           body, seconds, None if status else "ConnectionResetError")
    found = fuzz.verdict(outcome)
    assert (found[0] if found else None) == kind
