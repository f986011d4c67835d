"""Record expected outputs for ``peer_cases.json`` from n8n's real engine (not a test).

Each case is one node with literal input items. This script builds an n8n workflow per
batch of cases (manual trigger -> one testData node per input -> the node), runs it with
the n8n peer harness (``../shared/n8n-peer``, installed outside the repository), and
writes every case's outputs (json and pairedItem per port) or its error message back into
``peer_cases.json``. The tests only read that file, so they never need the peer.

    python tests/functions/n8n/record_peer_cases.py /path/to/peer   # runs run-n8n.js there
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CASES = Path(__file__).with_name("peer_cases.json")


def _workflow(cases: list[dict[str, Any]]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": "trigger",
            "name": "Trigger",
            "type": "n8n-nodes-base.manualTrigger",
            "typeVersion": 1,
            "position": [0, 0],
            "parameters": {},
        }
    ]
    connections: dict[str, Any] = {"Trigger": {"main": [[]]}}
    for number, case in enumerate(cases):
        target = case["id"]
        node = {
            "id": f"n{number}",
            "name": target,
            "type": case["type"],
            "typeVersion": case["typeVersion"],
            "position": [400, 200 * number],
            "parameters": case["parameters"],
            **case.get("flags", {}),
        }
        nodes.append(node)
        for port, items in enumerate(case["inputs"]):
            source = f"{target} / input {port}"
            nodes.append(
                {
                    "id": f"n{number}i{port}",
                    "name": source,
                    "type": "n8n-nodes-testing.testData",
                    "typeVersion": 1,
                    "position": [200, 200 * number + 50 * port],
                    "parameters": {"data": items},
                }
            )
            connections["Trigger"]["main"][0].append({"node": source, "type": "main", "index": 0})
            connections[source] = {"main": [[{"node": target, "type": "main", "index": port}]]}
    return {"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}}


def _run(peer: Path, cases: list[dict[str, Any]]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(_workflow(cases), handle)
    done = subprocess.run(
        ["node", "run-n8n.js", handle.name, "--full"],
        cwd=peer,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stdout)


def _expected(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    node = result.get("nodes", {}).get(name)
    if node is None:
        return None
    if node.get("error"):
        return {"error": node["error"].get("message")}
    return {
        "outputs": [
            [{"json": it.get("json"), "pairedItem": it.get("pairedItem")} for it in port]
            for port in node["items"]
        ]
    }


def main(peer: Path) -> None:
    cases = json.loads(CASES.read_text())
    todo = list(cases)
    while todo:
        # n8n stops a run at the first failing node: record what ran, then go on without it
        result = _run(peer, todo)
        recorded = []
        for case in todo:
            expected = _expected(result, case["id"])
            if expected is not None:
                case["expected"] = expected
                recorded.append(case)
        if not recorded:
            for case in todo:
                case["expected"] = {"notRun": True}
            break
        todo = [case for case in todo if case not in recorded]
    CASES.write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
