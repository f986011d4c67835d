"""n8n's Execute Workflow imported as sfnflow's executeWorkflow (compiler/n8n/subworkflow.py):
which workflow it names, the round trip, refusals naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.n8n import from_n8n, to_n8n
from compiler.n8n.importing import import_n8n

CALL = "n8n-nodes-base.executeWorkflow"


def parent(parameters: dict[str, Any], version: float = 1.2) -> dict[str, Any]:
    return {"name": "Parent", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "parameters": {}, "id": "a1", "position": [0, 0]},
        {"name": "Call", "type": CALL, "typeVersion": version, "parameters": parameters,
         "id": "b2", "position": [220, 0]}],
        "connections": {"Start": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}}}


@pytest.mark.parametrize(("workflow_id", "version", "expected"), [
    ({"__rl": True, "value": "Xy1", "mode": "list", "cachedResultName": "Send the invoice"},
     1.2, "Send-the-invoice"),
    ({"__rl": True, "value": "Xy1", "mode": "id"}, 1.1, "Xy1"),
    ("Xy1", 1, "Xy1"),
], ids=["cached name", "locator id", "v1 literal id"])
def test_the_child_is_named_by_cached_name_else_id(workflow_id: Any, version: float,
                                                   expected: str) -> None:
    imported = from_n8n(parent({"workflowId": workflow_id}, version))
    call = imported.document["nodes"][1]
    assert call["type"] == "executeWorkflow"
    assert call["parameters"] == {"workflow": expected, "waitForCompletion": True}
    assert imported.unsupported == []


def test_wait_for_sub_workflow_false_starts_and_goes_on() -> None:
    imported = from_n8n(parent({"workflowId": "Xy1",
                                "options": {"waitForSubWorkflow": False}}))
    assert imported.document["nodes"][1]["parameters"]["waitForCompletion"] is False


def test_export_gives_n8ns_node_back() -> None:
    original = parent({"workflowId": {"__rl": True, "value": "Xy1", "mode": "list",
                                      "cachedResultName": "Child"}, "options": {}})
    exported = to_n8n(from_n8n(original).document)
    assert exported["nodes"] == original["nodes"]
    assert exported["connections"] == original["connections"]


@pytest.mark.parametrize(("parameters", "field"), [
    ({"source": "url", "workflowUrl": "http://example.test/w.json"}, "parameters.source"),
    ({"workflowId": "={{ $json.target }}"}, "parameters.workflowId"),
    ({"workflowId": "Xy1", "mode": "each"}, "parameters.mode"),
    ({"workflowId": "Xy1", "workflowInputs": {"mappingMode": "defineBelow",
                                              "value": {"a": "={{ 1 }}"}}},
     "parameters.workflowInputs"),
])
def test_what_a_child_execution_cannot_do_is_refused(parameters: dict[str, Any],
                                                     field: str) -> None:
    _document, problems = import_n8n(parent(parameters))
    assert ("Call", field) in {(problem.node, problem.field) for problem in problems}
