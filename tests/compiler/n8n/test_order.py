"""``compiler.n8n.order`` on tiny graphs: which legacy documents it refuses, and where."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.errors import Problem
from compiler.n8n.order import FIELD, legacy_order_problems

BASE = "n8n-nodes-base."
KINDS = {"trigger": "manualTrigger", "set": "set", "if": "if", "merge": "merge",
         "code": "code", "webhook": "webhook"}


def node(name: str, kind: str = "set", **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": BASE + KINDS[kind], "typeVersion": 1, "position": [0, 0],
            "parameters": fields.pop("parameters", {}), **fields}


def n8n(nodes: list[dict[str, Any]], *edges: str, **settings: Any) -> dict[str, Any]:
    """Edges as ``"A.0 > B.1"`` (source output > target input; ``"A > B"`` is port 0)."""
    connections: dict[str, Any] = {}
    for edge in edges:
        source, target = (part.strip() for part in edge.split(">"))
        source_name, _, output = source.partition(".")
        target_name, _, index = target.partition(".")
        ports = connections.setdefault(source_name, {"main": []})["main"]
        while len(ports) <= int(output or 0):
            ports.append([])
        ports[int(output or 0)].append({"node": target_name, "type": "main",
                                        "index": int(index or 0)})
    return {"nodes": [node("Start", "trigger"), *nodes], "connections": connections,
            "settings": settings}


def where(problems: list[Problem]) -> list[tuple[str | None, str]]:
    return sorted((problem.node, problem.field) for problem in problems)


IF_TAG_MERGE = n8n([node("IF", "if"), node("Tag"), node("Merge", "merge")],
                   "Start > IF", "IF.0 > Tag", "Tag > Merge.1", "IF.1 > Merge.0")


def test_a_branch_that_may_get_no_items_into_a_merge_is_refused_naming_both() -> None:
    problems = legacy_order_problems(IF_TAG_MERGE)
    assert where(problems) == [("Merge", FIELD)]
    assert problems[0].message.startswith("'Tag' may get no items")
    assert 'settings.executionOrder: "v1"' in problems[0].message


def test_the_same_graph_in_v1_order_is_not_checked() -> None:
    assert legacy_order_problems({**IF_TAG_MERGE, "settings": {"executionOrder": "v1"}}) == []


@pytest.mark.parametrize("settings", [{}, {"executionOrder": "v0"}, {"timezone": "UTC"}])
def test_legacy_is_anything_but_v1(settings: dict[str, Any]) -> None:
    assert where(legacy_order_problems({**IF_TAG_MERGE, "settings": settings})) == \
        [("Merge", FIELD)]


def test_branches_that_always_carry_items_are_not_refused() -> None:
    document = n8n([node("A"), node("B"), node("C"), node("Merge", "merge")],
                   "Start > A", "Start > B", "B > C", "A > Merge.0", "C > Merge.1")
    assert legacy_order_problems(document) == []


def test_an_empty_output_straight_into_a_merge_is_honoured_not_refused() -> None:
    """(the runner skips a v0 Merge whose input 0 got nothing)"""
    document = n8n([node("IF", "if"), node("Merge", "merge")],
                   "Start > IF", "IF.0 > Merge.0", "IF.1 > Merge.1")
    assert legacy_order_problems(document) == []


def test_inputs_behind_the_same_gate_are_empty_together() -> None:
    document = n8n([node("IF", "if"), node("A"), node("B"), node("Merge", "merge")],
                   "Start > IF", "IF.0 > A", "IF.0 > B", "A > Merge.0", "B > Merge.1")
    assert legacy_order_problems(document) == []


def test_a_branch_behind_an_extra_gate_is_refused() -> None:
    document = n8n([node("IF", "if"), node("A"), node("Code", "code"), node("B"),
                    node("Merge", "merge")],
                   "Start > IF", "IF.0 > A", "IF.0 > Code", "Code > B", "A > Merge.0",
                   "B > Merge.1")
    problems = legacy_order_problems(document)
    assert where(problems) == [("Merge", FIELD)]
    assert problems[0].message.startswith("'B' may get no items")


def test_always_output_data_closes_a_gate() -> None:
    document = n8n([node("Code", "code", alwaysOutputData=True), node("A"), node("B"),
                    node("Merge", "merge")],
                   "Start > Code", "Start > A", "Code > B", "A > Merge.0", "B > Merge.1")
    assert legacy_order_problems(document) == []


def test_an_appending_merge_before_a_merge_is_never_empty_but_a_combining_one_may_be() -> None:
    def nested(mode: str) -> dict[str, Any]:
        return n8n([node("A"), node("B"), node("Inner", "merge", parameters={"mode": mode}),
                    node("D"), node("E"), node("Outer", "merge")],
                   "Start > A", "Start > B", "A > Inner.0", "B > Inner.1", "Inner > D",
                   "Start > E", "E > Outer.0", "D > Outer.1")

    assert legacy_order_problems(nested("append")) == []
    assert where(legacy_order_problems(nested("combine"))) == [("Outer", FIELD)]


def test_a_merge_input_with_no_connection_upstream_is_refused() -> None:
    document = n8n([node("Lonely"), node("Merge", "merge")],
                   "Start > Merge.0", "Lonely > Merge.1")
    problems = legacy_order_problems(document)
    assert where(problems) == [("Merge", FIELD)]
    assert problems[0].message.startswith("'Lonely' has no input connection")


def test_branches_of_two_triggers_into_a_merge_are_refused_both_ways() -> None:
    document = n8n([node("Hook", "webhook"), node("Merge", "merge")],
                   "Start > Merge.0", "Hook > Merge.1")
    problems = legacy_order_problems(document)
    assert where(problems) == [("Merge", FIELD)] * 2
    assert sorted(problem.message[:25] for problem in problems) == [
        "'Hook' is another trigger", "'Start' is another trigge"]


def test_a_loop_back_edge_does_not_stop_the_check() -> None:
    document = n8n([node("Loop", "set"), node("Body"), node("IF", "if")],
                   "Start > Loop", "Loop > Body", "Body > IF", "IF.0 > Loop")
    assert legacy_order_problems(document) == []


def test_a_long_chain_is_checked_without_recursion() -> None:
    names = [f"N{i}" for i in range(3000)]
    document = n8n([node(name) for name in names],
                   *(f"{a} > {b}" for a, b in zip(["Start", *names], names, strict=False)))
    assert legacy_order_problems(document) == []


def test_a_deep_parameter_tree_is_walked_without_recursion() -> None:
    deep: Any = "={{ $('A').item }}"
    for _ in range(5000):
        deep = {"x": [deep]}
    reader = node("Reader", parameters={"deep": deep})
    document = n8n([node("A"), reader], "Start > A", "Start > Reader")
    assert [problem.node for problem in legacy_order_problems(document)] == ["Reader"]


PARALLEL = [node("A"), node("B")]


@pytest.mark.parametrize("reference", ["$('A').isExecuted", '$node["A"].json.x',
                                       "$items('A').length", "$node.A.json"])
def test_reading_a_node_on_a_parallel_branch_is_refused_naming_the_parameter(
        reference: str) -> None:
    reader = node("Reader", parameters={"values": [{"value": "={{ " + reference + " }}"}]})
    document = n8n([*PARALLEL, reader], "Start > A", "Start > B", "B > Reader")
    problems = legacy_order_problems(document)
    assert where(problems) == [("Reader", "parameters.values[0].value")]
    assert problems[0].message.startswith("reads 'A', which is on a parallel branch")


def test_code_reading_a_parallel_node_is_refused() -> None:
    code = node("Code", "code", parameters={"jsCode": "return $('A').all();"})
    document = n8n([*PARALLEL, code], "Start > A", "Start > B", "B > Code")
    assert where(legacy_order_problems(document)) == [("Code", "parameters.jsCode")]


@pytest.mark.parametrize("text", ["={{ $('Start').item.json }}", "={{ $('Later').isExecuted }}",
                                  "$('A') is only text here", "={{ $('Nobody').item }}"])
def test_reading_nodes_before_after_or_unknown_or_in_plain_text_is_fine(text: str) -> None:
    reader = node("Reader", parameters={"value": text})
    document = n8n([*PARALLEL, reader, node("Later")], "Start > A", "Start > B",
                   "B > Reader", "Reader > Later")
    assert legacy_order_problems(document) == []


@pytest.mark.parametrize("document", [{}, {"nodes": "x", "connections": []},
                                      {"nodes": [{"name": 1}], "connections": {"a": 3}},
                                      {"nodes": [node("A")], "connections": {"A": {"main": [
                                          [{"node": "missing"}], "x"]}}}])
def test_malformed_documents_give_no_order_problems(document: dict[str, Any]) -> None:
    """(the importer and the validator report what is malformed)"""
    assert legacy_order_problems(document) == []
