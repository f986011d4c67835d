"""try/catch regions end to end on moto, inside a parallel branch of the plan."""

from __future__ import annotations

from typing import Any

from compiler import compile_workflow
from local.cloud import LocalCloud
from tests.examples.test_examples import run_compiled


def branch_workflow() -> dict[str, Any]:
    code = "if items[0].get('fail'): raise ValueError('boom')\nreturn items"
    return {
        "name": "region-in-branch",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "A", "type": "noOp"},
            {"name": "B", "type": "code", "parameters": {"code": code}},
            {"name": "Other", "type": "code", "parameters": {"code": "return items"}},
            {"name": "M", "type": "merge"},
            {"name": "Catch", "type": "code",
             "parameters": {"code": "return [{'caught': items[0]['error']['node']}]"}},
            {"name": "Finally", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "A"}, {"from": "A", "to": "B"},
            {"from": "Start", "to": "Other"},
            {"from": "B", "to": "M"}, {"from": "Other", "to": "M", "input": 1},
        ],
        "regions": [{"name": "r", "nodes": ["A", "B"], "catch": "Catch",
                     "finally": "Finally"}],
    }


def test_a_region_in_a_parallel_branch_hands_its_outcome_out(cloud: LocalCloud) -> None:
    compiled = compile_workflow(branch_workflow())
    failed = run_compiled(cloud, compiled, {"fail": True})
    assert failed["status"] == "SUCCEEDED", failed["error"]
    assert failed["output"]["Catch"] == [{"caught": "B"}]
    assert failed["output"]["M"] == [{"fail": True}]  # only Other's item
    (outcome,) = failed["output"]["Finally"]
    assert outcome["status"] == "failed" and outcome["error"]["type"] == "Sfnflow.CodeError"

    passed = run_compiled(cloud, compiled, {"fail": False})
    assert passed["status"] == "SUCCEEDED", passed["error"]
    assert passed["output"]["Catch"] == []
    assert passed["output"]["M"] == [{"fail": False}, {"fail": False}]
    assert passed["output"]["Finally"] == [{"region": "r", "status": "succeeded"}]
