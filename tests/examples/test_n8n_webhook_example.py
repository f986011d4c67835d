"""examples/n8n-webhook-respond.json (n8n's exported JSON, unchanged) answers over real HTTP
on loopback: a Webhook routed by an IF to one of two Respond to Webhook nodes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.examples.test_examples import EXAMPLES

KEY = "test-key"


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    document = json.loads((EXAMPLES / "n8n-webhook-respond.json").read_text())
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        created = requests.post(local_platform.url + "/workflows", json=document,
                                headers={"x-api-key": KEY}, timeout=30)
        assert created.status_code == 201, created.text
        yield local_platform


def test_a_name_is_greeted_by_the_respond_node(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/greet", json={"name": "Ada"}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json() == {"greeting": "Hello, Ada!", "path": "greet"}
    assert response.headers["x-greeted-by"] == "sfnflow"


def test_without_a_name_the_other_respond_node_answers(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/webhook/greet", json={}, timeout=30)
    assert response.status_code == 422, response.text
    assert response.text == "a name, please"
