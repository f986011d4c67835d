"""The agent and tool nodes' parameters: JSON Schemas and tool definitions checked at
compile time, each problem naming the node and the field."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid

MODEL = {"model": "gpt-test", "baseUrl": "http://127.0.0.1:9/v1"}
HTTP_TOOL = {"name": "weather", "http": {"url": "http://127.0.0.1:9/w"}}


def workflow(node_type: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"name": "ai", "nodes": [{"name": "Start", "type": "manualTrigger"},
                                    {"name": "Ask", "type": node_type,
                                     "parameters": parameters}],
            "connections": [{"from": "Start", "to": "Ask"}]}


def problems(node_type: str, parameters: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(workflow(node_type, parameters))
    return {p.field or "": p.message for p in caught.value.problems if p.node == "Ask"}


def test_a_valid_agent_and_tool_compile_to_runner_tasks() -> None:
    agent = compile_workflow(workflow("agent", {
        "model": MODEL, "prompt": "{% $json.q %}", "answerSchema": {"type": "object"},
        "tools": [HTTP_TOOL, {"name": "double", "workflow": "subworkflow-child"}]}))
    assert agent.definition["States"]["Ask"]["Type"] == "Task"
    tool = compile_workflow(workflow("tool", {"tool": HTTP_TOOL, "input": {"city": "x"}}))
    assert tool.definition["States"]["Ask"]["Type"] == "Task"


def test_an_invalid_json_schema_names_the_field() -> None:
    found = problems("agent", {"model": MODEL, "prompt": "p",
                               "answerSchema": {"type": "nope"},
                               "tools": [{**HTTP_TOOL, "outputSchema": {"minimum": "x"}}]})
    assert "not a valid JSON Schema at type" in found["parameters.answerSchema"]
    assert "not a valid JSON Schema at minimum" in found["parameters.tools[0].outputSchema"]


@pytest.mark.parametrize(("tool", "message"), [
    ({"name": "t"}, "exactly one of `http` and `workflow`"),
    ({**HTTP_TOOL, "workflow": "w"}, "exactly one of `http` and `workflow`"),
    ({**HTTP_TOOL, "inputSchema": {"type": "string"}}, "must describe an object"),
    ({**HTTP_TOOL, "name": "no spaces"}, "String should match pattern"),
])
def test_tool_definitions(tool: dict[str, Any], message: str) -> None:
    found = problems("tool", {"tool": tool})
    assert any(message in text for text in found.values()), found


def test_tool_names_are_distinct() -> None:
    found = problems("agent", {"model": MODEL, "prompt": "p", "tools": [HTTP_TOOL, HTTP_TOOL]})
    assert "tool names repeat: weather" in found["parameters"]
