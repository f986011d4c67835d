"""``$mode`` and ``$execution.mode`` in any n8n node, not only triggers: the runner reads
the execution record's start kind when an expression or code asks for it."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from local.cloud import LocalCloud

BASE = "n8n-nodes-base."


def flow() -> dict[str, Any]:
    nodes = [
        {"name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1, "parameters": {}},
        {"name": "Data", "type": BASE + "code", "typeVersion": 2,
         "parameters": {"jsCode": "return [{json: {a: 1, seen: $execution.mode}}];"}},
        {"name": "Mode", "type": BASE + "set", "typeVersion": 3.4, "parameters": {
            "assignments": {"assignments": [
                {"id": "1", "name": "mode", "value": "={{ $mode }}", "type": "string"}]},
            "includeOtherFields": True, "options": {}}},
    ]
    chain = ["Start", "Data", "Mode"]
    return {"name": "modes", "nodes": nodes, "settings": {"executionOrder": "v1"},
            "connections": {a: {"main": [[{"node": b, "type": "main", "index": 0}]]}
                            for a, b in zip(chain, chain[1:], strict=False)}}


@pytest.mark.parametrize(("started_as", "mode", "execution_mode"), [
    ("manual", "manual", "test"), ("trigger", "trigger", "production"),
    ("api", "webhook", "production")])
def test_every_node_sees_how_the_execution_started(
        cloud: LocalCloud, started_as: str, mode: str, execution_mode: str) -> None:
    compiled = compile_workflow(flow())
    execution_id = cloud.start(compiled, None, mode=started_as)
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    (run,) = [r for r in cloud.repository.node_runs(execution_id) if r.node == "Mode"]
    assert [item["json"] for item in run.output[0]] == [
        {"a": 1, "seen": execution_mode, "mode": mode}]
