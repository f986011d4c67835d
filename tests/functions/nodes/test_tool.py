"""The tool node with an HTTP tool on loopback: input and output checked against the
tool's schemas, timeouts and the retry classes of its errors."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from functions.ai.errors import ToolInputInvalid, ToolOutputInvalid, ToolTimeout
from functions.errors import HttpServerError
from tests.support.fake_model import FakeModel, fake_model

from .support import run

ORDER_IN = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
ORDER_OUT = {"type": "object", "properties": {"status": {"enum": ["open", "shipped"]}},
             "required": ["status"]}


def tool(server: FakeModel, path: str = "/orders", **extra: Any) -> dict[str, Any]:
    return {"name": "order_status", "http": {"url": server.url + path},
            "inputSchema": ORDER_IN, "outputSchema": ORDER_OUT, **extra}


def call(server: FakeModel, items: list[dict[str, Any]], sleeps: list[float] | None = None,
         **params: Any) -> list[Any]:
    [out] = run("tool", {"tool": tool(server), **params}, items,
                extras={"sleep": (sleeps if sleeps is not None else []).append})
    return out


def test_calls_the_tool_per_item_with_checked_input_and_output() -> None:
    with fake_model(routes={"POST /orders": lambda body: (200, {"status": "open",
                                                                "id": body["id"]})}) as server:
        out = call(server, [{"id": 1}, {"id": 2}])
    assert out == [{"output": {"status": "open", "id": 1}},
                   {"output": {"status": "open", "id": 2}}]
    assert [r.body for r in server.requests] == [{"id": 1}, {"id": 2}]


def test_input_from_an_expression_and_get_sends_a_query() -> None:
    with fake_model(routes={"GET /orders": lambda query: (200, {"status": "shipped",
                                                                "got": query})}) as server:
        [out] = run("tool", {"tool": tool(server, http={"url": server.url + "/orders",
                                                       "method": "GET"}),
                             "input": {"id": "{% $json.orderId %}"}}, [{"orderId": 7}])
    assert out == [{"output": {"status": "shipped", "got": {"id": "7"}}}]


def test_input_that_breaks_the_schema_is_never_sent() -> None:
    with fake_model() as server, \
            pytest.raises(ToolInputInvalid, match=r"\$.id: 'seven' is not of type") as caught:
        call(server, [{"id": "seven"}])
    assert not caught.value.retryable and caught.value.error_type == "Sfnflow.ToolInputInvalid"
    assert server.requests == []


def test_output_that_breaks_the_schema() -> None:
    with fake_model(routes={"POST /orders": lambda _b: (200, {"status": "lost"})}) as server, \
            pytest.raises(ToolOutputInvalid, match=r"\$.status: 'lost' is not one of"):
        call(server, [{"id": 1}])


def test_a_server_error_is_retried_in_the_node_then_typed() -> None:
    with fake_model(routes={"POST /orders": lambda _b: (503, {"error": "down"})}) as server:
        sleeps: list[float] = []
        with pytest.raises(HttpServerError, match="order_status.*503") as caught:
            call(server, [{"id": 1}], sleeps, retries=2)
    assert caught.value.retryable and sleeps == [0.5, 1.0] and len(server.requests) == 3


def test_a_tool_that_does_not_answer_in_time() -> None:
    release = threading.Event()

    def slow(_body: Any) -> tuple[int, Any]:
        release.wait(5)
        return 200, {"status": "open"}

    with fake_model(routes={"POST /orders": slow}) as server:
        try:
            with pytest.raises(ToolTimeout, match="order_status") as caught:
                run("tool", {"tool": tool(server, timeoutSeconds=0.2)}, [{"id": 1}])
        finally:
            release.set()
    assert caught.value.error_type == "Sfnflow.Timeout" and caught.value.retryable
