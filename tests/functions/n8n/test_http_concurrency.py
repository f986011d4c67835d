"""n8n's HTTP Request sends its items' requests side by side (n8n 1.123 starts them all
before awaiting any; ``options.batching.batch`` spaces the starts): the loopback server
answers only requests that are in flight together (tests.support.meeting_server)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.errors import HttpServerError
from functions.n8n import NodeCall
from functions.n8n.http import batching
from functions.n8n.http import run as run_http
from tests.support.meeting_server import meeting_server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with meeting_server() as url:
        yield url


def _call(urls: Callable[[int], str], count: int, options: dict[str, Any] | None = None,
          continue_on_fail: bool = False) -> NodeCall:
    return NodeCall(node="H", type_version=4.2,
                    parameters={"url": "={{ url }}", "options": options or {}},
                    inputs=[[{"json": {"n": i}} for i in range(count)]],
                    evaluate=lambda _expression, index: urls(index),
                    continue_on_fail=continue_on_fail)


def test_items_are_requested_side_by_side_and_answer_in_item_order(base_url: str) -> None:
    [out] = run_http(_call(lambda i: f"{base_url}/together/4?i={i}", 4))
    assert [item["json"] for item in out] == [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]
    assert [item["pairedItem"] for item in out] == [{"item": i} for i in range(4)]


def test_batches_start_an_interval_apart_and_run_side_by_side(base_url: str) -> None:
    options = {"batching": {"batch": {"batchSize": 2, "batchInterval": 30}}}
    started = time.monotonic()
    [out] = run_http(_call(lambda i: f"{base_url}/together/2?i={i}", 4, options))
    assert time.monotonic() - started >= 0.03  # the second batch waited its interval
    assert [item["json"]["i"] for item in out] == [0, 1, 2, 3]


def test_continue_on_fail_gives_each_item_its_own_outcome(base_url: str) -> None:
    def url(i: int) -> str:
        return f"{base_url}/fail?i={i}" if i == 1 else f"{base_url}/together/2?i={i}"

    [out] = run_http(_call(url, 3, continue_on_fail=True))
    assert out[0]["json"] == {"i": 0} and out[2]["json"] == {"i": 2}
    assert out[1]["json"]["error"]["status"] == 500
    assert [item["pairedItem"] for item in out] == [{"item": i} for i in range(3)]


def test_the_first_failing_item_in_item_order_fails_the_node(base_url: str) -> None:
    with pytest.raises(HttpServerError, match=r"fail\?i=1 returned 500"):
        run_http(_call(lambda i: f"{base_url}/fail?i={i}" if i else f"{base_url}/fail0?i=0",
                       5))


@pytest.mark.parametrize(("batch", "expected"), [
    ({}, (1, 0.0)),
    ({"batchSize": 50, "batchInterval": 1000}, (50, 1.0)),
    ({"batchSize": 0, "batchInterval": 250}, (1, 0.25)),  # n8n: 0 (and -1) count as 1
    ({"batchSize": -1, "batchInterval": 0}, (1, 0.0)),
])
def test_batching_is_read_as_n8n_reads_it(batch: dict[str, Any],
                                          expected: tuple[int, float]) -> None:
    call = NodeCall(node="H", type_version=4.2, inputs=[[{"json": {}}]],
                    parameters={"url": "http://x", "options": {"batching": {"batch": batch}}})
    assert batching(call) == expected
