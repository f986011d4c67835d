"""Sub-workflows end to end on the embedded cloud: a child's failure as a typed error in
the parent, the run-time depth limit, fire-and-forget children, the CLI finding children."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from compiler import CompiledWorkflow, SfnflowError, compile_project, compile_workflow
from local.cli import app
from local.cloud import LocalCloud
from local.report import build_report

FAILING = {"name": "failing", "nodes": [
    {"name": "In", "type": "manualTrigger"},
    {"name": "Boom", "type": "code", "parameters": {"code": "raise ValueError('bad amount')"}},
], "connections": [{"from": "In", "to": "Boom"}]}


def caller(name: str, child: str, parameters: dict[str, Any] | None = None,
           **node: Any) -> dict[str, Any]:
    return {"name": name, "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Run child", "type": "executeWorkflow",
         "parameters": {"workflow": child, **(parameters or {})}, **node},
    ], "connections": [{"from": "Start", "to": "Run child"}]}


def run(cloud: LocalCloud, project: dict[str, CompiledWorkflow], root: str,
        user_input: Any = None) -> dict[str, Any]:
    cloud.deploy_project(project)
    execution_id = cloud.start(project[root], user_input)
    finished = cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    return build_report(project[root], execution, cloud.repository.node_runs(execution_id),
                        finished.history, finished.output)


def test_failed_child_is_routed_by_continue_error_output(cloud: LocalCloud) -> None:
    parent = caller("parent", "failing", onError="continueErrorOutput")
    parent["nodes"] += [{"name": "Fine", "type": "noOp"},
                        {"name": "Handle", "type": "set",
                         "parameters": {"values": {"handled": True}}}]
    parent["connections"] += [{"from": "Run child", "to": "Fine"},
                              {"from": "Run child", "output": "error", "to": "Handle"}]
    report = run(cloud, compile_project([parent, FAILING]), "parent", [{"amount": 1}])
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Fine"] == []
    (handled,) = report["output"]["Handle"]
    error = handled["error"]
    assert handled["handled"] is True
    assert error["type"] == "Sfnflow.SubworkflowFailed" and error["node"] == "Run child"
    assert error["cause"] == {"type": "Sfnflow.CodeError",
                              "message": "code node 'Boom': ValueError: bad amount (line 1)"}
    assert error["message"] == (f"failing execution {error['executionId']} failed: "
                                "Sfnflow.CodeError: code node 'Boom': ValueError: bad amount "
                                "(line 1)")
    node = report["nodes"]["Run child"]
    assert node["status"] == "error" and node["childExecutionId"] == error["executionId"]


def test_failed_child_fails_the_parent_with_a_typed_error_after_retries(
    cloud: LocalCloud,
) -> None:
    parent = caller("parent", "failing", retry={"maxAttempts": 2, "intervalSeconds": 1})
    report = run(cloud, compile_project([parent, FAILING]), "parent")
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "Sfnflow.SubworkflowFailed"
    assert report["error"]["node"] == "Run child"
    assert "Sfnflow.CodeError: code node 'Boom'" in report["error"]["message"]
    assert report["nodes"]["Run child"]["attempts"] == 2
    children = cloud.repository.executions_of("failing")
    assert sorted(child.execution_id[-2:] for child in children) == ["-1", "-2"]
    assert {child.parent_execution_id for child in children} == {report["executionId"]}


def test_depth_limit_is_enforced_at_run_time(cloud: LocalCloud) -> None:
    """Compiled apart (no project check), a chain deeper than A's maxDepth still stops:
    the grandchild's trigger fails, and the failure travels up as typed errors."""
    documents = [caller("chain-a", "chain-b", {"maxDepth": 1}), caller("chain-b", "chain-c"),
                 caller("chain-c", "failing")]
    with pytest.raises(SfnflowError, match="runs 'chain-c' at depth 2"):
        compile_project([*documents, FAILING])
    project = {d["name"]: compile_workflow(d) for d in [*documents, FAILING]}
    report = run(cloud, project, "chain-a")
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "Sfnflow.SubworkflowFailed"
    (grandchild,) = cloud.repository.executions_of("chain-c")
    assert grandchild.status == "FAILED"
    assert grandchild.error is not None
    assert grandchild.error["type"] == "Sfnflow.SubworkflowDepthExceeded"
    assert grandchild.input["parent"]["depth"] == 2
    assert grandchild.input["parent"]["maxDepth"] == 1
    assert cloud.repository.executions_of("failing") == []  # never started
    assert "Sfnflow.SubworkflowDepthExceeded" in report["error"]["message"]


def test_fire_and_forget_passes_items_through_and_the_child_is_recorded(
    cloud: LocalCloud,
) -> None:
    slow = {"name": "slow", "nodes": [{"name": "In", "type": "manualTrigger"},
                                      {"name": "Nap", "type": "wait",
                                       "parameters": {"seconds": 30}}],
            "connections": [{"from": "In", "to": "Nap"}]}
    parent = caller("parent", "slow", {"waitForCompletion": False})
    report = run(cloud, compile_project([parent, slow]), "parent", [{"n": 1}])
    assert report["status"] == "SUCCEEDED"
    assert report["output"]["Run child"] == [{"n": 1}]
    (child,) = cloud.repository.executions_of("slow")
    assert child.status == "SUCCEEDED"  # wait() waited for it, then recorded it
    assert report["nodes"]["Run child"]["childExecutionId"] == child.execution_id


def test_start_refuses_a_parent_whose_children_are_not_deployed(cloud: LocalCloud) -> None:
    with pytest.raises(SfnflowError, match="runs 'failing', not deployed"):
        cloud.start(compile_workflow(caller("parent", "failing")))


def test_cli_runs_children_found_by_name(tmp_path: Path) -> None:
    child = {"name": "kid", "nodes": [
        {"name": "In", "type": "manualTrigger"},
        {"name": "Double", "type": "set",
         "parameters": {"values": {"n": "{% $json.n * 2 %}"}}},
    ], "connections": [{"from": "In", "to": "Double"}]}
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "whatever.yaml").write_text(json.dumps(child))  # JSON is YAML 1.2
    parent = tmp_path / "parent.yaml"
    parent.write_text(json.dumps(caller("parent", "kid")))
    runner = CliRunner()
    missing = runner.invoke(app, ["run", str(parent), "--json"])
    assert missing.exit_code == 2
    assert "runs unknown workflow 'kid'" in " ".join(missing.output.split())
    result = runner.invoke(app, ["run", str(parent), "--json", "--workflows",
                                 str(tmp_path / "lib"), "--input", '[{"n": 4}]'])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["output"]["Run child"] == [{"n": 8}]
