"""What an n8n Code node prints with ``console.log`` is recorded with its node run and read
back through the API's node-run views and ``sfnflow run``'s report, on the embedded cloud."""

from __future__ import annotations

import json
from typing import Any

from compiler import CompiledWorkflow, compile_workflow
from functions.api.dependencies import services
from functions.handlers import api
from functions.store.node_logs import MAX_LOG_LINES
from local.cloud import LocalCloud
from local.moto_patches import InvokeContext
from local.report import build_report
from local.server import proxy_event

BASE = "n8n-nodes-base."


def code_workflow(js: str) -> CompiledWorkflow:
    """Start -> Code (JavaScript) -> Keep, as n8n exports it."""
    nodes = [
        {"id": "a", "name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}},
        {"id": "b", "name": "Code", "type": BASE + "code", "typeVersion": 2,
         "position": [200, 0], "parameters": {"jsCode": js}},
        {"id": "c", "name": "Keep", "type": BASE + "limit", "typeVersion": 1,
         "position": [400, 0], "parameters": {"maxItems": 5}},
    ]
    link = {"Start": "Code", "Code": "Keep"}
    return compile_workflow({
        "name": "logs", "nodes": nodes, "settings": {"executionOrder": "v1"},
        "connections": {source: {"main": [[{"node": target, "type": "main", "index": 0}]]}
                        for source, target in link.items()}})


def get(target: str) -> Any:
    """A GET through the real API handler, as API Gateway's proxy event."""
    event = proxy_event("GET", target, {}, b"", "/{proxy+}")
    response = api.lambda_handler(event, InvokeContext("sfnflow-api"))
    assert response["statusCode"] == 200, response.get("body")
    return json.loads(response["body"])


def run(cloud: LocalCloud, js: str) -> tuple[str, dict[str, Any]]:
    """(execution id, ``sfnflow run`` report) of the workflow running ``js``."""
    compiled = code_workflow(js)
    execution_id = cloud.start(compiled)
    finished = cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None and execution.status == "SUCCEEDED", execution
    report = build_report(compiled, execution, cloud.repository.node_runs(execution_id),
                          finished.history, finished.output)
    services.cache_clear()
    return execution_id, report


def test_three_logged_lines_reach_the_run_record_the_api_and_the_report(
        cloud: LocalCloud) -> None:
    js = ("console.log('starting'); console.log('items:', $input.all().length);\n"
          "console.log({ok: true}); return [{json: {done: 1}}];")
    execution_id, report = run(cloud, js)
    by_node = {r.node: r for r in cloud.repository.node_runs(execution_id)}
    lines = by_node["Code"].logs
    assert lines is not None and len(lines) == 3
    assert lines[0] == "starting" and lines[1] == "items: 1" and "ok" in lines[2]
    assert report["nodes"]["Code"]["logs"] == lines

    described = get(f"/executions/{execution_id}")
    views = {view["node"]: view for view in described["nodeRuns"]}
    assert views["Code"]["logs"] == lines
    assert get(f"/executions/{execution_id}/nodes/Code")["items"][0]["logs"] == lines


def test_a_log_flood_is_truncated_with_a_marker(cloud: LocalCloud) -> None:
    js = "for (let i = 0; i < 5000; i++) console.log('line ' + i); return [{json: {}}];"
    execution_id, report = run(cloud, js)
    lines = get(f"/executions/{execution_id}/nodes/Code")["items"][0]["logs"]
    assert lines[:2] == ["line 0", "line 1"]
    assert len(lines) == MAX_LOG_LINES + 1
    assert lines[-1] == f"[sfnflow: {5000 - MAX_LOG_LINES} more log lines truncated]"
    assert report["nodes"]["Code"]["logs"] == lines


def test_nodes_that_log_nothing_have_no_logs_field(cloud: LocalCloud) -> None:
    execution_id, report = run(cloud, "return [{json: {quiet: true}}];")
    assert all(r.logs is None for r in cloud.repository.node_runs(execution_id))
    assert all("logs" not in node for node in report["nodes"].values())
    assert all("logs" not in view for view in get(f"/executions/{execution_id}")["nodeRuns"])
    assert "logs" not in get(f"/executions/{execution_id}/nodes/Code")["items"][0]
