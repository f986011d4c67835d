"""While loops: validation of bodies, jumps and caps; the Choice-driven back edge."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.passes.structure import Guard, NodeStep, Seq
from tests.support.asl_validator import assert_valid_asl

from .test_emit import check_definition


def while_workflow(**params: Any) -> dict[str, Any]:
    """Start -> W; W.loop -> Step -> Check; Check.true -> Stop (break), false -> W."""
    return {
        "name": "while",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "W", "type": "while",
             "parameters": {"condition": "{% $json.n < 5 %}", **params}},
            {"name": "Step", "type": "set", "parameters": {"values": {"n": "{% $json.n + 1 %}"}}},
            {"name": "Check", "type": "if", "parameters": {"condition": "{% $json.n = 3 %}"}},
            {"name": "Stop", "type": "break"},
            {"name": "After", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "W"},
            {"from": "W", "output": "loop", "to": "Step"},
            {"from": "Step", "to": "Check"},
            {"from": "Check", "output": "true", "to": "Stop"},
            {"from": "Check", "output": "false", "to": "W"},
            {"from": "W", "output": "done", "to": "After"},
        ],
    }


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    return [f"{p.node}: {p.field}: {p.message}" for p in info.value.problems]


def test_body_and_back_edge_are_found() -> None:
    graph = compile_workflow(while_workflow()).graph
    loop = graph.loops[graph.index["W"]]
    assert {graph.name(n) for n in loop.body} == {"Step", "Check", "Stop"}
    assert [(graph.name(e.source), graph.name(e.target)) for e in loop.back_edges] == [
        ("Check", "W")]


def test_states_shape() -> None:
    compiled = compile_workflow(while_workflow(maxIterations=7))
    states = compiled.definition["States"]
    assert compiled.definition["StartAt"] == "Start"
    assert states["Start"]["Next"] == "#enter W"
    assert states["#enter W"]["Assign"]["W_iteration"] == 0
    assert states["#enter W"]["Next"] == "W"
    choice = states["W"]
    assert choice["Type"] == "Choice"
    exit_rule, limit_rule = choice["Choices"]
    assert exit_rule["Next"] == "After" and "W" in exit_rule["Assign"]
    assert limit_rule["Condition"] == "{% $W_iteration >= 7 %}"
    assert limit_rule["Next"] == "#limit W"
    assert states["#limit W"]["Type"] == "Fail"
    assert states["#limit W"]["Error"] == "Sfnflow.LoopLimitExceeded"
    assert "maxIterations" in states["#limit W"]["Cause"]
    assert choice["Default"] == "Step"
    # the back edge: after the body, `#next W` counts the iteration and returns to W
    assert states["#next W"]["Next"] == "W"
    assert states["#next W"]["Assign"]["W_iteration"] == "{% $W_iteration + 1 %}"
    assert "$Check.ports[1].items" in states["#next W"]["Assign"]["W"]
    assert states["Stop"]["Type"] == "Pass" and states["Stop"]["Next"] == "After"
    # node runs inside the body are numbered by the iteration counter
    assert "$W_iteration" in states["Step"]["Assign"]["Step_run"]
    assert_valid_asl(compiled)


def test_body_with_a_jump_is_planned_as_a_sequence() -> None:
    compiled = compile_workflow(while_workflow())
    graph, plans = compiled.graph, compiled.loop_plans
    assert plans is not None
    plan = plans[graph.index["W"]]
    assert isinstance(plan, Seq)
    assert [graph.name(n) for n in plan.members] == ["Step", "Check", "Stop"]
    assert isinstance(plan.steps[-1], Guard) and plan.steps[-1].body == NodeStep(
        graph.index["Stop"])


def test_do_while_skips_the_first_check_and_a_last_loop_exits_through_a_pass() -> None:
    document = while_workflow(mode="doWhile")
    document["nodes"] = [n for n in document["nodes"] if n["name"] != "After"]
    document["connections"] = [c for c in document["connections"] if c["to"] != "After"]
    compiled = compile_workflow(document)
    states = compiled.definition["States"]
    assert "$W_iteration = 0 or" in states["W"]["Choices"][0]["Condition"]
    assert states["W"]["Choices"][0]["Next"] == "#exit W"
    assert states["#exit W"]["Type"] == "Pass" and states["#exit W"]["End"] is True
    assert states["Stop"]["Next"] == "#exit W"
    assert_valid_asl(compiled)


def test_continue_goes_back_to_the_condition() -> None:
    document = while_workflow()
    document["nodes"][4] = {"name": "Stop", "type": "continue"}
    compiled = compile_workflow(document)
    stop = compiled.definition["States"]["Stop"]
    assert stop["Next"] == "W"
    assert stop["Assign"]["W_iteration"] == "{% $W_iteration + 1 %}"
    assert_valid_asl(compiled)


def test_missing_back_edge_is_rejected() -> None:
    document = while_workflow()
    document["connections"] = [c for c in document["connections"] if c["to"] != "W"
                               or c["from"] == "Start"]
    assert any(p.startswith("W: connections: loop body never returns")
               for p in problems(document))


def test_while_without_a_body_is_rejected() -> None:
    document = while_workflow()
    document["nodes"] = [n for n in document["nodes"] if n["name"] in ("Start", "W", "After")]
    document["connections"] = [c for c in document["connections"]
                               if c["from"] in ("Start", "W") and c.get("output") != "loop"]
    assert problems(document) == ["W: connections: a while loop needs a body on its `loop` "
                                  "output"]


@pytest.mark.parametrize("jump", ["break", "continue"])
def test_jump_outside_a_while_is_rejected(jump: str) -> None:
    document = {
        "name": "jump",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "J", "type": jump}],
        "connections": [{"from": "Start", "to": "J"}],
    }
    assert problems(document) == [
        f"J: type: {jump} must be in the body of a while loop (it is outside any loop)"]


def test_jump_in_a_for_each_body_is_rejected() -> None:
    document = while_workflow()
    document["nodes"][1] = {"name": "W", "type": "forEach"}
    assert problems(document) == [
        "Stop: type: break must be in the body of a while loop (it is in the body of "
        "forEach 'W')"]


@pytest.mark.parametrize("cap", [0, 10_001])
def test_cap_limits(cap: int) -> None:
    found = problems(while_workflow(maxIterations=cap))
    assert len(found) == 1 and found[0].startswith("W: parameters.maxIterations:")


def test_condition_must_read_only_the_items() -> None:
    found = problems(while_workflow(condition='{% $node("Start")[0].n < 5 %}'))
    assert found == ["W: parameters.condition: a while condition must be one '{% ... %}' "
                     "expression that reads only $json, $index and $items (Step Functions "
                     "evaluates it)"]


def test_cycle_not_through_a_loop_still_names_its_nodes() -> None:
    document = while_workflow()
    document["connections"].append({"from": "Step", "to": "Step"})
    assert any("part of a cycle: Step" in p for p in problems(document))


def test_nested_while_in_a_map_numbers_runs_with_both_iterations() -> None:
    document = while_workflow()
    # mode inline: by default a while loop in a forEach body makes it a Distributed Map
    document["nodes"].insert(1, {"name": "Each", "type": "forEach",
                                 "parameters": {"mode": "inline"}})
    document["connections"][0] = {"from": "Start", "to": "Each"}
    document["connections"] += [{"from": "Each", "output": "loop", "to": "W"},
                                {"from": "After", "to": "Each"}]
    compiled = compile_workflow(document)
    processor = compiled.definition["States"]["Each"]["ItemProcessor"]["States"]
    assert "$Each_batch.index) * 100000 + $W_iteration" in processor["Step"]["Assign"]["Step_run"]
    assert_valid_asl(compiled)


@pytest.mark.parametrize("variant", ["break", "continue", "doWhile"])
def test_emitted_definitions_hold_every_invariant(variant: str) -> None:
    document = while_workflow(mode="doWhile" if variant == "doWhile" else "while")
    if variant == "continue":
        document["nodes"][4] = {"name": "Stop", "type": "continue"}
    check_definition(compile_workflow(document))
