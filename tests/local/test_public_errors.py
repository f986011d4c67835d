"""What public callers see of a failed execution (``functions.services.public_errors``):
a webhook with ``responseMode: lastNode`` and ``?wait=true`` answer with the error's type
and a safe message — the author's ``stopAndError`` text, or a fixed sentence — never the
runtime's report, stack trace or server paths (issue 11). Over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from functions.services.public_errors import fixed_message
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
INTERNALS = ("Traceback", "stackTrace", "/work", ".py", "line ", "File ", "ValueError",
             "do-not-show")


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def deploy(platform: LocalPlatform, name: str, failing: dict[str, Any]) -> None:
    document = {"name": name, "nodes": [
        {"name": "Hook", "type": "webhook",
         "parameters": {"path": name, "responseMode": "lastNode"}},
        {"name": "Fail", **failing}], "connections": [{"from": "Hook", "to": "Fail"}]}
    created = requests.post(platform.url + "/workflows", json=document,
                            headers={"x-api-key": KEY}, timeout=30)
    assert created.status_code == 201, created.text


def assert_no_internals(text: str) -> None:
    assert [word for word in INTERNALS if word in text] == []


RAISES = {"type": "code",
          "parameters": {"code": "raise ValueError('do-not-show /etc/passwd')"}}


def test_a_failing_last_node_webhook_shows_the_type_not_the_trace(
        platform: LocalPlatform) -> None:
    deploy(platform, "boom", RAISES)
    response = requests.post(platform.url + "/webhook/boom", json={"a": 1}, timeout=30)
    assert response.status_code == 500
    assert_no_internals(response.text)
    assert response.json()["error"] == {"type": "Sfnflow.CodeError",
                                        "message": fixed_message("Sfnflow.CodeError")}


def test_a_failed_wait_true_start_shows_the_type_not_the_trace(
        platform: LocalPlatform) -> None:
    deploy(platform, "boom", RAISES)
    response = requests.post(platform.url + "/workflows/boom/executions?wait=true",
                             json={}, headers={"x-api-key": KEY}, timeout=30)
    assert response.json()["status"] == "FAILED", response.text
    assert_no_internals(response.text)
    assert response.json()["error"]["type"] == "Sfnflow.CodeError"


@pytest.mark.parametrize("message", ["order {% $json.body.id %} is not known",
                                     "{% 'order ' & $json.body.id & ' is not known' %}"],
                         ids=["native-fail-state", "on-the-runner"])
def test_the_authors_stop_and_error_message_reaches_the_caller(
        platform: LocalPlatform, message: str) -> None:
    deploy(platform, "refuse", {"type": "stopAndError", "parameters": {
        "message": message, "errorType": "Shop.UnknownOrder"}})
    response = requests.post(platform.url + "/webhook/refuse", json={"id": "A7"}, timeout=30)
    assert response.json()["error"] == {"type": "Shop.UnknownOrder",
                                        "message": "order A7 is not known"}, response.text
    assert_no_internals(response.text)
