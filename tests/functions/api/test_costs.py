"""GET /executions/{id}/cost and GET /costs over real HTTP on loopback, against
``sfnflow serve``'s platform."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client, hello


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        yield Client(platform.url)


def ended_cost(api: Client, execution_id: str, seconds: float = 20) -> dict[str, Any]:
    """The cost is recorded just after the final status: poll until it is there."""
    deadline = time.monotonic() + seconds
    while True:
        response = api("GET", f"/executions/{execution_id}/cost")
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]
        time.sleep(0.05)


def test_an_ended_execution_has_its_cost_and_its_day(api: Client) -> None:
    assert api("POST", "/workflows", json=hello("costly")).status_code == 201
    started = api("POST", "/workflows/costly/executions", json={"input": {"who": "x"}})
    execution_id = started.json()["executionId"]
    api.wait_status(execution_id, "SUCCEEDED")
    cost = ended_cost(api, execution_id)
    assert cost["executionId"] == execution_id and cost["workflowId"] == "costly"
    assert cost["usage"]["stateTransitions"] == sum(
        node["stateTransitions"] for node in cost["nodes"].values()) > 0
    assert cost["nodes"]["Greet"]["lambdaRequests"] >= 1
    assert cost["total"] == pytest.approx(sum(cost["components"].values()))
    assert cost["withChildren"]["total"] == cost["total"]
    assert [s["kind"] for s in cost["suggestions"]] == ["express"]
    today = datetime.now(UTC).date().isoformat()
    report = api("GET", f"/costs?workflowId=costly&from={today}&to={today}").json()
    assert [(d["day"], d["executions"]) for d in report["days"]] == [(today, 1)]
    assert report["total"] == pytest.approx(cost["total"])


def test_unknown_executions_and_bad_ranges_are_refused(api: Client) -> None:
    missing = api("GET", "/executions/nope/cost")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFound"
    backwards = api("GET", "/costs?workflowId=costly&from=2026-12-03&to=2026-12-01")
    assert backwards.status_code == 400
    too_long = api("GET", "/costs?workflowId=costly&from=2024-01-01&to=2026-12-01")
    assert too_long.status_code == 400
    assert api("GET", "/costs?workflowId=costly&from=yesterday").status_code in (400, 422)
    assert api("GET", "/costs").status_code in (400, 422)  # workflowId is required
    empty = api("GET", "/costs?workflowId=nobody&from=2026-01-01&to=2026-01-31").json()
    assert empty["days"] == [] and empty["total"] == 0
