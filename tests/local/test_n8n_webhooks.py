"""n8n's Webhook and Respond to Webhook over real HTTP on loopback (``sfnflow serve``'s
platform): n8n's trigger item, and each response mode answering as n8n does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
BASE = "n8n-nodes-base."


def webhook(path: str, version: float = 2, **parameters: Any) -> dict[str, Any]:
    return {"name": "Hook", "type": BASE + "webhook", "typeVersion": version,
            "webhookId": f"id-{path}", "position": [0, 0],
            "parameters": {"path": path, "httpMethod": "POST", **parameters}}


def n8n(name: str, *nodes: dict[str, Any]) -> dict[str, Any]:
    """An n8n export: the nodes in a chain."""
    connections = {a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
                   for a, b in zip(nodes, nodes[1:], strict=False)}
    return {"name": name, "nodes": list(nodes), "connections": connections,
            "settings": {"executionOrder": "v1"}}


def code(js: str) -> dict[str, Any]:
    return {"name": "Shape", "type": BASE + "code", "typeVersion": 2, "position": [0, 0],
            "parameters": {"jsCode": js}}


RESPOND = {"name": "Respond", "type": BASE + "respondToWebhook", "typeVersion": 1.1,
           "position": [0, 0], "parameters": {
               "respondWith": "json",
               "responseBody": '={{ {"hello": $json.body.name, "via": $json.executionMode} }}',
               "options": {"responseCode": 201, "responseHeaders": {
                   "entries": [{"name": "X-Greeting", "value": "hi"}]}}}}

WORKFLOWS = [
    n8n("echo-item", webhook("echo", responseMode="lastNode"),
        code("return $input.all().map(i => ({json: {item: i.json}}));")),
    n8n("respond", webhook("greet", responseMode="responseNode"), RESPOND),
    n8n("respond-text", webhook("text", 1, responseMode="responseNode"),
        {**RESPOND, "parameters": {"respondWith": "text",
                                   "responseBody": "=plain {{ $json.query.q }}"}}),
    n8n("started", webhook("later", 1.1, responseCode=202)),
    n8n("all-entries", webhook("all", responseMode="lastNode", responseData="allEntries"),
        code("return [{json: {n: 1}}, {json: {n: 2}}];")),
    # an hour-long wait (36 s at the test time scale) after the answer
    n8n("respond-early", webhook("early", responseMode="responseNode"), RESPOND,
        {"name": "Later", "type": "wait", "parameters": {"seconds": 3600}}),
]


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        for document in WORKFLOWS:
            created = requests.post(local_platform.url + "/workflows", json=document,
                                    headers={"x-api-key": KEY}, timeout=30)
            assert created.status_code == 201, created.text
        yield local_platform


def test_the_trigger_item_is_n8ns(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/echo?tag=a", json={"name": "Ada"},
                             timeout=30)
    assert response.status_code == 200, response.text
    item = response.json()["item"]
    assert list(item) == ["headers", "params", "query", "body", "webhookUrl", "executionMode"]
    assert item["body"] == {"name": "Ada"} and item["query"] == {"tag": "a"}
    assert item["params"] == {} and item["executionMode"] == "production"
    assert item["webhookUrl"] == f"{platform.url}/webhook/echo"
    assert item["headers"]["content-type"] == "application/json"


def test_respond_to_webhook_answers_with_its_body_code_and_headers(
        platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/greet", json={"name": "Ada"},
                             timeout=30)
    assert response.status_code == 201, response.text
    assert response.json() == {"hello": "Ada", "via": "production"}
    assert response.headers["x-greeting"] == "hi"


def test_respond_to_webhook_sends_text_as_is(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/text?q=42", json={}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.text == "plain 42"
    assert response.headers["content-type"].startswith("text/html")


def test_on_received_answers_at_once_with_n8ns_message(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/later", json={}, timeout=30)
    assert response.status_code == 202, response.text
    assert response.json() == {"message": "Workflow was started"}


def test_last_node_all_entries_is_every_items_json(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/all", json={}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == [{"n": 1}, {"n": 2}]


def test_the_answer_goes_as_soon_as_respond_to_webhook_ran(platform: LocalPlatform) -> None:
    """As n8n: the execution goes on after the Respond to Webhook node has answered."""
    response = requests.post(f"{platform.url}/webhook/early", json={"name": "Bo"}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json() == {"hello": "Bo", "via": "production"}
    listed = requests.get(f"{platform.url}/executions", params={"workflowId": "respond-early"},
                          headers={"x-api-key": KEY}, timeout=30).json()["items"]
    (execution,) = listed
    assert execution["status"] == "RUNNING"
    cancelled = requests.post(f"{platform.url}/executions/{execution['id']}/cancel",
                              headers={"x-api-key": KEY}, timeout=30)
    assert cancelled.status_code in (200, 202), cancelled.text
