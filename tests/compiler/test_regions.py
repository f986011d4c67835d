"""try/catch/finally regions: validation, the contracted plan, the one-branch Parallel."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.passes.structure import NodeStep, Seq
from tests.support.asl_validator import assert_valid_asl


def region_workflow(**region: Any) -> dict[str, Any]:
    spec = {"name": "r", "nodes": ["A", "B"], "catch": "Catch", "finally": "Finally"}
    return {
        "name": "regions",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "A", "type": "noOp"},
            {"name": "B", "type": "code", "parameters": {"code": "return items"}},
            {"name": "C", "type": "noOp"},
            {"name": "After", "type": "noOp"},
            {"name": "Catch", "type": "noOp"},
            {"name": "Finally", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "A"},
            {"from": "A", "to": "B"},
            {"from": "A", "to": "C"},
            {"from": "B", "to": "After"},
        ],
        "regions": [{**spec, **region}],
    }


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    return [f"{p.node}: {p.message}" for p in info.value.problems]


def test_region_is_one_step_followed_by_catch_and_finally() -> None:
    compiled = compile_workflow(region_workflow(nodes=["A", "B", "C"]))
    index = compiled.graph.index
    plan = compiled.plan
    assert isinstance(plan, Seq)
    assert plan.steps[:2] == (NodeStep(index["Start"]), NodeStep(index["A"]))
    assert set(plan.members) == {index[n] for n in ("Start", "A", "After", "Catch", "Finally")}
    body = compiled.loop_plans[index["A"]]  # type: ignore[index]
    assert set(body.members) == {index[n] for n in ("A", "B", "C")}
    states = compiled.definition["States"]
    attempt = states["#try r"]
    assert attempt["Type"] == "Parallel" and len(attempt["Branches"]) == 1
    inside = dict(_all_states(attempt["Branches"][0]["States"]))
    assert inside["#failed B"]["Error"] == "Sfnflow.RegionNodeFailed"  # names the node
    (catcher,) = attempt["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    assert set(catcher["Assign"]) == {"A", "B", "C"}  # exports emptied on failure
    assert '"try"' in catcher["Assign"]["A"]  # the entry carries the region's outcome
    assert_valid_asl(compiled.definition)


def test_region_inputs_reach_runner_catch_nodes() -> None:
    document = region_workflow()
    document["nodes"][5] = {"name": "Catch", "type": "code",
                            "parameters": {"code": "return items"}}
    compiled = compile_workflow(document)
    states = compiled.definition["States"]
    catch = next(s for name, s in _all_states(states) if name == "Catch")
    assert catch["Arguments"]["inputs"] == [[{"from": "#region r", "output": 0}]]
    assert catch["Arguments"]["data"] == {"#region r": "{% $A.try %}"}


def _all_states(states: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for name, state in states.items():
        found.append((name, state))
        for branch in state.get("Branches", []):
            found += _all_states(branch["States"])
    return found


@pytest.mark.parametrize(("region", "expected"), [
    ({"nodes": ["A", "Nope"]}, "unknown node 'Nope'"),
    ({"catch": "Nope"}, "unknown node 'Nope'"),
    ({"nodes": ["Start", "A"]}, "a trigger cannot be in a region"),
    ({"nodes": ["A", "Catch"]}, "a catch or finally node cannot be in a region"),
    ({"nodes": ["B", "C"]}, "exactly one node with inputs from outside"),
    ({"catch": "After"}, "takes no connections in"),
])
def test_bad_regions_are_reported(region: dict[str, Any], expected: str) -> None:
    assert any(expected in problem for problem in problems(region_workflow(**region)))


def test_regions_do_not_nest() -> None:
    document = region_workflow()
    document["regions"].append({"name": "r2", "nodes": ["B"], "catch": "C"})
    assert any("regions do not nest" in p for p in problems(document))


def test_a_region_fed_only_by_an_if_is_rejected() -> None:
    document = region_workflow()
    document["nodes"][1] = {"name": "A", "type": "if",
                            "parameters": {"condition": "{% true %}"}}
    document["regions"][0]["nodes"] = ["B"]
    assert any("regular output" in p for p in problems(document))
