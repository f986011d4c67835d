"""Record n8n's own outputs for the native cases of ``test_n8n_native.py`` (not a test).

For every case, on every item whose guard holds natively, and on all those items together,
the node runs on n8n's real engine (``../shared/n8n-peer``, installed outside the
repository): one workflow, each (case, items) a testData node feeding a copy of the node.
``peer_n8n_native.json`` keeps each copy's output ports (json and pairedItem); the test
compares the native JSONata's ports with them, so it never needs the peer.

    python -m tests.compiler.lowering.record_peer_n8n_native /path/to/peer
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from compiler.lowering.n8n_native import Built, build
from tests.compiler.lowering.test_n8n_native import CASES, ITEMS, _native, _outputs

FIXTURE = Path(__file__).with_name("peer_n8n_native.json")


def subsets() -> dict[str, tuple[str, float, dict[str, Any], list[int]]]:
    """``"<case> / <items>"`` -> (type, version, parameters, item indexes) to record."""
    chosen: dict[str, tuple[str, float, dict[str, Any], list[int]]] = {}
    for title, type_name, version, parameters in CASES:
        built = build(type_name, version, parameters, _outputs(type_name, version, parameters))
        assert isinstance(built, Built), built
        passing = [i for i, item in enumerate(ITEMS) if _native(built, [item]) is not None]
        for index in passing:
            chosen[f"{title} / {index}"] = (type_name, version, parameters, [index])
        chosen[f"{title} / all"] = (type_name, version, parameters, passing)
    return chosen


def _workflow(chosen: dict[str, tuple[str, float, dict[str, Any], list[int]]]) -> Any:
    nodes: list[dict[str, Any]] = [{"id": "t", "name": "Trigger", "position": [0, 0],
                                    "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                                    "parameters": {}}]
    connections: dict[str, Any] = {"Trigger": {"main": [[]]}}
    for number, (name, (type_name, version, parameters, indexes)) in enumerate(
            chosen.items()):
        source = f"{name} (input)"
        nodes.append({"id": f"d{number}", "name": source, "position": [200, 100 * number],
                      "type": "n8n-nodes-testing.testData", "typeVersion": 1,
                      "parameters": {"data": [ITEMS[i] for i in indexes]}})
        nodes.append({"id": f"n{number}", "name": name, "position": [400, 100 * number],
                      "type": type_name, "typeVersion": version, "parameters": parameters})
        connections["Trigger"]["main"][0].append({"node": source, "type": "main", "index": 0})
        connections[source] = {"main": [[{"node": name, "type": "main", "index": 0}]]}
    return {"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}}


def main(peer: Path) -> None:
    chosen = subsets()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(_workflow(chosen), handle)
    # a file, not a pipe: the harness exits before a pipe drains a large answer
    with tempfile.TemporaryFile("w+") as answer:
        subprocess.run(["node", "run-n8n.js", handle.name, "--full"], cwd=peer, stdout=answer,
                       check=False)
        answer.seek(0)
        result = json.load(answer)
    recorded: dict[str, Any] = {}
    for name, (_type, _version, _parameters, indexes) in chosen.items():
        node = result["nodes"].get(name)
        if node is None or node.get("error"):
            failed = [n for n, v in result["nodes"].items() if v.get("error")]
            raise SystemExit(f"{failed} failed: {result.get('error')}")
        ports = [[{"json": item.get("json"), "pairedItem": item.get("pairedItem")}
                  for item in port] for port in node["items"]]
        recorded[name] = {"items": indexes, "outputs": ports}
    FIXTURE.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
