"""circuitBreaker and rateLimit on a node: validated with problems naming node and field,
shown by the schema, and a node with either runs on the node runner (native lowering falls
back, with the setting as its reason)."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from compiler.lowering.native import fallback_reason
from compiler.passes.validate import validate
from compiler.schema import workflow_schema


def document(**guards: Any) -> dict[str, Any]:
    return {"name": "guarded", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Shape", "type": "set", "parameters": {"values": {"a": 1}}, **guards}],
        "connections": [{"from": "Start", "to": "Shape"}]}


@pytest.mark.parametrize(("guards", "reason"), [
    ({}, None),
    ({"circuitBreaker": {"failureThreshold": 2}}, "circuitBreaker"),
    ({"rateLimit": {"perSecond": 5}}, "rateLimit"),
])
def test_a_guarded_node_falls_back_to_the_runner(guards: dict[str, Any],
                                                  reason: str | None) -> None:
    graph = validate(document(**guards))
    assert fallback_reason(graph, graph.index["Shape"]) == reason
    shape = compile_workflow(document(**guards)).definition["States"]["Shape"]
    assert shape["Type"] == ("Task" if reason else "Pass")


@pytest.mark.parametrize(("guards", "field"), [
    ({"rateLimit": {"perSecond": 0}}, "rateLimit.perSecond"),
    ({"rateLimit": {"perSecond": 1, "onLimit": "drop"}}, "rateLimit.onLimit"),
    ({"circuitBreaker": {"failureThreshold": 0}}, "circuitBreaker.failureThreshold"),
    ({"circuitBreaker": {"key": "host"}}, "circuitBreaker"),
])
def test_bad_settings_name_the_node_and_the_field(guards: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkflowInvalid) as raised:
        compile_workflow(document(**guards))
    text = str(raised.value)
    assert "Shape" in text and field in text


def test_sfnflow_schema_shows_both_settings() -> None:
    schema = workflow_schema()
    assert {"circuitBreaker", "rateLimit"} <= set(schema["$defs"]["Node"]["properties"])
    assert schema["$defs"]["RateLimitPolicy"]["properties"]["onLimit"]["enum"] == \
        ["wait", "fail"]
