"""HTTP Request with continueOnFail: a failed item is n8n's error item, recorded on n8n
1.123's engine (``peer_http_errors.json``, ``record_peer_http_errors.py``; n8n's JavaScript
``stack`` is left out), against the same local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.errors import HttpClientError
from functions.n8n import NodeCall
from functions.n8n.http import run as run_http
from tests.functions.n8n.http_server import serve

RECORDED_AT = "http://127.0.0.1:18765"
CASES: dict[str, Any] = json.loads((Path(__file__).parent / "peer_http_errors.json")
                                   .read_text())
CONTINUE_ON_FAIL = [name for name, case in CASES.items() if case["flags"].get("continueOnFail")]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def call(case: dict[str, Any], base_url: str, **extra: Any) -> NodeCall:
    parameters = json.loads(json.dumps(case["parameters"]).replace(RECORDED_AT, base_url))
    return NodeCall(node="H", type_version=case["version"],
                    parameters={"options": {}, **parameters},
                    inputs=[[{"json": {"n": 1}}]], **extra)


@pytest.mark.parametrize("name", CONTINUE_ON_FAIL)
def test_a_failed_item_is_n8ns_error_item(name: str, base_url: str) -> None:
    items = run_http(call(CASES[name], base_url, continue_on_fail=True))[0]
    assert [item["json"] for item in items] == CASES[name]["items"][0]
    assert [item["pairedItem"] for item in items] == [{"item": 0}]


def test_without_continue_on_fail_the_error_keeps_sfnflows_type(base_url: str) -> None:
    with pytest.raises(HttpClientError, match="returned 404"):
        run_http(call(CASES["status_404"], base_url))
