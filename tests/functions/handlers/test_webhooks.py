"""The public webhook handler's own failures (``functions.handlers.webhooks``): JSON
answers, no exception text, the request id to find the log line by (issue 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.handlers import webhooks


def _event(body: str, *, base64: bool = False) -> dict[str, Any]:
    return {"httpMethod": "POST", "path": "/webhook/orders", "headers": {},
            "body": body, "isBase64Encoded": base64,
            "requestContext": {"requestId": "req-1"}}


class _Exploding:
    def handle(self, request: Any, context: Any) -> Any:
        raise RuntimeError("boom at /srv/app/secret.py line 3")


def test_an_unexpected_failure_is_a_500_with_only_the_request_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "_service", lambda: _Exploding())
    answer = webhooks._handle(_event("{}"), None)
    assert answer["statusCode"] == 500
    assert answer["headers"]["Content-Type"] == "application/json"
    assert "secret" not in answer["body"] and "boom" not in answer["body"]
    assert json.loads(answer["body"])["error"]["details"] == {"requestId": "req-1"}


def test_a_body_flagged_base64_that_is_not_is_a_400(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "_service", lambda: _Exploding())
    answer = webhooks._handle(_event("abc", base64=True), None)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["type"] == "BadRequest"
