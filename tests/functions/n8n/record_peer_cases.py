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
BATCHES = Path(__file__).with_name("peer_batches.json")
BATCH_INPUT = [{"n": n} for n in range(5)]
CONTEXT_KEYS = ("noItemsLeft", "done", "maxRunIndex", "currentRunIndex")


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


def _run(peer: Path, cases: list[dict[str, Any]], workflow: Any = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(workflow or _workflow(cases), handle)
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
    if node.get("error") and not any(node.get("items") or []):
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


def _loop_workflow(version: float) -> dict[str, Any]:
    """Items -> Loop (batchSize 2) -> Body (records the loop's context) -> Loop; done -> Done."""
    body_values = [
        {"id": key, "name": f"ctx_{key}", "type": "string",
         "value": f'={{{{ $node["Loop"].context["{key}"] }}}}'}
        for key in CONTEXT_KEYS
    ]
    loop_port, done_port = (0, None) if version < 2 else ((0, 1) if version < 3 else (1, 0))

    def node(name: str, type_: str, type_version: float, parameters: dict[str, Any]) -> Any:
        return {"id": name, "name": name, "type": type_, "typeVersion": type_version,
                "position": [0, 0], "parameters": parameters}

    nodes = [
        node("Trigger", "n8n-nodes-base.manualTrigger", 1, {}),
        node("Items", "n8n-nodes-testing.testData", 1, {"data": BATCH_INPUT}),
        node("Loop", "n8n-nodes-base.splitInBatches", version, {"batchSize": 2, "options": {}}),
        node("Body", "n8n-nodes-base.set", 3.3,
             {"assignments": {"assignments": body_values}, "includeOtherFields": True}),
        node("Done", "n8n-nodes-base.noOp", 1, {}),
    ]
    loop_ports: list[list[dict[str, Any]]] = [[], []]
    loop_ports[loop_port].append({"node": "Body", "type": "main", "index": 0})
    if done_port is not None:
        loop_ports[done_port].append({"node": "Done", "type": "main", "index": 0})
    connections = {
        "Trigger": {"main": [[{"node": "Items", "type": "main", "index": 0}]]},
        "Items": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]},
        "Loop": {"main": loop_ports},
        "Body": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]},
    }
    return {"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}}


def record_batches(peer: Path) -> None:
    """Every run of the Loop node (all ports) and of Body, for SplitInBatches v1-v3."""
    recorded = {}
    for version in (1, 2, 3):
        result = _run(peer, [], _loop_workflow(version))
        runs = []
        for name in ("Loop", "Body"):
            data = result["nodes"][name]
            per_run = data.get("perRun") or [data["items"]]
            runs.append([[[it["json"] for it in port] for port in run] for run in per_run])
        recorded[str(version)] = {"loopRuns": runs[0], "bodyRuns": runs[1]}
    BATCHES.write_text(json.dumps({"input": BATCH_INPUT, "versions": recorded}, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    record_batches(Path(sys.argv[1]))
