"""SplitInBatches v1/v2 cycles contracted into one region node (``compiler.n8n.cycles``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.n8n.catalogue import REGION_TYPE
from compiler.passes.validate import validate

BASE = "n8n-nodes-base."


def _node(name: str, kind: str = "noOp", version: float = 1, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": BASE + kind, "typeVersion": version, "parameters": {},
            "position": [0, 0], **extra}


def _document(nodes: list[dict[str, Any]], *links: tuple[str, int, str],
              **extra: Any) -> dict[str, Any]:
    connections: dict[str, Any] = {}
    for source, output, target in links:
        ports = connections.setdefault(source, {"main": []})["main"]
        while len(ports) <= output:
            ports.append([])
        ports[output].append({"node": target, "type": "main", "index": 0})
    start = _node("Start", "manualTrigger")
    return {"name": "loops", "nodes": [start, *nodes], "connections": connections, **extra}


def _loop(version: float = 2, **extra: Any) -> dict[str, Any]:
    """Start -> Loop (v2: loop, done) -> Body -> back; done -> After."""
    return _document([_node("Loop", "splitInBatches", version, **extra), _node("Body"),
                      _node("After")],
                     ("Start", 0, "Loop"), ("Loop", 0, "Body"), ("Body", 0, "Loop"),
                     ("Loop", 1, "After"))


def test_a_v2_cycle_becomes_one_region_node_with_its_ports() -> None:
    graph = validate(_loop())
    names = [node.name for node in graph.nodes]
    assert names == ["Start", "Loop (n8n loop)", "After"]
    region = graph.nodes[1]
    assert region.type == REGION_TYPE and graph.outputs[1] == ["Loop:done"]
    parameters = region.parameters
    assert [member["name"] for member in parameters["nodes"]] == ["Loop", "Body"]
    assert parameters["entries"] == [{"node": "Loop", "input": 0}]
    assert parameters["exits"] == [{"node": "Loop", "output": 1, "name": "Loop:done"}]
    assert parameters["links"] == [{"from": "Loop", "output": 0, "to": "Body", "input": 0},
                                   {"from": "Body", "output": 0, "to": "Loop", "input": 0}]
    assert parameters["connections"]["Loop"]["main"][1] == [
        {"node": "After", "type": "main", "index": 0}]  # the document's, for lineage
    assert [(graph.name(e.source), e.output, graph.name(e.target)) for e in graph.edges] == [
        ("Start", 0, "Loop (n8n loop)"), ("Loop (n8n loop)", 0, "After")]


def test_the_region_is_one_runner_task_and_its_members_keep_their_document() -> None:
    compiled = compile_workflow(_loop(executeOnce=True))
    state = compiled.definition["States"]["Loop (n8n loop)"]
    assert state["Type"] == "Task"
    node = state["Arguments"]["node"]
    assert node["type"] == REGION_TYPE and node["outputs"] == ["Loop:done"]
    members = json.loads(node["parameters"])["nodes"]
    assert members[0]["executeOnce"] is True and members[0]["outputs"] == ["loop", "done"]


def test_loop_over_items_v3_stays_a_map() -> None:
    document = _document([_node("Loop", "splitInBatches", 3), _node("Body")],
                         ("Start", 0, "Loop"), ("Loop", 1, "Body"), ("Body", 0, "Loop"))
    assert compile_workflow(document).definition["States"]["Loop"]["Type"] == "Map"


def test_nested_loops_are_one_region_and_separate_loops_two() -> None:
    nested = _document(
        [_node("Outer", "splitInBatches", 2), _node("Inner", "splitInBatches", 1),
         _node("Body"), _node("Done?", "if")],
        ("Start", 0, "Outer"), ("Outer", 0, "Inner"), ("Inner", 0, "Body"),
        ("Body", 0, "Done?"), ("Done?", 0, "Outer"), ("Done?", 1, "Inner"))
    assert [n.name for n in validate(nested).nodes] == ["Start", "Outer (n8n loop)"]
    chained = _document(
        [_node("A", "splitInBatches", 2), _node("BodyA"), _node("B", "splitInBatches", 2),
         _node("BodyB")],
        ("Start", 0, "A"), ("A", 0, "BodyA"), ("BodyA", 0, "A"), ("A", 1, "B"),
        ("B", 0, "BodyB"), ("BodyB", 0, "B"))
    graph = validate(chained)
    assert [n.name for n in graph.nodes] == ["Start", "A (n8n loop)", "B (n8n loop)"]
    assert [(graph.name(e.source), e.output, graph.name(e.target), e.input)
            for e in graph.edges][1] == ("A (n8n loop)", 0, "B (n8n loop)", 0)


def _problems(document: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        validate(document)
    return [(p.node, p.field, p.message) for p in caught.value.problems]


def test_members_are_checked_like_any_node_and_what_a_region_cannot_run_is_refused() -> None:
    document = _loop()
    document["nodes"][2]["typeVersion"] = 9  # Body: a noOp version that does not exist
    merge = _node("Merge", "merge", 2)
    document["nodes"].append(merge)
    document["connections"]["Body"] = {"main": [[{"node": "Merge", "type": "main",
                                                   "index": 0}]]}
    document["connections"]["Merge"] = {"main": [[{"node": "Loop", "type": "main",
                                                   "index": 0}]]}
    found = _problems(document)
    assert ("Body", "typeVersion") in [(node, field) for node, field, _ in found]
    assert any(node == "Merge" and "several inputs" in message
               for node, _field, message in found)


def test_a_retry_policy_inside_the_loop_is_refused_naming_the_node() -> None:
    document = _loop()
    document["nodes"][2].update(retryOnFail=True, maxTries=2)
    assert [(node, field) for node, field, _ in _problems(document)] == [
        ("Body", "connections")]


def test_the_region_type_is_not_for_documents() -> None:
    document = _document([{"name": "Mine", "type": REGION_TYPE, "typeVersion": 1,
                           "parameters": {}}], ("Start", 0, "Mine"))
    assert [(node, field) for node, field, _ in _problems(document)] == [("Mine", "type")]


def test_pins_of_nodes_inside_a_loop_are_kept() -> None:
    document = _loop(pinData={})
    document.pop("pinData", None)
    document["pinData"] = {"Body": [{"json": {"a": 1}}]}
    assert validate(document).workflow.pinData["Body"] == [{"a": 1}]
