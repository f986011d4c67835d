"""Suggestions follow from the numbers of a cost (and the compiler's fallback reasons)."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.passes.validate import validate
from functions.costs.suggestions import suggestions


def cost(express_possible: bool = True, standard: float = 2e-4, express: float = 2e-6,
         nodes: dict[str, Any] | None = None, puts: int = 0) -> dict[str, Any]:
    return {"components": {"stepFunctions": standard},
            "usage": {"seconds": 0.4, "s3Puts": puts},
            "express": {"possible": express_possible, "stepFunctions": express},
            "nodes": nodes or {}}


def test_short_runs_without_waits_are_told_how_much_cheaper_express_is() -> None:
    [found] = suggestions(cost())
    assert found["kind"] == "express" and "100.0x less" in found["message"]
    assert found["saving"] == pytest.approx(2e-4 - 2e-6)


def test_no_express_suggestion_when_it_cannot_run_or_costs_more() -> None:
    assert suggestions(cost(express_possible=False)) == []
    assert suggestions(cost(standard=1e-6, express=2e-6)) == []


def test_a_native_capable_node_on_lambda_is_explained_by_the_compiler() -> None:
    graph = validate({"name": "wf", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Tag", "type": "set", "parameters": {"values": {"a": 1}},
         "retry": {"maxAttempts": 3}},
        {"name": "Work", "type": "code", "parameters": {"code": "return items"}},
    ], "connections": [{"from": "Start", "to": "Tag"}, {"from": "Tag", "to": "Work"}]})
    nodes = {name: {"lambdaRequests": 1, "cost": 1e-6} for name in ("Tag", "Work")}
    found = suggestions(cost(express_possible=False, nodes=nodes), graph)
    assert [(s["kind"], s["node"], s["reason"]) for s in found] == [
        ("nativeOnLambda", "Tag", "retry")]  # a code node has no native form: no sentence


def test_outputs_stored_in_s3_are_pointed_out() -> None:
    [found] = suggestions(cost(express_possible=False, puts=2))
    assert found["kind"] == "storedOutputs" and found["message"].startswith("2 node outputs")
