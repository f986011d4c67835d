"""Hostile requests to public webhooks get a JSON 4xx that quotes no runtime text, and a
large body is staged, not a 500 (issue 11). Over HTTP on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from functions.services.webhooks import signature
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
SECRET = "s3cret-key-for-tests"


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        for name, extra in (("open", {}), ("signed", {"secret": SECRET})):
            document = {"name": name, "nodes": [
                {"name": "Hook", "type": "webhook", "parameters": {"path": name, **extra}},
                {"name": "Size", "type": "code", "parameters": {
                    "code": "return [{'size': len(str(i['body']))} for i in items]"}}],
                "connections": [{"from": "Hook", "to": "Size"}]}
            created = requests.post(local_platform.url + "/workflows", json=document,
                                    headers={"x-api-key": KEY}, timeout=30)
            assert created.status_code == 201, created.text
        yield local_platform


def post(platform: LocalPlatform, path: str, body: bytes | str,
         **headers: str) -> requests.Response:
    return requests.post(f"{platform.url}/webhook/{path}", data=body, timeout=30,
                         headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, "1" * 5_000, "{oops"],
                         ids=["nested-deep", "number-5000-digits", "malformed"])
def test_a_body_that_is_not_readable_json_is_a_400_in_our_words(
        platform: LocalPlatform, body: str) -> None:
    response = post(platform, "open", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "BadRequest"
    message = response.json()["error"]["message"]
    assert "body" in message and "sys." not in message \
        and "recursion" not in message.lower()


def test_a_route_too_long_to_be_a_key_is_a_short_404(platform: LocalPlatform) -> None:
    response = post(platform, "a" * 3_000, "{}")
    assert response.status_code == 404
    assert len(response.json()["error"]["message"]) < 300


def test_any_signature_header_is_a_401_never_a_500(platform: LocalPlatform) -> None:
    body = b'{"amount": 12}'
    for given in ("sha256=" + "é" * 64, "x" * 10_000, signature(SECRET, body) + "\u00ff"):
        response = post(platform, "signed", body, **{"X-Sfnflow-Signature": given})
        assert response.status_code == 401, (given[:20], response.text)
    good = post(platform, "signed", body, **{"X-Sfnflow-Signature": signature(SECRET, body)})
    assert good.status_code == 202


def test_a_body_over_dynamodbs_item_size_is_staged_and_runs(platform: LocalPlatform) -> None:
    """DynamoDB holds 400 KB per item and StartExecution 256 KiB of input: a 450 KB body
    travels staged in the payload bucket (``functions.services.staging``) to a runner
    node, which reads it from there."""
    body = json.dumps({"blob": "x" * 450_000})
    started = post(platform, "open", body)
    assert started.status_code == 202, started.text
    execution_id = started.json()["executionId"]
    deadline = time.monotonic() + 20
    while (status := requests.get(f"{platform.url}/executions/{execution_id}", timeout=30,
                                  headers={"x-api-key": KEY}).json()["status"]) \
            not in ("SUCCEEDED", "FAILED") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status == "SUCCEEDED"


def test_a_body_too_large_to_start_with_and_nowhere_to_stage_is_a_413(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFNFLOW_PAYLOAD_BUCKET", "")  # a stage without a payload bucket
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as platform:
        document = {"name": "open", "nodes": [
            {"name": "Hook", "type": "webhook", "parameters": {"path": "open"}}],
            "connections": []}
        assert requests.post(platform.url + "/workflows", json=document, timeout=30,
                             headers={"x-api-key": KEY}).status_code == 201
        response = post(platform, "open", json.dumps({"blob": "x" * 300_000}))
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["type"] == "PayloadTooLarge" and error["details"]["limit"] == 262_144
