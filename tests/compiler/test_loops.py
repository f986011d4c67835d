"""Loop nodes: validation of bodies and back edges, region plans, Map emission."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.passes.structure import NodeStep, Seq
from compiler.passes.validate import validate
from tests.support.asl_validator import assert_valid_asl


def loop_workflow(loop_type: str = "splitInBatches", **params: Any) -> dict[str, Any]:
    return {
        "name": "loop",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "L", "type": loop_type, "parameters": params},
            {"name": "A", "type": "noOp"},
            {"name": "B", "type": "noOp"},
            {"name": "After", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "L"},
            {"from": "L", "output": "loop", "to": "A"},
            {"from": "A", "to": "B"},
            {"from": "B", "to": "L"},
            {"from": "L", "output": "done", "to": "After"},
        ],
    }


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    return [f"{p.node}: {p.message}" for p in info.value.problems]


def test_loop_body_and_back_edge_are_found() -> None:
    graph = validate(loop_workflow())
    loop = graph.loops[graph.index["L"]]
    assert {graph.name(n) for n in loop.body} == {"A", "B"}
    assert [(graph.name(e.source), graph.name(e.target)) for e in loop.back_edges] == [("B", "L")]
    assert all(e.target != graph.index["L"] or e.source not in loop.body for e in graph.edges)


def test_regions_are_planned_separately() -> None:
    compiled = compile_workflow(loop_workflow())
    graph, plans = compiled.graph, compiled.loop_plans
    assert plans is not None
    names = lambda step: [graph.name(n) for n in step.members]  # noqa: E731
    assert names(plans[None]) == ["Start", "L", "After"]
    assert isinstance(plans[graph.index["L"]], Seq)
    assert names(plans[graph.index["L"]]) == ["A", "B"]


def test_map_state_shape() -> None:
    compiled = compile_workflow(loop_workflow("forEach", maxConcurrency=7, batchSize=2))
    state = compiled.definition["States"]["L"]
    assert state["Type"] == "Map" and state["MaxConcurrency"] == 7
    processor = state["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "INLINE"}
    assert processor["StartAt"] == "#batch L"
    assert set(processor["States"]) == {"#batch L", "A", "B"}
    assert "$size := 2;" in state["Items"]  # batch size
    assert_valid_asl(compiled)


def test_cycle_without_a_loop_node_names_its_nodes() -> None:
    document = loop_workflow()
    document["nodes"][1] = {"name": "L", "type": "noOp"}
    document["connections"][1] = {"from": "L", "to": "A"}
    document["connections"][4] = {"from": "L", "to": "After"}
    found = problems(document)
    assert any("part of a cycle: L, A, B" in p for p in found)


def test_body_entered_from_outside_is_rejected() -> None:
    document = loop_workflow()
    document["connections"].append({"from": "Start", "to": "B"})
    assert any(p.startswith("B: inside the loop of 'L'") for p in problems(document))


def test_body_leaving_the_loop_is_rejected() -> None:
    document = loop_workflow()
    document["connections"].append({"from": "A", "to": "After"})
    assert any("inside the loop of 'L'" in p for p in problems(document))


def test_body_without_back_edge_is_rejected() -> None:
    document = loop_workflow()
    document["connections"].remove({"from": "B", "to": "L"})
    assert any("loop body never returns" in p for p in problems(document))


def test_loop_parameters_are_checked() -> None:
    found = problems(loop_workflow("forEach", maxConcurrency=0))
    assert any("greater than or equal to 1" in p for p in found)


def test_loop_with_no_body_is_a_single_step() -> None:
    document = loop_workflow()
    document["nodes"] = document["nodes"][:2] + document["nodes"][4:]
    document["connections"] = [{"from": "Start", "to": "L"},
                               {"from": "L", "output": "done", "to": "After"}]
    compiled = compile_workflow(document)
    assert isinstance(compiled.plan, Seq)
    assert all(isinstance(step, NodeStep) for step in compiled.plan.steps)
    assert_valid_asl(compiled)


def race_workflow(extra_edge: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "race",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "A", "type": "noOp"}, {"name": "B", "type": "noOp"},
                  {"name": "M", "type": "merge", "parameters": {"waitFor": "any"}},
                  {"name": "Other", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "A"}, {"from": "Start", "to": "B"},
                        {"from": "A", "to": "M"}, {"from": "B", "to": "M", "input": 1}],
    }
    if extra_edge:
        document["connections"].append({"from": "B", "to": "Other"})
    else:
        document["connections"].append({"from": "M", "to": "Other"})
    return document


def test_wait_for_any_compiles_to_a_race() -> None:
    compiled = compile_workflow(race_workflow(extra_edge=False))
    parallel = next(s for n, s in compiled.definition["States"].items() if n.startswith("#par"))
    assert parallel["Catch"][0]["ErrorEquals"] == ["Sfnflow.BranchFinished"]
    assert parallel["Catch"][0]["Next"] == "M"
    for branch in parallel["Branches"]:
        assert any(s["Type"] == "Fail" for s in branch["States"].values())
    assert_valid_asl(compiled)


def test_wait_for_any_rejects_branches_that_feed_other_nodes() -> None:
    found = problems(race_workflow(extra_edge=True))
    assert any(p.startswith("M: waitFor: any needs") for p in found)
