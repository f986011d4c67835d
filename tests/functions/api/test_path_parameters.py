"""A node's name is one path segment, whatever it holds: ``/executions/{id}/nodes/Big%3F``
reaches the node ``Big?`` as API Gateway hands it over (percent-decoded), over loopback
against ``sfnflow serve``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from compiler import load_file
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE

KEY = "test-key"
ORDERS = Path(__file__).resolve().parents[3] / "examples" / "orders.yaml"


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


def test_node_names_with_url_characters_are_one_segment(platform: LocalPlatform) -> None:
    headers = {"x-api-key": KEY}
    created = requests.post(f"{platform.url}/workflows", json=load_file(ORDERS),
                            headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    started = requests.post(f"{platform.url}/workflows/orders/executions?wait=true", json={},
                            headers=headers, timeout=60).json()
    assert started["status"] == "SUCCEEDED"
    url = f"{platform.url}/executions/{started['executionId']}/nodes/{quote('Big?', safe='')}"
    deadline = time.monotonic() + 20  # a native node's run is recorded after the status
    while (node := requests.get(url, headers=headers, timeout=30)).status_code == 404 \
            and node.json()["error"]["type"] == "NotFound" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.status_code == 200, node.text
    assert node.json()["items"][0]["node"] == "Big?"
