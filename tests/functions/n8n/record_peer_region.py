"""Record ``peer_region.json`` from n8n's real engine (not a test): SplitInBatches v1/v2
loops that are cycles of the workflow, each node's every run.

Cases: a v2 loop nested in a v2 loop, the inner one resetting through its own context and
a Set reading both loops' contexts and ``$runIndex``, and a Code node after the loop
reading every run of the body (``$("Body").all(0, i)``); lineage from nodes after two loops
to the items before them (``$('Items').item``); a v1 loop whose IF sends both
branches back to the loop, in v1 order (children by canvas position) and in legacy order.
The tests run the same documents on the embedded cloud and compare run by run.

    python tests/functions/n8n/record_peer_region.py /path/to/peer   # runs run-n8n.js there
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).with_name("peer_region.json")
BASE = "n8n-nodes-base."


def _node(name: str, kind: str, version: float, position: tuple[int, int],
          **parameters: Any) -> dict[str, Any]:
    return {"id": name, "name": name, "type": BASE + kind, "typeVersion": version,
            "position": list(position), "parameters": parameters}


def _links(*pairs: tuple[str, int, str]) -> dict[str, Any]:
    connections: dict[str, Any] = {}
    for source, output, target in pairs:
        ports = connections.setdefault(source, {"main": []})["main"]
        while len(ports) <= output:
            ports.append([])
        ports[output].append({"node": target, "type": "main", "index": 0})
    return connections


def _if(name: str, left: str, position: tuple[int, int]) -> dict[str, Any]:
    return _node(name, "if", 1, position,
                 conditions={"boolean": [{"value1": left, "value2": True}]})


def nested() -> dict[str, Any]:
    """Outer v2 over 2 items; per item a Code makes 3 items; inner v2 (batch 2) resets on
    its own noItemsLeft; Body records both contexts; Result reads Body's every run."""
    set_values = {"number": [
        {"name": "outer", "value": '={{ $node["Outer"].context["currentRunIndex"] }}'},
        {"name": "inner", "value": '={{ $node["Inner"].context["currentRunIndex"] }}'},
        {"name": "run", "value": "={{ $runIndex }}"}]}
    nodes = [
        _node("Start", "manualTrigger", 1, (0, 0)),
        _node("Items", "code", 2, (200, 0), jsCode="return [{json: {k: 'a'}}, {json: {k: 'b'}}];"),
        _node("Outer", "splitInBatches", 2, (400, 0), batchSize=1, options={}),
        _node("Make", "code", 2, (600, 0), jsCode=(
            "return [1, 2, 3].map(n => ({json: {k: $input.first().json.k + n, "
            "run: $runIndex}}));")),
        _node("Inner", "splitInBatches", 2, (800, 0), batchSize=2, options={
            "reset": '={{ $node["Inner"].context["noItemsLeft"] }}'}),
        _node("Body", "set", 1, (1000, 0), values=set_values, options={}),
        _if("Inner done", '={{ $node["Inner"].context["noItemsLeft"] }}', (1200, 0)),
        _node("Result", "code", 2, (800, 300), jsCode=(
            "let all = [], i = 0;\nwhile (true) {\n  try { all = all.concat("
            "$('Body').all(0, i)); } catch (e) { return all; }\n  i++;\n}")),
    ]
    connections = _links(("Start", 0, "Items"), ("Items", 0, "Outer"), ("Outer", 0, "Make"),
                         ("Outer", 1, "Result"), ("Make", 0, "Inner"), ("Inner", 0, "Body"),
                         ("Body", 0, "Inner done"), ("Inner done", 0, "Outer"),
                         ("Inner done", 1, "Inner"))
    return {"name": "nested", "nodes": nodes, "connections": connections, "settings": {}}


def both_branches(order: str) -> dict[str, Any]:
    """v1 loop (batch 2) over 5 items; its IF sends even n to Even, odd n to Odd, both back
    to the loop: the loop node runs once per branch that got items, in the order's order."""
    nodes = [
        _node("Start", "manualTrigger", 1, (0, 0)),
        _node("Items", "code", 2, (200, 0),
              jsCode="return [0, 1, 2, 3, 4].map(n => ({json: {n}}));"),
        _node("Loop", "splitInBatches", 1, (400, 0), batchSize=2, options={}),
        _node("Even?", "if", 2, (600, 0), conditions={
            "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "loose"},
            "conditions": [{"leftValue": "={{ $json.n % 2 }}", "rightValue": 0,
                            "operator": {"type": "number", "operation": "equals"}}],
            "combinator": "and"}, options={}),
        _node("Odd", "set", 1, (800, -200), values={"string": [
            {"name": "seen", "value": "=odd {{ $runIndex }}"}]}, options={}),
        _node("Even", "set", 1, (800, 200), values={"string": [
            {"name": "seen", "value": "=even {{ $runIndex }}"}]}, options={}),
    ]
    connections = _links(("Start", 0, "Items"), ("Items", 0, "Loop"), ("Loop", 0, "Even?"),
                         ("Even?", 0, "Even"), ("Even?", 1, "Odd"), ("Even", 0, "Loop"),
                         ("Odd", 0, "Loop"))
    settings = {"executionOrder": order} if order == "v1" else {}
    return {"name": f"both-branches-{order}", "nodes": nodes, "connections": connections,
            "settings": settings}


def lineage() -> dict[str, Any]:
    """A v2 loop (batch 2) whose done items, and a v1 loop whose IF exit items, are traced
    back to the items before the loop from a node after it (``$('Items').item``)."""
    after = {"string": [{"name": "from", "value": "={{ $('Items').item.json.k }}"}]}
    nodes = [
        _node("Start", "manualTrigger", 1, (0, 0)),
        _node("Items", "code", 2, (200, 0),
              jsCode="return ['x', 'y', 'z'].map(k => ({json: {k}}));"),
        _node("Loop", "splitInBatches", 2, (400, 0), batchSize=2, options={}),
        _node("Body", "set", 1, (600, 0), values={"number": [
            {"name": "run", "value": "={{ $runIndex }}"}]}, options={}),
        _node("After", "set", 1, (600, 300), values=after, options={}),
        _node("Each", "splitInBatches", 1, (400, 600), batchSize=1, options={}),
        _if("Last?", '={{ $node["Each"].context["noItemsLeft"] }}', (600, 600)),
        _node("After each", "set", 1, (800, 600), values=after, options={}),
    ]
    connections = _links(("Start", 0, "Items"), ("Items", 0, "Loop"), ("Loop", 0, "Body"),
                         ("Body", 0, "Loop"), ("Loop", 1, "After"), ("Items", 0, "Each"),
                         ("Each", 0, "Last?"), ("Last?", 0, "After each"),
                         ("Last?", 1, "Each"))
    return {"name": "lineage", "nodes": nodes, "connections": connections,
            "settings": {"executionOrder": "v1"}}


CASES = {"nested": nested, "lineage": lineage, "both_branches_v1": lambda: both_branches("v1"),
         "both_branches_v0": lambda: both_branches("v0")}


def _runs(report: dict[str, Any]) -> dict[str, list[list[list[dict[str, Any]]]]]:
    """Per node, per run, per output port: the items' json."""
    runs: dict[str, list[list[list[dict[str, Any]]]]] = {}
    for name, node in report["nodes"].items():
        runs[name] = node.get("perRun") or [node["items"]]
    return runs


def main(peer: Path) -> None:
    recorded: dict[str, Any] = {}
    for case, build in CASES.items():
        workflow = build()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(workflow, handle)
        output = subprocess.run(["node", str(peer / "run-n8n.js"), handle.name], check=True,
                                capture_output=True, text=True, timeout=120).stdout
        report = json.loads(output)
        assert report["ok"], report.get("error")
        recorded[case] = {"workflow": workflow, "order": report["executionOrder"],
                          "runs": _runs(report)}
    RECORDED.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
