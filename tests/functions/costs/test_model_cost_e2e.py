"""End to end on the embedded cloud: an agent run against the fake model server, and the
execution's recorded cost (what ``GET /executions/{id}/cost`` returns) has the ``model``
component, by node, with the tokens the server reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compiler import compile_workflow
from functions.costs.prices import model_cost
from functions.costs.store import CostStore
from local.cloud import LocalCloud
from tests.support.fake_model import fake_model, text, tool_calls

FLOW = {"name": "priced-agent", "nodes": [
    {"name": "Start", "type": "manualTrigger"},
    {"name": "Ask", "type": "agent", "parameters": {
        "model": {"model": "gpt-4o-mini", "baseUrl": "{% $json.modelUrl %}"},
        "prompt": "Weather in Oslo?",
        "tools": [{"name": "weather", "description": "The weather of a city",
                   "http": {"url": "{% $json.toolsUrl %}", "method": "POST"},
                   "inputSchema": {"type": "object", "properties": {
                       "city": {"type": "string"}}, "required": ["city"]}}]}}],
    "connections": [{"from": "Start", "to": "Ask"}]}


def test_an_agent_runs_tokens_are_in_its_executions_cost(cloud: LocalCloud) -> None:
    compiled = compile_workflow(FLOW)
    cloud.deploy(compiled)
    with fake_model(tool_calls(("weather", {"city": "Oslo"}), usage=(40, 12)),
                    text("Snow.", usage=(90, 11)),
                    routes={"POST /tools/weather": lambda body: (200, {"sky": "snow"})}
                    ) as server:
        execution_id = cloud.start(compiled, {"modelUrl": server.base_url,
                                              "toolsUrl": server.url + "/tools/weather"})
        assert cloud.wait(execution_id).status == "SUCCEEDED"
    (run,) = [r for r in cloud.repository.node_runs(execution_id) if r.node == "Ask"]
    assert run.model_usage is not None
    (model,) = run.model_usage
    reported = {"inputTokens": 130, "outputTokens": 23, "totalTokens": 153, "modelCalls": 2}
    assert run.model_usage[model] == reported
    cost = CostStore().execution_cost(execution_id)
    assert cost is not None
    expected = model_cost(model, 130, 23)
    assert expected is not None and expected > 0
    assert cost["components"]["model"] == pytest.approx(expected)
    assert cost["nodes"]["Ask"]["modelTokens"][model] == reported | {
        "cost": pytest.approx(expected)}
    today = datetime.now(UTC).date()  # the workflow's day adds the model component too
    (day,) = CostStore().days("priced-agent", today - timedelta(days=1), today)
    assert day.components["model"] == pytest.approx(expected)
