"""Record ``peer_order.json``: small workflows run by n8n's real engine in both execution
orders (not a test).

Each case is a whole n8n workflow (manual trigger, literal items from a testData node, then
the shape under study). This script runs it twice with the n8n peer harness
(``../shared/n8n-peer``, installed outside the repository): once without
``settings.executionOrder`` (n8n's legacy order, "v0") and once with ``"v1"``, and writes,
per order, whether it succeeded, the order the nodes ran in and each node's items (json of
every output port, all runs concatenated). ``test_order_peer.py`` only reads the file.

    python tests/compiler/n8n/record_peer_order.py /path/to/peer   # runs run-n8n.js there
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).with_name("peer_order.json")
BASE = "n8n-nodes-base."
ITEMS = [{"a": 1}, {"a": 2}]


def node(name: str, kind: str, x: int, y: int, **fields: Any) -> dict[str, Any]:
    types = {"trigger": (BASE + "manualTrigger", 1), "data": ("n8n-nodes-testing.testData", 1),
             "set": (BASE + "set", 3.4), "if": (BASE + "if", 1), "merge": (BASE + "merge", 2.1),
             "filter": (BASE + "filter", 1), "noop": (BASE + "noOp", 1),
             "code": (BASE + "code", 2)}
    type_name, version = types[kind]
    return {"id": name, "name": name, "type": type_name, "typeVersion": version,
            "position": [x, y], "parameters": fields.pop("parameters", {}), **fields}


def data(name: str, x: int, y: int, items: list[Any] | None = None) -> dict[str, Any]:
    return node(name, "data", x, y, parameters={"data": ITEMS if items is None else items})


def tag(name: str, x: int, y: int, value: str = "tagged", **flags: Any) -> dict[str, Any]:
    """Set v3.4: adds ``tag`` (a literal or an expression) to each item."""
    assignment = {"id": name, "name": "tag", "value": value, "type": "string"}
    return node(name, "set", x, y, parameters={"assignments": {"assignments": [assignment]},
                                              "options": {}}, **flags)


def above(name: str, limit: int, x: int, y: int) -> dict[str, Any]:
    """IF v1: ``a > limit`` goes to true (output 0), the rest to false (output 1)."""
    condition = {"value1": "={{ $json.a }}", "operation": "larger", "value2": limit}
    return node(name, "if", x, y, parameters={"conditions": {"number": [condition]}})


def merge(name: str, x: int, y: int, **flags: Any) -> dict[str, Any]:
    return node(name, "merge", x, y, **flags)  # v2.1's default mode: append


def links(*edges: tuple[str, int, str, int]) -> dict[str, Any]:
    """n8n's ``connections`` from ``(source, output, target, input)`` edges."""
    connections: dict[str, Any] = {}
    for source, output, target, input_index in edges:
        ports = connections.setdefault(source, {"main": []})["main"]
        while len(ports) <= output:
            ports.append([])
        ports[output].append({"node": target, "type": "main", "index": input_index})
    return connections


START = node("Start", "trigger", 0, 0)
DATA = data("Data", 200, 0)


def case(title: str, nodes: list[dict[str, Any]],
         edges: list[tuple[str, int, str, int]]) -> dict[str, Any]:
    return {"title": title, "workflow": {"nodes": [START, DATA, *nodes],
                                         "connections": links(("Start", 0, "Data", 0),
                                                              *edges)}}


CASES: dict[str, dict[str, Any]] = {
    # A branch that gets no items, one node away from the Merge.
    "empty_branch_through_a_node": case(
        "IF sends every item to false; its true output feeds Tag, then Merge input 1",
        [above("IF", 5, 400, 0), tag("Tag", 600, -100), merge("Merge", 800, 0)],
        [("Data", 0, "IF", 0), ("IF", 0, "Tag", 0), ("Tag", 0, "Merge", 1),
         ("IF", 1, "Merge", 0)]),
    "empty_branch_into_input_0": case(
        "IF's empty true output feeds Merge input 0 directly; false feeds input 1",
        [above("IF", 5, 400, 0), merge("Merge", 800, 0)],
        [("Data", 0, "IF", 0), ("IF", 0, "Merge", 0), ("IF", 1, "Merge", 1)]),
    "empty_branch_into_input_1": case(
        "IF's empty false output feeds Merge input 1 directly; true feeds input 0",
        [above("IF", 0, 400, 0), merge("Merge", 800, 0)],
        [("Data", 0, "IF", 0), ("IF", 0, "Merge", 0), ("IF", 1, "Merge", 1)]),
    "choose_branch_input_2_empty": case(
        "a chooseBranch Merge (output input 1) whose input 2 gets no items",
        [above("IF", 0, 400, 0),
         merge("Merge", 800, 0, parameters={"mode": "chooseBranch", "output": "input1"})],
        [("Data", 0, "IF", 0), ("IF", 0, "Merge", 0), ("IF", 1, "Merge", 1)]),
    "choose_branch_input_1_empty": case(
        "a chooseBranch Merge (output input 2) whose input 1 gets no items",
        [above("IF", 5, 400, 0),
         merge("Merge", 800, 0, parameters={"mode": "chooseBranch", "output": "input2"})],
        [("Data", 0, "IF", 0), ("IF", 0, "Merge", 0), ("IF", 1, "Merge", 1)]),
    "empty_branch_with_always_output_data": case(
        "as empty_branch_into_input_0, the Merge with alwaysOutputData",
        [above("IF", 5, 400, 0), merge("Merge", 800, 0, alwaysOutputData=True)],
        [("Data", 0, "IF", 0), ("IF", 0, "Merge", 0), ("IF", 1, "Merge", 1)]),
    "filter_empties_a_chain": case(
        "a Filter keeps nothing; Tag after it (no Merge anywhere)",
        [node("Filter", "filter", 400, 0, parameters={"conditions": {"number": [
            {"value1": "={{ $json.a }}", "operation": "larger", "value2": 5}]}}),
         tag("Tag", 600, 0)],
        [("Data", 0, "Filter", 0), ("Filter", 0, "Tag", 0)]),
    "unequal_branches": case(
        "Data feeds A -> Merge input 0 and B -> C -> Merge input 1 (every node has items)",
        [tag("A", 400, -100, "a"), tag("B", 400, 100, "b"), tag("C", 600, 100, "c"),
         merge("Merge", 800, 0)],
        [("Data", 0, "A", 0), ("Data", 0, "B", 0), ("B", 0, "C", 0), ("A", 0, "Merge", 0),
         ("C", 0, "Merge", 1)]),
    "equal_branches": case(
        "Data feeds A -> Merge input 0 and B -> Merge input 1 (every node has items)",
        [tag("A", 400, -100, "a"), tag("B", 400, 100, "b"), merge("Merge", 800, 0)],
        [("Data", 0, "A", 0), ("Data", 0, "B", 0), ("A", 0, "Merge", 0),
         ("B", 0, "Merge", 1)]),
    "unconnected_parent": case(
        "Lonely (no input) feeds Merge input 1; Data feeds input 0",
        [tag("Lonely", 400, 200, "lonely"), merge("Merge", 800, 0)],
        [("Data", 0, "Merge", 0), ("Lonely", 0, "Merge", 1)]),
    "sibling_is_executed": case(
        "Data feeds Up -> Probe (reads $('Down').isExecuted) and Down; Up is drawn above",
        [tag("Up", 400, -100, "up"),
         tag("Probe", 600, -100, "={{ $('Down').isExecuted }}"),
         tag("Down", 400, 100, "down")],
        [("Data", 0, "Down", 0), ("Data", 0, "Up", 0), ("Up", 0, "Probe", 0)]),
    "two_sources_one_input": case(
        "IF's true and false outputs both feed Tag (one input), which writes $runIndex",
        [above("IF", 1, 400, 0), tag("Tag", 600, 0, "={{ $runIndex }}")],
        [("Data", 0, "IF", 0), ("IF", 0, "Tag", 0), ("IF", 1, "Tag", 0)]),
    "nested_merges": case(
        "Data -> A -> Inner 0, Data -> B -> C -> Inner 1, Inner -> D -> Outer 1, "
        "Data -> E -> Outer 0",
        [tag("A", 400, -100, "a"), tag("B", 400, 100, "b"), tag("C", 600, 100, "c"),
         merge("Inner", 800, 0), tag("D", 1000, 0, "d"), tag("E", 400, -300, "e"),
         merge("Outer", 1200, 0)],
        [("Data", 0, "A", 0), ("Data", 0, "B", 0), ("B", 0, "C", 0), ("A", 0, "Inner", 0),
         ("C", 0, "Inner", 1), ("Inner", 0, "D", 0), ("D", 0, "Outer", 1),
         ("Data", 0, "E", 0), ("E", 0, "Outer", 0)]),
    "single_chain_with_expressions": case(
        "Data -> IF (half pass) -> Tag reading $('Data').item; nothing order-dependent",
        [above("IF", 1, 400, 0), tag("Tag", 600, 0, "={{ $('Data').item.json.a * 10 }}")],
        [("Data", 0, "IF", 0), ("IF", 0, "Tag", 0)]),
}


def run(peer: Path, workflow: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(workflow, handle)
    done = subprocess.run(["node", "run-n8n.js", handle.name], cwd=peer, capture_output=True,
                          text=True, check=False)
    result = json.loads(done.stdout)
    return {"ok": result["ok"], "error": result.get("error"),
            "order": result["executionOrder"],
            "items": {name: node_run["items"] for name, node_run in result["nodes"].items()}}


def main(peer: Path) -> None:
    recorded = {}
    for name, spec in CASES.items():
        legacy = {"name": name, **spec["workflow"], "settings": {}}
        current = {**legacy, "settings": {"executionOrder": "v1"}}
        recorded[name] = {**spec, "v0": run(peer, legacy), "v1": run(peer, current)}
        print(name, "differs" if recorded[name]["v0"]["items"] !=
              recorded[name]["v1"]["items"] else "same")
    FIXTURE.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
