"""httpRequest's ``concurrency``: items' requests in flight together (the loopback server
answers only requests that are: tests.support.meeting_server), output in item order, the
first failing item's error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions.errors import HttpServerError
from tests.support.meeting_server import meeting_server

from .support import run


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with meeting_server() as url:
        yield url


def _url(base_url: str, path: str) -> str:
    return "{% '" + base_url + path + "?i=' & $string($json.i) %}"


def test_concurrent_items_are_in_flight_together_and_keep_their_order(base_url: str) -> None:
    [out] = run("httpRequest", {"url": _url(base_url, "/together/4"), "concurrency": 4},
                [{"i": i} for i in range(4)])
    assert out == [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]


def test_a_failure_is_the_first_failing_items(base_url: str) -> None:
    url = "{% $json.i = 0 ? '" + base_url + "/ok?i=0' : '" + base_url + \
        "/fail?i=' & $string($json.i) %}"
    with pytest.raises(HttpServerError, match=r"fail\?i=1 returned 500"):
        run("httpRequest", {"url": url, "concurrency": 3}, [{"i": i} for i in range(5)])


@pytest.mark.parametrize("concurrency", [0, 11])
def test_concurrency_is_bounded(concurrency: int) -> None:
    document = {"name": "c", "nodes": [
        {"name": "T", "type": "manualTrigger"},
        {"name": "H", "type": "httpRequest",
         "parameters": {"url": "http://x", "concurrency": concurrency}}],
        "connections": [{"from": "T", "to": "H"}]}
    with pytest.raises(WorkflowInvalid, match="concurrency"):
        compile_workflow(document)
