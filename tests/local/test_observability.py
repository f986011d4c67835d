"""Metrics and logs on ``sfnflow serve``: an example runs on the embedded cloud, then
``GET /metrics`` (Prometheus text, no key) counts it and ``GET /executions/{id}/logs``
shows its lines node by node, over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from compiler import load_file
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client

ORDERS = Path(__file__).parents[2] / "examples" / "orders.yaml"
FAILING = {"name": "failing", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Boom", "type": "code", "parameters": {"code": "raise ValueError('boom')"}}],
    "connections": [{"from": "Start", "to": "Boom"}]}


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


@pytest.fixture(scope="module")
def api(platform: LocalPlatform) -> Client:
    client = Client(platform.url)
    for document in (load_file(ORDERS), FAILING):
        assert client("POST", "/workflows", json=document).status_code == 201
    return client


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(url + "/metrics", timeout=10)  # no x-api-key
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def sample(url: str, name: str, seconds: float = 10, **labels: str) -> float:
    """The sample's value once it is there (observers run just after the final status)."""
    key = (name, tuple(sorted(labels.items())))
    deadline = time.monotonic() + seconds
    while True:
        value = scrape(url).get(key)
        if value is not None or time.monotonic() > deadline:
            return value or 0.0
        time.sleep(0.05)


def run(api: Client, workflow: str, runs_of: tuple[str, ...] = ()) -> dict[str, Any]:
    started = api("POST", f"/workflows/{workflow}/executions?wait=true", json={}).json()
    return api.wait_status(started["executionId"], "SUCCEEDED", "FAILED", runs_of=runs_of)


def orders_nodes() -> tuple[str, ...]:
    """Every node of the orders example: native nodes' runs come after the final status."""
    return tuple(node["name"] for node in load_file(ORDERS)["nodes"])


def test_an_execution_is_counted_on_metrics(api: Client, platform: LocalPlatform) -> None:
    described = run(api, "orders", runs_of=orders_nodes())
    assert described["status"] == "SUCCEEDED"
    url = platform.url
    assert sample(url, "sfnflow_executions_succeeded_total", workflow="orders") == 1
    assert sample(url, "sfnflow_executions_started_total", workflow="orders") == 1
    assert sample(url, "sfnflow_execution_duration_seconds_count", workflow="orders") == 1
    runs: dict[str, int] = {}
    for node_run in described["nodeRuns"]:
        runs[node_run["nodeType"]] = runs.get(node_run["nodeType"], 0) + 1
    for node_type, count in runs.items():  # runner and native nodes alike
        assert sample(url, "sfnflow_node_runs_total", nodeType=node_type) == count, node_type
        assert sample(url, "sfnflow_node_duration_seconds_count", nodeType=node_type) == count


def test_a_failed_execution_counts_its_failure(api: Client, platform: LocalPlatform) -> None:
    assert run(api, "failing")["status"] == "FAILED"
    assert sample(platform.url, "sfnflow_executions_failed_total", workflow="failing") == 1
    assert sample(platform.url, "sfnflow_node_failures_total", nodeType="code") >= 1


def test_the_logs_of_an_execution_node_by_node(api: Client) -> None:
    described = run(api, "orders")
    execution_id = described["id"]
    body = api("GET", f"/executions/{execution_id}/logs").json()
    recorded = [line for line in body["items"] if line["message"] == "node run recorded"]
    runner_nodes = {run["node"] for run in described["nodeRuns"] if run["nodeType"] == "code"}
    assert runner_nodes and runner_nodes <= {line["node"] for line in recorded}
    line = next(line for line in recorded if line["node"] == "Load orders")
    assert (line["runIndex"], line["attempt"], line["level"]) == (0, 1, "INFO")
    assert line["function"] == "sfnflow-node-runner"
    assert line["fields"]["outputCounts"] == [5]
    assert any(line["message"] == "execution status change" for line in body["items"])

    first = api("GET", f"/executions/{execution_id}/logs?limit=1").json()
    assert len(first["items"]) == 1 and first["cursor"]
    rest = api("GET", f"/executions/{execution_id}/logs",
               params={"cursor": first["cursor"], "limit": 500}).json()
    assert first["items"] + rest["items"] == body["items"]


def test_logs_of_an_unknown_execution_or_cursor_are_refused(api: Client) -> None:
    assert api("GET", "/executions/nope/logs").status_code == 404
    described = run(api, "failing")
    bad = api("GET", f"/executions/{described['id']}/logs?cursor=%25%25")
    assert bad.status_code == 400
    lines = api("GET", f"/executions/{described['id']}/logs").json()["items"]
    assert any(line["level"] == "WARNING" and line["node"] == "Boom" for line in lines)


def test_metrics_is_served_without_a_key_and_only_for_reading(platform: LocalPlatform) -> None:
    assert requests.post(platform.url + "/metrics", timeout=10).status_code == 405
    assert requests.get(platform.url + "/workflows", timeout=10).status_code == 401
