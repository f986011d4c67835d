"""Crypto v1 (functions.n8n.crypto): digests recorded on n8n 1.123's engine
(``peer_crypto.json``, ``record_peer_crypto.py``), random
strings checked by shape with a fixed byte source, and one run through the node runner."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functions.n8n import NodeCall, NodeParameterError, run_node
from functions.n8n.crypto import run as run_crypto
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.functions.nodes.test_n8n import event

CRYPTO = "n8n-nodes-base.crypto"
CASES: dict[str, Any] = json.loads((Path(__file__).parent / "peer_crypto.json").read_text("utf-8"))
ITEMS = [{"s": "héllo", "k": {"x": 1}}, {"s": "b", "k": {}}]


def evaluate(expression: str, index: int) -> Any:
    """The only expression the recorded cases use: ``$json.s``."""
    assert expression == "={{ $json.s }}"
    return ITEMS[index]["s"]


def call(parameters: dict[str, Any], **extra: Any) -> NodeCall:
    return NodeCall(node="C", type_version=1, parameters=parameters,
                    inputs=[[{"json": item} for item in ITEMS]], evaluate=evaluate, **extra)


@pytest.mark.parametrize("name", list(CASES))
def test_digests_are_n8ns(name: str) -> None:
    items = run_node(CRYPTO, call(CASES[name]["parameters"]))[0]
    assert [item["json"] for item in items] == CASES[name]["items"][0]
    assert [item["pairedItem"] for item in items] == [{"item": 0}, {"item": 1}]


def fixed(byte: int) -> Callable[[int], bytes]:
    return lambda count: bytes([byte]) * count


@pytest.mark.parametrize(("parameters", "pattern"), [
    ({}, r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
    ({"encodingType": "hex", "stringLength": 5}, r"[0-9a-f]{5}"),
    ({"encodingType": "base64", "stringLength": 7}, r"\w{1,7}"),
    ({"encodingType": "ascii", "stringLength": 4}, r"[\x00-\x7f]{4}"),
])
def test_generate_makes_n8ns_shapes(parameters: dict[str, Any], pattern: str) -> None:
    for byte in (0x00, 0xFB, 0xFF):
        items = run_crypto(call({"action": "generate", **parameters}), random_bytes=fixed(byte))
        assert all(re.fullmatch(pattern, item["json"]["data"]) for item in items[0])
    assert run_crypto(call({"action": "generate", "encodingType": "hex", "stringLength": 4}),
                      random_bytes=fixed(0xAB))[0][0]["json"]["data"] == "abab"


def test_generated_uuids_differ_per_item() -> None:
    items = run_node(CRYPTO, call({"action": "generate"}))[0]
    assert items[0]["json"]["data"] != items[1]["json"]["data"]


@pytest.mark.parametrize(("parameters", "field"), [
    ({"action": "sign"}, "action"), ({"type": "SHA1"}, "type"),
    ({"binaryData": True}, "binaryData"), ({"encoding": "latin1"}, "encoding")])
def test_what_sfnflow_cannot_do_is_refused_by_field(parameters: dict[str, Any],
                                                     field: str) -> None:
    with pytest.raises(NodeParameterError) as caught:
        run_node(CRYPTO, call(parameters))
    assert caught.value.parameter == field


def test_continue_on_fail_gives_the_error_per_item() -> None:
    items = run_node(CRYPTO, call({"type": "SHA1"}, continue_on_fail=True))[0]
    assert [sorted(item["json"]) for item in items] == [["error"], ["error"]]


def test_the_runner_hashes_with_an_expression(cloud: LocalCloud) -> None:
    parameters = {"action": "hmac", "type": "SHA256", "value": "={{ $json.s }}",
                  "secret": "key"}
    result = NodeRunner(cloud.repository).run(event(CRYPTO, "C", parameters, ITEMS))
    assert [item["json"] for item in result["ports"][0]["items"]] == \
        CASES["hmac_sha256"]["items"][0]
