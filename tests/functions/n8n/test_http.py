"""HTTP Request v3/v4 (functions.n8n.http) through the node runner, against a local server:
outputs and errors recorded on n8n 1.123's engine (``peer_http.json``, ``record_peer_http.py``)
and sfnflow's HTTP error types for Retry/Catch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.errors import (
    ConnectionFailed,
    HttpClientError,
    HttpServerError,
    NodeError,
    NodeTimeout,
    RateLimited,
)
from functions.n8n import NodeCall, NodeOperationError, NodeParameterError
from functions.n8n.http import qs_stringify
from functions.n8n.http import run as run_http
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE
from tests.functions.n8n.http_server import serve
from tests.functions.nodes.test_n8n import event

HTTP = "n8n-nodes-base.httpRequest"
RECORDED_AT = "http://127.0.0.1:18765"
CASES: dict[str, Any] = json.loads((Path(__file__).parent / "peer_http.json").read_text())
ITEMS = [{"n": 1}, {"n": 2}]
VOLATILE_HEADERS = ("date", "server")  # the clock and the Python version serving the case
# n8n's NodeApiError cases: sfnflow raises its own HTTP error types (Retry/Catch match them)
API_ERRORS = {"status_404": HttpClientError, "timeout": NodeTimeout}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def runner() -> Iterator[NodeRunner]:
    """One local cloud for the module: starting one per case would cost ~1 s each."""
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        yield NodeRunner(cloud.repository)


def http_node(runner: NodeRunner, base_url: str, parameters: dict[str, Any],
              version: float = 4.2, **node: Any) -> list[Any]:
    text = json.dumps(parameters).replace(RECORDED_AT, base_url)
    result = runner.run(event(HTTP, "H", json.loads(text), ITEMS, version=version, **node))
    return list(result["ports"][0]["items"])


def steady(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("headers"), dict):
        headers = {k: v for k, v in value["headers"].items() if k not in VOLATILE_HEADERS}
        return {**value, "headers": headers}
    return value


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case["items"]])
def test_outputs_are_n8ns(runner: NodeRunner, base_url: str, name: str) -> None:
    case = CASES[name]
    items = http_node(runner, base_url, case["parameters"], case["version"])
    assert [steady(item["json"]) for item in items] == [steady(v) for v in case["items"][0]]
    per_item = len(items) // len(ITEMS)
    assert [item["pairedItem"] for item in items] == [
        {"item": i} for i in range(len(ITEMS)) for _ in range(per_item)]


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case["error"]])
def test_failures_are_n8ns_messages_or_sfnflows_http_errors(
        runner: NodeRunner, base_url: str, name: str) -> None:
    case = CASES[name]
    expected = API_ERRORS.get(name)
    with pytest.raises(NodeError) as caught:
        http_node(runner, base_url, case["parameters"], case["version"])
    if expected is None:
        assert isinstance(caught.value, NodeOperationError)
        assert str(caught.value) == case["error"]["message"]
    else:
        assert isinstance(caught.value, expected)


@pytest.mark.parametrize(("status", "error", "retryable"), [
    (400, HttpClientError, False), (429, RateLimited, True), (503, HttpServerError, True)])
def test_status_errors_are_sfnflows_types(base_url: str, status: int, error: type,
                                          retryable: bool) -> None:
    call = NodeCall(node="H", type_version=4.2, parameters={"url": f"{base_url}/status/{status}"},
                    inputs=[[{"json": {}}]])
    with pytest.raises(error) as caught:
        run_http(call)
    assert caught.value.retryable is retryable


def test_a_refused_connection_is_retryable() -> None:
    call = NodeCall(node="H", type_version=4, parameters={"url": "http://127.0.0.1:9/"},
                    inputs=[[{"json": {}}]])
    with pytest.raises(ConnectionFailed):
        run_http(call)


def test_continue_on_fail_turns_a_failed_item_into_its_error(runner: NodeRunner,
                                                            base_url: str) -> None:
    items = http_node(runner, base_url, {"url": "={{ $json.n == 1 ? '" + RECORDED_AT +
                                         "/status/404' : '" + RECORDED_AT + "/list' }}"},
                      onError="continueRegularOutput")
    assert items[0]["json"]["error"]["status"] == 404  # n8n's error object (test_http_errors)
    assert [item["json"] for item in items[1:]] == [{"n": 1}, {"n": 2}]
    assert [item["pairedItem"] for item in items] == [{"item": 0}, {"item": 1}, {"item": 1}]


def test_credentials_sfnflow_cannot_send_are_refused_by_parameter() -> None:
    """A service's predefined credential is refused; a generic one needs the node's
    credential (``test_http_credentials.py``)."""
    for authentication, parameter in (("predefinedCredentialType", "authentication"),
                                      ("genericCredentialType", "credentials")):
        call = NodeCall(node="H", type_version=4.2, inputs=[[{"json": {}}]],
                        parameters={"url": "http://x", "authentication": authentication})
        with pytest.raises(NodeParameterError) as caught:
            run_http(call)
        assert caught.value.parameter == parameter


def test_query_strings_encode_like_qs() -> None:
    assert qs_stringify({"a": [1, True], "b": {"c": "x y"}, "d": None}) == [
        "a%5B0%5D=1", "a%5B1%5D=true", "b%5Bc%5D=x%20y"]
