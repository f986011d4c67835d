"""n8n's exported JSON deploys through the REST API unchanged (issue 12): ``POST /workflows``
detects the shape, the execution runs n8n's semantics, and an n8n document sfnflow cannot run
is a 400 naming every node and field. Over HTTP on loopback, against ``sfnflow serve``'s
platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "n8n-orders.json"


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def call(platform: LocalPlatform, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, platform.url + path, headers={"x-api-key": KEY},
                            timeout=30, **kwargs)


def test_an_exported_n8n_workflow_deploys_and_runs_through_the_api(
        platform: LocalPlatform) -> None:
    exported = json.loads(EXAMPLE.read_text())
    created = call(platform, "POST", "/workflows", json=exported)
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert workflow_id == "n8n-orders"  # n8n's free-text name, made a valid workflow name

    stored = call(platform, "GET", f"/workflows/{workflow_id}").json()
    types = {node["type"] for node in stored["document"]["nodes"]}
    assert "n8n-nodes-base.if" in types  # n8n's nodes keep their types and versions

    started = call(platform, "POST", f"/workflows/{workflow_id}/executions?wait=true", json={})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "SUCCEEDED"
    runs = call(platform, "GET",
                f"/executions/{body['executionId']}/nodes/Largest first").json()["items"]
    (largest,) = runs[0]["output"]
    assert [item["json"]["customer"] for item in largest] == ["ada", "cy"]
    assert largest[0]["json"]["note"] == "order of ADA ships today"


def test_an_n8n_workflow_sfnflow_cannot_run_is_a_400_naming_node_and_field(
        platform: LocalPlatform) -> None:
    exported = json.loads(EXAMPLE.read_text())
    exported["nodes"].append({"id": "x1", "name": "Notion", "type": "n8n-nodes-base.notion",
                              "typeVersion": 2, "position": [0, 200], "parameters": {}})
    exported["nodes"].append({"id": "x2", "name": "Later IF", "type": "n8n-nodes-base.if",
                              "typeVersion": 9, "position": [0, 400], "parameters": {}})
    refused = call(platform, "POST", "/workflows", json=exported)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["type"] == "WorkflowInvalid"
    named = {(problem["node"], problem["field"]) for problem in error["details"]}
    assert {("Notion", "type"), ("Later IF", "typeVersion")} <= named
    assert call(platform, "GET", "/workflows/n8n-orders").status_code == 404
