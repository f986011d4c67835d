"""The HTTP edges as API Gateway has them (issue 10, item 17): request bodies reach the
handlers byte for byte (binary media types), browsers get CORS answers (preflights without
the API key), and live progress opens with a short-lived token in the query string instead
of the ``x-api-key`` header browsers cannot send. Over real HTTP on loopback."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from functions.api.gateway import is_binary
from functions.services.webhooks import signature
from local.serve import LocalPlatform
from local.server import proxy_event
from tests.conftest import TIME_SCALE

KEY = "test-key"
ORIGIN = "https://console.example.com"
# Not UTF-8 text (a PNG header and bytes an UTF-8 decoder would replace): API Gateway
# without binary media types mangles these and no signature over them can match.
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd" + bytes(range(256))


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def call(platform: LocalPlatform, method: str, path: str, *, key: str | None = KEY,
         **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", {}) | ({"x-api-key": key} if key else {})
    return requests.request(method, platform.url + path, headers=headers, timeout=30,
                            **kwargs)


# ------------------------------------------------------------------ binary bodies


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", b'{"a": "\xc3\xa9"}'), ("application/octet-stream", BINARY),
    ("image/png", BINARY), (None, BINARY)])
def test_bodies_reach_the_handler_base64_and_byte_for_byte(content_type: str | None,
                                                           body: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    event = proxy_event("POST", "/webhook/x", headers, body, "/webhook/{proxy+}")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_binary_media_types_match_like_api_gateways() -> None:
    assert is_binary("application/json; charset=utf-8")
    assert is_binary("image/png", ("image/*",)) and not is_binary("text/plain", ("image/*",))
    assert not is_binary(None) and not is_binary("")
    # No body, no Content-Type: nothing to encode.
    assert proxy_event("GET", "/workflows", {}, b"", "/{proxy+}")["isBase64Encoded"] is False


def test_a_signed_binary_webhook_body_is_verified_over_its_bytes(
        platform: LocalPlatform) -> None:
    secret = "s3cret-key-for-tests"
    document = {"name": "uploads", "nodes": [
        {"name": "Hook", "type": "webhook", "parameters": {"path": "uploads",
                                                           "secret": secret}},
        {"name": "Same", "type": "noOp"}], "connections": [{"from": "Hook", "to": "Same"}]}
    assert call(platform, "POST", "/workflows", json=document).status_code == 201
    url = platform.url + "/webhook/uploads"
    headers = {"Content-Type": "application/octet-stream"}
    signed = requests.post(url, data=BINARY, timeout=30, headers=headers | {
        "X-Sfnflow-Signature": signature(secret, BINARY)})
    assert signed.status_code == 202, signed.text
    # The trigger item carries the bytes, base64, not text with replacement characters.
    record = platform.cloud.repository.get_execution(signed.json()["executionId"])
    assert record is not None
    (item,) = record.input["items"]
    assert item["bodyEncoding"] == "base64" and base64.b64decode(item["body"]) == BINARY
    text = requests.post(url, data="grüße".encode(), timeout=30, headers={
        "Content-Type": "text/plain; charset=utf-8",
        "X-Sfnflow-Signature": signature(secret, "grüße".encode())})
    assert text.status_code == 202
    record = platform.cloud.repository.get_execution(text.json()["executionId"])
    assert record is not None and record.input["items"][0]["body"] == "grüße"
    assert "bodyEncoding" not in record.input["items"][0]
    # One byte changed in transit: the signature no longer matches.
    tampered = requests.post(url, data=BINARY[:-1] + b"\x00", timeout=30, headers=headers | {
        "X-Sfnflow-Signature": signature(secret, BINARY)})
    assert tampered.status_code == 401


# ------------------------------------------------------------------ CORS


def test_a_preflight_needs_no_api_key_and_allows_the_key_header(
        platform: LocalPlatform) -> None:
    for path in ("/workflows", "/executions/e1/retry", "/stream-tokens", "/webhook/anything"):
        preflight = call(platform, "OPTIONS", path, key=None, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,content-type"})
        assert preflight.status_code == 204, (path, preflight.text)
        assert preflight.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN), path
        allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
        assert {"x-api-key", "content-type"} <= set(allowed.split(",")), path
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"], path


def test_responses_name_the_allowed_origin(platform: LocalPlatform) -> None:
    listed = call(platform, "GET", "/workflows", headers={"Origin": ORIGIN})
    assert listed.status_code == 200
    assert listed.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    missing = call(platform, "POST", "/webhook/nowhere", key=None, json={},
                   headers={"Origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    # Without an Origin (not a browser), no CORS headers.
    assert "Access-Control-Allow-Origin" not in call(platform, "GET", "/workflows").headers


def test_the_allowed_origins_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.api.gateway import cors_headers
    from functions.config import Config

    monkeypatch.setenv("SFNFLOW_CORS_ORIGIN", f"{ORIGIN}, https://other.example.com")
    config = Config.from_env()
    assert cors_headers(config, ORIGIN, preflight=False)["Access-Control-Allow-Origin"] \
        == ORIGIN
    assert cors_headers(config, "https://other.example.com", preflight=True)[
        "Access-Control-Allow-Origin"] == "https://other.example.com"
    assert cors_headers(config, "https://evil.example.com", preflight=True) == {}
    assert "SFNFLOW_CORS_ORIGIN" in os.environ
    # The webhook handler's headers are the API resolver's (powertools' CORSConfig).
    from functions.api.gateway import cors_config

    resolver = cors_config(config)
    for origin in (ORIGIN, "https://other.example.com", "https://evil.example.com"):
        allowed = resolver.allowed_origin(origin)
        assert cors_headers(config, origin, preflight=False) == \
            (resolver.to_dict(allowed) if allowed else {})


def test_the_webhook_handler_does_not_load_the_api_resolver() -> None:
    """Cold start: powertools' REST resolver module is large; only the API function needs
    it (the webhook function computes the same CORS headers itself)."""
    import subprocess
    import sys

    code = ("import sys, functions.handlers.webhooks; "
            "print('aws_lambda_powertools.event_handler.api_gateway' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=os.path.dirname(os.path.dirname(
                                os.path.dirname(os.path.abspath(__file__)))))
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------ live progress tokens


def _run_hello(platform: LocalPlatform, name: str) -> str:
    document = {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Greet", "type": "code", "parameters": {"code": "return items"}}],
        "connections": [{"from": "Start", "to": "Greet"}]}
    assert call(platform, "POST", "/workflows", json=document).status_code == 201
    started = call(platform, "POST", f"/workflows/{name}/executions", json={})
    assert started.status_code in (200, 201, 202), started.text
    return str(started.json()["executionId"])


def _sse(response: requests.Response) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: "):]) for line in response.text.splitlines()
            if line.startswith("data: ")]


def test_a_stream_token_opens_live_progress_without_the_api_key(
        platform: LocalPlatform) -> None:
    execution_id = _run_hello(platform, "hello")
    issued = call(platform, "POST", "/stream-tokens", json={"executionId": execution_id})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["executionId"] == execution_id and body["token"] in body["url"]
    expires = time.mktime(time.strptime(body["expiresAt"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert 0 < expires - time.mktime(time.gmtime()) <= 300  # short-lived
    # What a browser's EventSource does: the URL alone, no headers.
    stream = requests.get(body["url"], timeout=30)
    assert stream.status_code == 200, stream.text
    events = _sse(stream)
    assert events and events[-1]["type"] == "executionFinished"


def test_stream_tokens_need_the_key_and_name_one_existing_execution(
        platform: LocalPlatform) -> None:
    execution_id = _run_hello(platform, "hello-again")
    assert call(platform, "POST", "/stream-tokens", key=None,
                json={"executionId": execution_id}).status_code == 401
    assert call(platform, "POST", "/stream-tokens",
                json={"executionId": "nope"}).status_code == 404
    token = call(platform, "POST", "/stream-tokens",
                 json={"executionId": execution_id}).json()["token"]
    other = requests.get(f"{platform.url}/executions/other/stream",
                         params={"token": token}, timeout=30)
    assert other.status_code == 403
    forged = requests.get(f"{platform.url}/executions/{execution_id}/stream",
                          params={"token": token[:-3] + "AAA"}, timeout=30)
    assert forged.status_code == 403
    # No token and no key: the stream stays closed.
    assert requests.get(f"{platform.url}/executions/{execution_id}/stream",
                        timeout=30).status_code == 401


# ------------------------------------------------------------------ hostile requests (issue 11)


def _finished(platform: LocalPlatform, execution_id: str) -> None:
    deadline = time.monotonic() + 20
    while call(platform, "GET", f"/executions/{execution_id}").json()["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_encoded_slash_does_not_open_the_pin_route_without_the_key(
        platform: LocalPlatform) -> None:
    """``/executions/X%2Fnodes/resume/pin`` looked like the public resume route
    (``/executions/{id}/resume/{wait}``) before decoding and reached the keyed pin route
    (``/executions/{id}/nodes/{node}/pin``) after: it wrote a pin with no API key."""
    document = {"name": "pinned", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "resume", "type": "code", "parameters": {"code": "return items"}}],
        "connections": [{"from": "Start", "to": "resume"}]}
    assert call(platform, "POST", "/workflows", json=document).status_code == 201
    execution_id = call(platform, "POST", "/workflows/pinned/executions",
                        json={}).json()["executionId"]
    _finished(platform, execution_id)
    forged = call(platform, "POST", f"/executions/{execution_id}%2Fnodes/resume/pin?sig=x",
                  key=None)
    assert forged.status_code == 401, forged.text
    assert forged.json()["error"]["type"] == "Unauthorized"
    assert call(platform, "GET", "/workflows/pinned/pins/resume").status_code == 404


@pytest.mark.parametrize("path", ["/workflows", "/webhook/nowhere"])
def test_a_body_that_is_not_utf8_gets_a_json_answer(platform: LocalPlatform,
                                                    path: str) -> None:
    response = call(platform, "POST", path, data=b"\xff\xfe{\x80}",
                    headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 404, 415), response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["type"]
