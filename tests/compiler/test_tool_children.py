"""Sub-workflow tools of agent and tool nodes are children of their workflow: listed in
the manifest (so the stack, the API and ``sfnflow run`` deploy and grant them), found by
the project loader, and checked by ``compile_project`` as executeWorkflow's are, except
that a tool leading back to its own workflow is bounded at run time, not refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow, load_file
from compiler.project import child_names, compile_project, load_project, workflow_name

EXAMPLES = Path(__file__).parents[2] / "examples"
AGENT_TOOLS = EXAMPLES / "ai" / "agent-tools.yaml"


def _tool_workflow(name: str, child: str) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Call", "type": "tool", "parameters": {
            "tool": {"name": "call", "workflow": child}}}],
        "connections": [{"from": "Start", "to": "Call"}]}


def test_an_agents_sub_workflow_tool_is_a_child_in_the_manifest() -> None:
    manifest = compile_workflow(load_file(AGENT_TOOLS)).manifest
    assert list(manifest["children"]) == ["subworkflow-child"]
    child = manifest["children"]["subworkflow-child"]
    assert child["nodes"] == ["Assistant"]
    assert child["substitution"] in manifest["substitutions"]


def test_a_tool_nodes_workflow_is_a_child_but_its_own_workflow_is_not() -> None:
    assert list(compile_workflow(_tool_workflow("caller", "callee")).manifest["children"]) \
        == ["callee"]
    assert compile_workflow(_tool_workflow("again", "again")).manifest["children"] == {}


def test_the_project_loader_finds_a_tools_workflow() -> None:
    assert child_names(load_file(AGENT_TOOLS)) == ["subworkflow-child"]
    found = [workflow_name(d) for d in load_project(AGENT_TOOLS, EXAMPLES)]
    assert found == ["agent-tools", "subworkflow-child"]
    assert set(compile_project(load_project(AGENT_TOOLS, EXAMPLES))) == \
        {"agent-tools", "subworkflow-child"}


def test_compile_project_refuses_an_unknown_tool_workflow() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_project([load_file(AGENT_TOOLS)])
    [problem] = caught.value.problems
    assert (problem.code, problem.node, problem.workflow) == \
        ("unknown_workflow", "Assistant", "agent-tools")
    assert "subworkflow-child" in problem.message


def test_tools_that_lead_back_are_bounded_at_run_time_not_refused() -> None:
    compiled = compile_project([_tool_workflow("ping", "pong"), _tool_workflow("pong", "ping"),
                                _tool_workflow("again", "again")])
    assert set(compiled) == {"ping", "pong", "again"}
