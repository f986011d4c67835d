"""A deploy through the API checks the credentials the workflow names (issue 16): every
missing or mistyped one is a problem naming its node and field, all in one 400 — over real
HTTP on loopback, against ``sfnflow serve``'s platform (moto's Secrets Manager)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.support.api_client import ApiClient


@pytest.fixture(scope="module")
def api() -> Iterator[ApiClient]:
    with LocalPlatform(api_key=ApiClient.key, time_scale=TIME_SCALE) as platform:
        client = ApiClient(platform.url)
        created = client("POST", "/credentials", json={
            "name": "warehouse", "type": "postgres", "data": {
                "host": "db", "database": "app", "user": "app", "password": "pw-5c0e19aa"}})
        assert created.status_code == 201, created.text
        created = client("POST", "/credentials", json={
            "name": "partner-api", "type": "httpBearerAuth", "data": {"token": "tok-9d2b"}})
        assert created.status_code == 201, created.text
        yield client


def calling(name: str, *refs: dict[str, Any]) -> dict[str, Any]:
    nodes = [{"name": "Start", "type": "manualTrigger"}] + [
        {"name": f"Call {i}", "type": "httpRequest", "credentials": ref,
         "parameters": {"url": "http://127.0.0.1:9/"}} for i, ref in enumerate(refs)]
    names = [node["name"] for node in nodes]
    return {"name": name, "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:],
                                                                  strict=False)]}


def test_a_deploy_lists_every_missing_or_mistyped_credential(api: ApiClient) -> None:
    refused = api("POST", "/workflows", json=calling(
        "caller", {"name": "nowhere"}, {"name": "warehouse"}, {"name": "partner-api"},
        {"name": "gone"}))
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["type"] == "WorkflowInvalid"
    assert [(p["node"], p["field"], p["code"]) for p in error["details"]] == [
        ("Call 0", "credentials.name", "credential_missing"),
        ("Call 1", "credentials", "credential_type"),
        ("Call 3", "credentials.name", "credential_missing")]
    assert "pw-5c0e19aa" not in refused.text
    assert api("GET", "/workflows/caller").status_code == 404  # nothing was deployed


def test_an_update_is_checked_too_and_good_credentials_deploy(api: ApiClient) -> None:
    created = api("POST", "/workflows", json=calling("fine", {"name": "partner-api"}))
    assert created.status_code == 201, created.text
    updated = api("PUT", "/workflows/fine", json=calling(
        "fine", {"name": "partner-api"}, {"name": "nowhere"}))
    assert updated.status_code == 400, updated.text
    assert [(p["node"], p["code"]) for p in updated.json()["error"]["details"]] == [
        ("Call 1", "credential_missing")]
