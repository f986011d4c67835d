"""Single-node cases whose expected outputs were recorded from n8n's real engine.

``peer_cases.json`` holds each case (node type, typeVersion, parameters, node flags,
literal input items) and what n8n 1.123 produced for it: every output port's items (json
and pairedItem) or the error message. ``record_peer_cases.py`` re-records them with the
n8n peer harness; this test only reads the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.errors import NodeError
from functions.n8n import NODES, NodeCall
from functions.n8n.flags import run_with_flags
from tests.functions.n8n.support import fake_evaluator, strip_paired, to_equal

CASES = json.loads(Path(__file__).with_name("peer_cases.json").read_text())


def _run(case: dict) -> list[list[dict]]:
    inputs = [
        [{"json": row, "pairedItem": {"item": 0}} for row in items] for items in case["inputs"]
    ]
    call = NodeCall(
        node=case["id"],
        type_version=float(case["typeVersion"]),
        parameters=case["parameters"],
        inputs=inputs,
        evaluate=fake_evaluator(inputs[0]),
    )
    return run_with_flags(NODES[case["type"]], call, case.get("flags", {}))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_node_matches_n8n(case: dict) -> None:
    if "divergence" in case:
        pytest.xfail(f"follows n8n's newer tests: {case['divergence']}")
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(NodeError) as caught:
            _run(case)
        if not expected["error"].startswith("Cannot read properties"):  # n8n's own crash
            assert expected["error"] in str(caught.value)
        return
    outputs = _run(case)
    want = [[{"json": it["json"]} for it in port] for port in expected["outputs"]]
    got = [strip_paired(port) for port in outputs]
    # n8n's runData keeps only the ports it filled; trailing empty ports may be absent
    while len(got) > len(want) and not got[-1]:
        got.pop()
    assert to_equal(got, want), f"got {json.dumps(got)}\nwant {json.dumps(want)}"


@pytest.mark.parametrize(
    "case", [c for c in CASES if "outputs" in c["expected"]], ids=lambda c: c["id"]
)
def test_paired_items_match_n8n(case: dict) -> None:
    outputs = _run(case)
    want = [[it["pairedItem"] for it in port] for port in case["expected"]["outputs"]]
    got = [[it.get("pairedItem") for it in port] for port in outputs][: len(want)]
    assert got == want
