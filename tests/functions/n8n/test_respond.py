"""Respond to Webhook v1/v1.1 (functions/n8n/respond.py): items through, the answer on the
`response` port in n8n v1.3's shape."""

from __future__ import annotations

from typing import Any

import pytest

from functions.n8n import NodeCall, NodeOperationError, run_node

ITEMS = [{"json": {"a": 1}, "pairedItem": {"item": 0}}, {"json": {"a": 2},
                                                          "pairedItem": {"item": 1}}]


def respond(parameters: dict[str, Any], items: list[Any] = ITEMS) -> tuple[list[Any], Any]:
    passed, (answer,) = run_node("n8n-nodes-base.respondToWebhook",
                                 NodeCall("R", 1.1, parameters, [items]))
    return passed, answer["json"]["response"]


@pytest.mark.parametrize(("parameters", "body"), [
    ({}, {"a": 1}),
    ({"respondWith": "allIncomingItems"}, [{"a": 1}, {"a": 2}]),
    ({"respondWith": "allIncomingItems", "options": {"responseKey": "data.list"}},
     {"data": {"list": [{"a": 1}, {"a": 2}]}}),
    ({"respondWith": "json", "responseBody": '{"ok": true}'}, {"ok": True}),
    ({"respondWith": "json", "responseBody": {"ok": 1}}, {"ok": 1}),
    ({"respondWith": "text", "responseBody": "<b>hi</b>"}, "<b>hi</b>"),
    ({"respondWith": "noData"}, None),
], ids=["first item (default)", "all items", "all under a key", "json text", "json object",
        "text", "no data"])
def test_bodies(parameters: dict[str, Any], body: Any) -> None:
    passed, answer = respond(parameters)
    assert passed == ITEMS
    assert answer == {"body": body, "headers": {}, "statusCode": 200}


def test_code_and_lower_cased_headers() -> None:
    _, answer = respond({"options": {"responseCode": 418, "responseHeaders": {"entries": [
        {"name": "X-Trace", "value": 7}]}}})
    assert answer["statusCode"] == 418 and answer["headers"] == {"x-trace": "7"}


def test_invalid_json_body_is_n8ns_error() -> None:
    with pytest.raises(NodeOperationError, match="Invalid JSON in 'Response Body' field"):
        respond({"respondWith": "json", "responseBody": "{nope"})
