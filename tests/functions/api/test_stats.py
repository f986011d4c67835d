"""``GET /workflows/{id}/stats`` and ``GET /stats`` over real HTTP on loopback against
``sfnflow serve``'s platform: executions started through the API are counted by the
status-change handler; bad day ranges are 400s and unknown workflows 404s, all JSON."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client

FLOW = {"name": "stats-api", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Check", "type": "code", "parameters": {"code": (
        "if items[0].get('fail'):\n    raise ValueError('asked to fail')\nreturn items")}}],
    "connections": [{"from": "Start", "to": "Check"}]}


@pytest.fixture(scope="module")
def api() -> Iterator[Client]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        yield Client(platform.url)


def counted(api: Client, path: str, executions: int, seconds: float = 20) -> dict[str, Any]:
    """The stats once ``executions`` are counted: the handler records the final status
    (what ``GET /executions/{id}`` shows) before its observers count it."""
    deadline = time.monotonic() + seconds
    while True:
        response = api("GET", path)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body.get("executions", body.get("total", {}).get("executions")) >= executions \
                or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_stats_of_runs_started_through_the_api(api: Client) -> None:
    assert api("POST", "/workflows", json=FLOW).status_code == 201
    for fail in (False, True, False):
        started = api("POST", "/workflows/stats-api/executions", json={"input": {"fail": fail}})
        assert started.status_code == 202, started.text
        api.wait_status(started.json()["executionId"], "SUCCEEDED", "FAILED")
    stats = counted(api, "/workflows/stats-api/stats", 3)
    today = datetime.now(UTC).date().isoformat()
    assert (stats["workflowId"], stats["to"], stats["executions"]) == ("stats-api", today, 3)
    assert stats["byStatus"] == {"FAILED": 1, "SUCCEEDED": 2}
    assert stats["failureRate"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["topFailingNodes"] == [{"node": "Check", "failures": 1}]
    assert 0 <= stats["durationMs"]["p50"] <= stats["durationMs"]["max"]
    assert [row["day"] for row in stats["days"]] == [today]

    summary = counted(api, f"/stats?from={today}&to={today}", 3)
    (row,) = [w for w in summary["workflows"] if w["workflowId"] == "stats-api"]
    assert row["byStatus"] == stats["byStatus"] and summary["total"]["executions"] >= 3
    assert api("GET", "/workflows/stats-api/stats?from=2020-01-01&to=2020-01-31").json()[
        "executions"] == 0  # a deployed workflow with no runs in the range: zeros


@pytest.mark.parametrize("query", [
    "from=yesterday", "to=2026-02-30", "from=2026-12-04&to=2026-12-03",
    "from=2020-01-01&to=2026-12-03", "from=" + "9" * 40])
def test_bad_day_ranges_are_400s_in_json(api: Client, query: str) -> None:
    for path in ("/stats", "/workflows/stats-api/stats"):
        response = api("GET", f"{path}?{query}")
        assert response.status_code == 400, response.text
        assert response.json()["error"]["type"] == "BadRequest"


def test_an_unknown_workflow_is_a_404(api: Client) -> None:
    response = api("GET", "/workflows/no-such-flow/stats")
    assert response.status_code == 404 and response.json()["error"]["type"] == "NotFound"


def test_the_routes_need_the_api_key(api: Client) -> None:
    for path in ("/stats", "/workflows/stats-api/stats"):
        assert requests.get(api.url + path, timeout=10).status_code == 401
        assert requests.get(api.url + path, headers={"x-api-key": "nope"},
                            timeout=10).status_code == 403
