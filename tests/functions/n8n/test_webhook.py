"""n8n's webhook answers (functions/n8n/webhook.py), per response mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from functions.n8n.webhook import (
    RESPOND_TO_WEBHOOK,
    from_response,
    last_node,
    on_received,
    recorded_response,
    trigger_item,
)


def test_trigger_item_is_n8ns_in_n8ns_order() -> None:
    item = trigger_item({"a": "1"}, {"q": "x"}, None, "https://h/webhook/p")
    assert item == {"headers": {"a": "1"}, "params": {}, "query": {"q": "x"}, "body": {},
                    "webhookUrl": "https://h/webhook/p", "executionMode": "production"}


def test_on_received() -> None:
    assert on_received({"responseCode": 202}).body == {"message": "Workflow was started"}
    assert on_received({"responseCode": 202}).status == 202
    text = on_received({"responseData": "ok"})
    assert (text.status, text.body, text.text) == (200, "ok", True)
    assert on_received({"responseData": "noData"}).empty


def test_last_node() -> None:
    items = [{"json": {"a": {"b": 1}}}, {"json": {"a": 2}}]
    assert last_node({}, items).body == {"a": {"b": 1}}
    assert last_node({"responsePropertyName": "a.b"}, items).body == 1
    assert last_node({"responseData": "allEntries"}, items).body == [{"a": {"b": 1}},
                                                                    {"a": 2}]
    assert last_node({"responseData": "noData"}, items).empty
    assert last_node({}, []).status == 500


@dataclass
class Run:
    node_type: str
    output: Any
    started_at: str
    status: str = "success"
    run_index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def test_the_first_respond_node_that_ran_answers() -> None:
    def answer(code: int) -> list[Any]:
        return [[], [{"json": {"response": {"body": code, "headers": {}, "statusCode": code}}}]]

    runs = [Run(RESPOND_TO_WEBHOOK, answer(202), "2026-01-01T00:00:02"),
            Run("n8n-nodes-base.noOp", [[]], "2026-01-01T00:00:00"),
            Run(RESPOND_TO_WEBHOOK, answer(201), "2026-01-01T00:00:01")]
    assert recorded_response(runs) == {"body": 201, "headers": {}, "statusCode": 201}
    assert recorded_response(runs[1:2]) is None
    assert from_response(None).body == {"message": "Workflow executed successfully"}
    text = from_response({"body": "hi", "headers": {"x-a": "1"}, "statusCode": 203})
    assert (text.status, text.body, text.text, text.headers) == (203, "hi", True, {"x-a": "1"})
    assert from_response({"body": None, "headers": {}, "statusCode": 204}).empty
