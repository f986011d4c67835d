"""The API's error mapping (``functions.api.errors``) is total: each request of issue 11
that made the API answer 500 is now a typed 4xx naming the problem, an unexpected failure
is a 500 that carries a request id and nothing of the server, and every answer names its
Content-Type. Requests go through the real handler as API Gateway's proxy events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.api import errors
from functions.api.dependencies import services
from functions.handlers import api
from local.cloud import LocalCloud
from local.moto_patches import InvokeContext
from local.server import proxy_event

DOCUMENT = {"name": "hello", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Greet", "type": "set", "parameters": {"values": {"greeting": "hi"}},
     "retry": {"maxAttempts": 1}}],
    "connections": [{"from": "Start", "to": "Greet"}]}


def call(method: str, target: str, body: bytes | str | Any = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Any]:
    """(status, headers, parsed body) of one request through ``functions.handlers.api``."""
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    event = proxy_event(method, target, {"Content-Type": "application/json"} | (headers or {}),
                        raw, "/{proxy+}")
    response = api.lambda_handler(event, InvokeContext("sfnflow-api"))
    text = response.get("body") or ""
    return (response["statusCode"], response.get("headers") or {},
            json.loads(text) if text else None)


@pytest.fixture
def deployed(cloud: LocalCloud) -> LocalCloud:
    services.cache_clear()
    status, _, body = call("POST", "/workflows", DOCUMENT)
    assert status == 201, body
    return cloud


def assert_bad_request(status: int, body: Any, location: str, expected: int = 400) -> None:
    assert status == expected, body
    assert body["error"]["type"] in ("BadRequest", "PayloadTooLarge")
    assert location in [detail["location"] for detail in body["error"]["details"]]


@pytest.mark.parametrize(("body", "location"), [
    ("[" * 100_000 + "]" * 100_000, "body"),  # JSON nested deep: RecursionError
    ('{"input": ' + "9" * 5_000 + "}", "body"),  # over int()'s 4,300 digits
    ('{"input": {"x": NaN}}', "body"),
    ('{"input": "\\ud800"}', "body"),  # a lone surrogate: unencodable later
    (b'{"input": "\xff"}', "body"),  # not UTF-8: passed base64, decoding raised
])
def test_hostile_start_bodies_are_400s(deployed: LocalCloud, body: str | bytes,
                                       location: str) -> None:
    status, _, answer = call("POST", "/workflows/hello/executions", body)
    assert_bad_request(status, answer, location)


def test_a_route_that_parses_a_hostile_body_itself_answers_400(deployed: LocalCloud) -> None:
    """The wait routes read their body their own way (JSON or a form): a body nested
    100,000 deep raised RecursionError there, a 500."""
    status, _, body = call("POST", "/executions/x/reject/y", "[" * 100_000 + "]" * 100_000)
    assert_bad_request(status, body, "body")


def test_older_than_1e308_days_is_a_400_naming_the_field(deployed: LocalCloud) -> None:
    status, _, body = call("POST", "/admin/prune", '{"olderThanDays": 1e308}')
    assert_bad_request(status, body, "body.olderThanDays")


def test_a_pin_version_past_dynamodb_numbers_is_a_400(deployed: LocalCloud) -> None:
    status, _, body = call("POST", "/workflows/hello/pins/Greet/rollback",
                           {"version": 10**40})
    assert_bad_request(status, body, "body.version")


@pytest.mark.parametrize("target", [
    "/workflows?cursor=eyJhIjoxfQ",  # {"a":1}
    "/executions?cursor=eyJhIjoxfQ",
    "/executions?workflowId=hello&cursor=eyJhIjoxfQ",
    "/executions?status=FAILED&cursor=%C3%A9%F0%9F%98%80",
    "/executions?cursor=" + base64.urlsafe_b64encode(b"[" * 3000).decode(),
])
def test_forged_cursors_are_400s(deployed: LocalCloud, target: str) -> None:
    status, _, body = call("GET", target)
    assert_bad_request(status, body, "query.cursor")


def test_a_binary_body_is_415_and_a_bad_base64_body_400(deployed: LocalCloud) -> None:
    status, _, body = call("POST", "/workflows", b"\x00\x01\xff",
                           {"Content-Type": "application/octet-stream"})
    assert status == 415 and body["error"]["type"] == "UnsupportedMediaType"
    event = proxy_event("POST", "/workflows", {"Content-Type": "application/json"}, b"{}",
                        "/{proxy+}") | {"body": "abc", "isBase64Encoded": True}
    response = api.lambda_handler(event, InvokeContext("sfnflow-api"))
    assert response["statusCode"] == 400, response


def test_a_start_input_too_large_for_dynamodb_is_413(deployed: LocalCloud,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """450 KB with no payload bucket to stage it in: over StartExecution's 256 KiB and
    DynamoDB's 400 KB item (with a bucket it is staged: ``services/test_staging.py``)."""
    monkeypatch.setattr(services().runs, "s3", None)
    status, _, body = call("POST", "/workflows/hello/executions",
                           {"input": [{"x": "a" * 450_000}]})
    assert status == 413 and body["error"]["type"] == "PayloadTooLarge", body
    assert body["error"]["details"]["limit"] == 262_144


def test_a_workflow_too_large_for_an_item_is_413(deployed: LocalCloud) -> None:
    status, _, body = call("PUT", "/workflows/hello",
                           DOCUMENT | {"description": "d" * 450_000})
    assert status == 413 and body["error"]["type"] == "PayloadTooLarge", body


def test_an_unexpected_failure_is_a_500_without_internals(
        deployed: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret /srv/app/functions/x.py: password=hunter2")

    logged: list[dict[str, Any]] = []
    monkeypatch.setattr(services().workflows, "get", broken)
    monkeypatch.setattr(errors.logger, "exception",
                        lambda _message, extra: logged.append(extra))
    status, headers, body = call("GET", "/workflows/hello")
    assert status == 500 and headers["Content-Type"] == "application/json"
    text = json.dumps(body)
    assert "hunter2" not in text and "/srv" not in text and "Traceback" not in text
    request_id = body["error"]["details"]["requestId"]
    assert request_id and logged == [{"requestId": request_id}]  # the log line has it


def test_a_failure_outside_the_error_handlers_is_a_json_500(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise KeyError("/internal/path")

    monkeypatch.setattr(api.app, "resolve", broken)
    response = api.lambda_handler({"requestContext": {"requestId": "r-1"}},
                                  InvokeContext("sfnflow-api"))
    assert response["statusCode"] == 500
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"])["error"] == {
        "type": "InternalError", "message": "the server failed to handle the request",
        "details": {"requestId": "r-1"}}


@pytest.mark.parametrize(("method", "target"), [
    ("GET", "/workflows"), ("GET", "/workflows/nope"), ("DELETE", "/workflows/nope"),
    ("OPTIONS", "/workflows"), ("GET", "/nothing"), ("GET", "/openapi.json"),
])
def test_every_answer_names_its_content_type(cloud: LocalCloud, method: str,
                                             target: str) -> None:
    services.cache_clear()
    _, headers, _ = call(method, target, headers={"Origin": "https://example.com"})
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("target", [
    "/executions/" + "x" * 3000,
    "/workflows/" + "w" * 3000 + "/versions",
    "/executions/" + "x" * 3000 + "/nodes/" + "n" * 2000,
    "/workflows/hello/pins/" + "é" * 600,  # 1,200 bytes
])
def test_an_id_longer_than_a_dynamodb_key_is_a_404_before_any_lookup(
        deployed: LocalCloud, target: str) -> None:
    """DynamoDB refuses a key value over 1,024 bytes (sort) or 2,048 (partition) with a
    ValidationException: a 500 in AWS (moto only answers "not found")."""
    status, _, body = call("GET", target)
    assert status == 404 and "ids hold at most 1,024" in body["error"]["message"], body


@pytest.mark.parametrize("query", ["workflowId=" + "w" * 3000, "from=" + "f" * 3000,
                                   "to=" + "é" * 300])
def test_query_values_used_as_keys_are_bounded(deployed: LocalCloud, query: str) -> None:
    status, _, body = call("GET", "/executions?" + query)
    assert_bad_request(status, body, "query." + query.split("=")[0])
