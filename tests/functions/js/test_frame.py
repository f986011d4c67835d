"""Which nodes a node run's frame carries: the ones its expressions or code name."""

from __future__ import annotations

import json

from functions.js.frame import build, referenced_nodes
from functions.js.run_data import NodeInfo, NodeRunData, TaskData


def data() -> NodeRunData:
    nodes = {name: NodeInfo(name) for name in ("A", "B", "C", "Me")}
    run_data = {name: [TaskData(outputs=[[{"json": {"n": name}}]])] for name in ("A", "B", "C")}
    return NodeRunData(node="Me", input_items=[{"json": {}}], run_data=run_data, nodes=nodes)


def test_literal_references_of_every_syntax_are_found() -> None:
    sources = [
        "={{ $('A').item }}",
        "={{ $node[\"B\"].json }} {{ $items('C', 0) }}",
        "={{ $node.A.json }}",
    ]
    assert referenced_nodes(sources, data()) == {"A", "B", "C"}


def test_a_computed_reference_sends_every_node() -> None:
    assert referenced_nodes(["={{ $(name).first() }}"], data()) == {"A", "B", "C", "Me"}


def test_frame_carries_only_referenced_nodes_and_renumbered_input_lineage() -> None:
    frame = json.loads(build(data(), ["={{ $('B').first().json.n }}"]))
    assert set(frame["nodes"]) == {"B"}
    assert frame["inputItems"] == [{"json": {}, "pairedItem": {"item": 0}}]
    assert frame["zones"]["UTC"] == [[-2208988800000], [0]]
