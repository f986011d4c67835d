"""Workflow variables: setVariable lowering, $vars initialisation and placement rules."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from tests.support.asl_validator import assert_valid_asl


def variables_workflow(*extra_nodes: dict[str, Any],
                       extra_connections: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {
        "name": "variables",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Remember", "type": "setVariable",
             "parameters": {"values": {"x": "{% $json.a * 2 %}", "tag": "fixed"}}},
            {"name": "Use", "type": "set", "parameters": {"values": {"x": "{% $vars.x %}"}}},
            *extra_nodes,
        ],
        "connections": [
            {"from": "Start", "to": "Remember"},
            {"from": "Remember", "to": "Use"},
            *extra_connections,
        ],
    }


def test_vars_start_empty_and_reach_runner_tasks() -> None:
    compiled = compile_workflow(variables_workflow())
    definition = compiled.definition
    assert definition["StartAt"] == "#variables"
    assert definition["States"]["#variables"] == {
        "Type": "Pass", "Assign": {"vars": {}}, "Next": "Start"}
    remember = definition["States"]["Remember"]
    assert remember["Type"] == "Task"
    assert remember["Assign"]["vars"] == (
        "{% $exists($states.result.vars) ? $states.result.vars : $vars %}")
    use = definition["States"]["Use"]  # reads $vars: runs on the runner
    assert use["Type"] == "Task" and use["Arguments"]["vars"] == "{% $vars %}"
    assert_valid_asl(definition)


def test_workflows_without_variables_are_unchanged() -> None:
    document = variables_workflow()
    document["nodes"][1] = {"name": "Remember", "type": "noOp"}
    document["nodes"][2] = {"name": "Use", "type": "code", "parameters": {"code": "return items"}}
    definition = compile_workflow(document).definition
    assert definition["StartAt"] == "Start"
    assert "vars" not in definition["States"]["Use"]["Arguments"]


def test_set_variable_in_a_parallel_branch_is_rejected() -> None:
    document = variables_workflow(
        {"name": "Other", "type": "noOp"},
        extra_connections=({"from": "Start", "to": "Other"},))
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(document)
    (problem,) = info.value.problems
    assert problem.node == "Remember" and "main path" in problem.message


def test_set_variable_needs_values() -> None:
    document = variables_workflow()
    document["nodes"][1]["parameters"] = {"values": {}}
    with pytest.raises(WorkflowInvalid):
        compile_workflow(document)
