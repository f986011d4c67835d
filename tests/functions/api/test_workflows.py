"""``POST /workflows/{id}/executions``: what a caller's input may hold. sfnflow's own keys
of the execution input (``parent``, ``reuse``, ``skip``, ``pinned`` ...) are never the
caller's: a start that set ``parent`` was recorded, when it ended, as a node run of the
execution it named (any execution), and ``reuse`` / ``skip`` steered the runner."""

from __future__ import annotations

from typing import Any

import pytest

from functions.api.dependencies import services
from local.cloud import LocalCloud
from tests.functions.api.test_errors import DOCUMENT, call


@pytest.fixture
def deployed(cloud: LocalCloud) -> LocalCloud:
    services.cache_clear()
    status, _, body = call("POST", "/workflows", DOCUMENT)
    assert status == 201, body
    return cloud


@pytest.mark.parametrize("data", [
    {"parent": {"executionId": "victim", "node": "Evil", "waitForCompletion": False},
     "a": 1},
    {"reuse": {"from": "victim", "nodes": ["Greet"]}, "skip": ["Greet"], "pinned": ["Greet"]},
])
def test_reserved_keys_in_an_input_object_stay_data(deployed: LocalCloud,
                                                    data: dict[str, Any]) -> None:
    status, _, body = call("POST", "/workflows/hello/executions", {"input": data})
    assert status == 202, body
    execution = services().runs.get_execution(body["executionId"])
    assert execution is not None
    assert execution.input == {"items": [data], "mode": "api"}


def test_reserved_keys_beside_items_are_dropped(deployed: LocalCloud) -> None:
    status, _, body = call("POST", "/workflows/hello/executions", {"input": {
        "items": [{"a": 1}], "parent": {"executionId": "victim", "node": "Evil"}}})
    assert status == 202, body
    execution = services().runs.get_execution(body["executionId"])
    assert execution is not None and execution.input == {"items": [{"a": 1}], "mode": "api"}


def test_an_ordinary_object_input_is_unchanged(deployed: LocalCloud) -> None:
    status, _, body = call("POST", "/workflows/hello/executions", {"input": {"a": 1}})
    execution = services().runs.get_execution(body["executionId"])
    assert execution is not None and execution.input == {"a": 1, "mode": "api"}
