"""Merge ``waitFor: N``: the racing Parallel counts finishes in DynamoDB (shape, validation)."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.explain import explain
from compiler.lowering.quorum import (
    GET_ITEM,
    QUORUM_REACHED,
    QUORUM_REACHED_STORED,
    QUORUM_TABLE,
    UPDATE_ITEM,
)
from tests.compiler.test_emit import check_definition
from tests.support.asl_validator import assert_valid_asl


def quorum_workflow(wait_for: Any = 2, branches: int = 3, inputs: int = 3,
                    extra_edge: bool = False) -> dict[str, Any]:
    names = [f"B{i}" for i in range(branches)]
    document: dict[str, Any] = {
        "name": "quorum",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  *({"name": name, "type": "noOp"} for name in names),
                  {"name": "M", "type": "merge",
                   "parameters": {"waitFor": wait_for, "numberInputs": inputs}},
                  {"name": "After", "type": "noOp"}],
        "connections": [
            *({"from": "Start", "to": name} for name in names),
            *({"from": name, "to": "M", "input": i} for i, name in enumerate(names)),
            {"from": "M", "to": "After"},
        ],
    }
    if extra_edge:
        document["connections"].append({"from": "B0", "to": "After"})
    return document


def problems(document: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    return [(p.node, p.field, p.message) for p in info.value.problems]


def test_branches_count_their_finishes_and_the_nth_fails_the_parallel() -> None:
    compiled = compile_workflow(quorum_workflow())
    check_definition(compiled)
    assert_valid_asl(compiled)
    states = compiled.definition["States"]
    parallel = next(s for n, s in states.items() if n.startswith("#parallel"))
    reached, stored = parallel["Catch"]
    assert reached["ErrorEquals"] == [QUORUM_REACHED] and reached["Next"] == "M"
    assert set(reached["Assign"]) == {"B0", "B1", "B2"}
    assert stored["ErrorEquals"] == [QUORUM_REACHED_STORED]
    winners = states[stored["Next"]]
    assert winners["Resource"] == GET_ITEM and winners["Next"] == "M"
    assert winners["Arguments"]["ConsistentRead"] is True
    for index, branch in enumerate(parallel["Branches"]):
        types = {name.split(" ")[0]: s for name, s in branch["States"].items()}
        update = types["#finished"]
        assert update["Resource"] == UPDATE_ITEM
        assert update["Arguments"]["TableName"] == QUORUM_TABLE
        assert update["Arguments"]["ExpressionAttributeNames"] == {"#b": f"b{index}"}
        assert update["Arguments"]["ReturnValues"] == "ALL_NEW"
        assert "= 2" in types["#quorum?"]["Choices"][0]["Condition"]
        assert types["#reached"]["Type"] == "Fail" and types["#counted"]["Type"] == "Succeed"
    assert "MergeQuorumTable" in compiled.manifest["substitutions"]
    run = explain(compiled).run.live  # the plan tools read the new states
    assert run.lambda_calls == 1 and run.seconds == 4.0  # helper Tasks take no node time
    # Start, Parallel, 3 x (node, update, Choice, Fail/Succeed), M, After
    assert run.transitions == 2 + 3 * 4 + 2


def test_other_merges_need_no_quorum_table() -> None:
    compiled = compile_workflow(quorum_workflow("all"))
    assert compiled.manifest["substitutions"] == ["NodeRunnerArn", "Partition"]


# --------------------------------------------------------------------------- waitFor: any


def test_a_race_winner_too_big_for_the_cause_is_stored_as_a_quorum_of_one() -> None:
    """Each branch's end checks its outputs' size: within the cause budget it fails the
    Parallel from ``#finished`` carrying them; beyond it, it stores them (a quorum of one)
    and the Parallel's Catch reads the winner back."""
    from compiler.limits import CAUSE_BUDGET, ERROR_CAUSE_LIMIT
    from compiler.passes.emit import BRANCH_FINISHED

    assert CAUSE_BUDGET < ERROR_CAUSE_LIMIT == 32_768
    compiled = compile_workflow(quorum_workflow("any"))
    check_definition(compiled)
    assert_valid_asl(compiled)
    states = compiled.definition["States"]
    parallel = next(s for n, s in states.items() if n.startswith("#parallel"))
    finished, stored = parallel["Catch"]
    assert finished["ErrorEquals"] == [BRANCH_FINISHED] and finished["Next"] == "M"
    assert stored["ErrorEquals"] == [QUORUM_REACHED_STORED]
    winners = states[stored["Next"]]
    assert winners["Resource"] == GET_ITEM and winners["Next"] == "M"
    assert "[[0..0]]" in winners["Assign"]["B0"]  # one winner
    for index, branch in enumerate(parallel["Branches"]):
        types = {name.split(" ")[0]: s for name, s in branch["States"].items()}
        fits = types["#fits?"]
        assert f"> {CAUSE_BUDGET}" in fits["Choices"][0]["Condition"]
        assert fits["Default"] == f"#finished B{index}"
        assert types["#finished"]["Type"] == "Fail"
        assert types["#finished"]["Error"] == BRANCH_FINISHED
        store = branch["States"][fits["Choices"][0]["Next"]]
        assert store["Resource"] == UPDATE_ITEM
        assert store["Arguments"]["ExpressionAttributeNames"] == {"#b": f"b{index}"}
        assert "= 1" in types["#quorum?"]["Choices"][0]["Condition"]
    assert "MergeQuorumTable" in compiled.manifest["substitutions"]
    run = explain(compiled).run.live  # a small winner: node, #fits?, #finished per branch
    assert run.transitions == 2 + 3 * 3 + 2


def test_a_race_winner_of_40_kb_completes_with_its_outputs(cloud: Any) -> None:
    """AWS keeps 32,768 characters of a cause (the strict layer cuts it there): a 40 KB
    winner goes through the quorum table and reaches the merge whole."""
    from tests.examples.test_examples import report_history, run_compiled

    blob = "return [{'blob': 'x' * 40000, 'n': 1}]"
    document = {
        "name": "big-race",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Big", "type": "code", "parameters": {"code": blob}},
                  {"name": "Late", "type": "wait", "parameters": {"seconds": 6000}},
                  {"name": "Small", "type": "set", "parameters": {"values": {"n": 2}}},
                  {"name": "M", "type": "merge",
                   "parameters": {"numberInputs": 2, "waitFor": "any"}},
                  {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Big"}, {"from": "Start", "to": "Late"},
                        {"from": "Late", "to": "Small"},
                        {"from": "Big", "to": "M"}, {"from": "Small", "to": "M", "input": 1},
                        {"from": "M", "to": "After"}],
    }
    report = run_compiled(cloud, compile_workflow(document))
    assert report["status"] == "SUCCEEDED", report["error"]
    (item,) = report["output"]["After"]
    assert item["blob"] == "x" * 40000 and item["n"] == 1
    assert report["nodes"]["Small"]["runs"] == 0
    entered = [e["stateEnteredEventDetails"]["name"] for e in report_history(cloud, report)
               if "stateEnteredEventDetails" in e]
    assert "#winners M" in entered and "#store Big" in entered


@pytest.mark.parametrize(("wait_for", "inputs", "message"), [
    (1, 3, "waitFor 1: a number of inputs to wait for is at least 2"),
    (3, 3, "waitFor 3 must be below numberInputs (3)"),
])
def test_wait_for_n_is_between_any_and_all(wait_for: int, inputs: int, message: str) -> None:
    found = problems(quorum_workflow(wait_for, branches=2, inputs=inputs))
    assert any(node == "M" and field == "parameters.waitFor" and message in text
               for node, field, text in found), found


def test_wait_for_n_needs_more_branches_than_n() -> None:
    found = problems(quorum_workflow(2, branches=2, inputs=3))
    assert found == [("M", "parameters.waitFor",
                      "waitFor: 2 needs more than 2 input branches, but 2 branches lead to "
                      "this merge (waitFor: all waits for every branch)")]


def test_wait_for_n_needs_branches_that_lead_only_to_the_merge() -> None:
    found = problems(quorum_workflow(2, extra_edge=True))
    assert [(n, f) for n, f, _ in found] == [("M", "parameters.waitFor")]
    assert found[0][2].startswith("waitFor: 2 needs every input of the merge")
