"""Seeded random workflow documents for property tests of the compiler passes.

Every document has one ``manualTrigger`` (``n0``) from which every node is reachable, and
lists its nodes in shuffled order so that document order (which breaks ties in the
topological order) is not also the construction order.
"""

from __future__ import annotations

import random
from typing import Any

Document = dict[str, Any]


def _document(name: str, rng: random.Random, nodes: list[dict[str, Any]],
              connections: list[dict[str, Any]]) -> Document:
    shuffled = nodes[:]
    rng.shuffle(shuffled)
    return {"name": name, "nodes": shuffled, "connections": connections}


def _trigger_and_noops(size: int) -> list[dict[str, Any]]:
    return [{"name": "n0", "type": "manualTrigger"}] + [
        {"name": f"n{i}", "type": "noOp"} for i in range(1, size)
    ]


def random_dag(rng: random.Random, size: int) -> Document:
    """Any DAG: node ``i`` has 1-3 predecessors among ``n0..n(i-1)``, plus sparse extras."""
    connections = []
    for target in range(1, size):
        count = min(target, rng.choice((1, 1, 1, 2, 2, 3)))
        for source in rng.sample(range(target), count):
            connections.append({"from": f"n{source}", "to": f"n{target}"})
    return _document(f"random-{size}", rng, _trigger_and_noops(size), connections)


def series_parallel_dag(rng: random.Random, size: int) -> Document:
    """A vertex series-parallel DAG behind the trigger, with exactly ``size`` nodes.

    A block of k nodes is one node, a *series* of two blocks (every sink of the first feeds
    every source of the second) or a *parallel* of two blocks (side by side). The trigger
    feeds every source of the top block.
    """
    edges: list[tuple[int, int]] = []
    counter = iter(range(1, size))

    def block(count: int) -> tuple[list[int], list[int]]:
        if count == 1:
            node = next(counter)
            return [node], [node]
        first = rng.randint(1, count - 1)
        sources_a, sinks_a = block(first)
        sources_b, sinks_b = block(count - first)
        if rng.random() < 0.5:
            edges.extend((a, b) for a in sinks_a for b in sources_b)
            return sources_a, sinks_b
        return sources_a + sources_b, sinks_a + sinks_b

    if size > 1:
        sources, _sinks = block(size - 1)
        edges.extend((0, source) for source in sources)
    connections = [{"from": f"n{a}", "to": f"n{b}"} for a, b in edges]
    return _document(f"series-parallel-{size}", rng, _trigger_and_noops(size), connections)


def random_branching_workflow(rng: random.Random, size: int) -> Document:
    """A random DAG of mixed node types: IF/Switch ports, merges, waits, error outputs."""
    nodes: list[dict[str, Any]] = [{"name": "n0", "type": "manualTrigger"}]
    outputs: list[list[str]] = [["main"]]
    connections: list[dict[str, Any]] = []
    for target in range(1, size):
        count = min(target, rng.choice((1, 1, 2, 2, 3)))
        sources = rng.sample(range(target), count)
        kind = rng.choice(("noOp", "set", "if", "switch", "wait", "merge", "code"))
        if kind == "merge" and count < 2:
            kind = "noOp"
        node: dict[str, Any] = {"name": f"n{target}", "type": kind}
        ports = ["main"]
        if kind == "set":
            node["parameters"] = {"values": {"x": "{% $json.x + 1 %}", "label": "=literal"}}
        elif kind == "if":
            node["parameters"] = {"condition": "{% $json.x > " + str(target) + " %}"}
            ports = ["true", "false"]
        elif kind == "switch":
            node["parameters"] = {
                "rules": [{"condition": "{% $json.x < 3 %}", "output": "small"},
                          {"condition": True}],
                "fallbackOutput": "extra",
            }
            ports = ["small", "1", "fallback"]
        elif kind == "wait":
            node["parameters"] = {"seconds": rng.choice((1, "{% $json.delay %}"))}
        elif kind == "merge":
            node["parameters"] = {"numberInputs": count}
        elif kind == "code":
            node["parameters"] = {"code": "return items"}
        if kind != "wait" and rng.random() < 0.25:
            node["onError"] = rng.choice(("continueErrorOutput", "continueRegularOutput"))
            if node["onError"] == "continueErrorOutput":
                ports = ports + ["error"]
        if kind not in ("wait", "merge") and rng.random() < 0.2:
            node["retry"] = {"maxAttempts": rng.randint(1, 5), "jitter": rng.random() < 0.5}
        for number, source in enumerate(sources):
            connection: dict[str, Any] = {"from": f"n{source}", "to": f"n{target}",
                                          "output": rng.choice(outputs[source])}
            if kind == "merge":
                connection["input"] = number
            connections.append(connection)
        nodes.append(node)
        outputs.append(ports)
    return _document(f"branching-{size}", rng, nodes, connections)
