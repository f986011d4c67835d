"""executeWorkflow lowering (one startExecution Task) and the project call-graph checks."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler import WorkflowInvalid, compile_project, compile_workflow, load_project
from compiler.lowering.subworkflow import START, START_SYNC, substitution_key


def workflow(name: str, *calls: dict[str, Any], **node: Any) -> dict[str, Any]:
    """A trigger feeding one executeWorkflow node per call (``{"workflow": ..., ...}``)."""
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"}]
    connections = []
    for index, parameters in enumerate(calls):
        nodes.append({"name": f"Call {index}", "type": "executeWorkflow",
                      "parameters": parameters, **node})
        connections.append({"from": "Start", "to": f"Call {index}"})
    if not calls:
        nodes.append({"name": "Work", "type": "noOp"})
        connections.append({"from": "Start", "to": "Work"})
    return {"name": name, "nodes": nodes, "connections": connections}


def problems(*documents: dict[str, Any]) -> list[tuple[str | None, str | None, str, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_project(documents)
    return [(p.workflow, p.node, p.code, p.message) for p in caught.value.problems]


# --------------------------------------------------------------------------- lowering


def test_one_sync_task_with_the_child_arn_as_a_substitution() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child"}))
    state = compiled.definition["States"]["Call 0"]
    assert state["Type"] == "Task" and state["Resource"] == START_SYNC
    assert state["Arguments"]["StateMachineArn"] == "${Workflow_child}"
    assert set(state["Arguments"]) == {"StateMachineArn", "Name", "Input"}
    assert "$hash(" in state["Arguments"]["Name"]
    assert '"mode":"subworkflow"' in state["Arguments"]["Input"]
    assert "$states.result.Output.*.ports.items" in state["Assign"]["Call_0"]
    assert compiled.manifest["substitutions"] == ["NodeRunnerArn", "Partition", "Workflow_child"]
    assert compiled.manifest["children"] == {
        "child": {"substitution": "Workflow_child", "nodes": ["Call 0"]}}


def test_a_failed_child_is_re_raised_as_a_typed_error() -> None:
    states = compile_workflow(workflow("parent", {"workflow": "child"})).definition["States"]
    (catcher,) = states["Call 0"]["Catch"]
    assert catcher["ErrorEquals"] == ["States.TaskFailed"]
    failed = states[catcher["Next"]]
    assert failed["Type"] == "Fail" and failed["Error"] == "Sfnflow.SubworkflowFailed"
    assert "$states.input" in failed["Cause"]


def test_continue_error_output_catches_everything_into_the_error_port() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child"},
                                         onError="continueErrorOutput"))
    (catcher,) = compiled.definition["States"]["Call 0"]["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    assert "Sfnflow.SubworkflowFailed" in str(catcher)
    assert compiled.graph.outputs[1] == ["main", "error"]


def test_retry_names_the_typed_error_and_compiles_to_task_failed() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child"},
                                         retry={"maxAttempts": 3}))
    (retrier,) = compiled.definition["States"]["Call 0"]["Retry"]
    assert retrier["ErrorEquals"] == ["States.TaskFailed"] and retrier["MaxAttempts"] == 2
    explicit = compile_workflow(workflow("parent", {"workflow": "child"}, retry={
        "maxAttempts": 2, "errors": ["Sfnflow.SubworkflowFailed", "States.Timeout"]}))
    (retrier,) = explicit.definition["States"]["Call 0"]["Retry"]
    assert retrier["ErrorEquals"] == ["States.TaskFailed", "States.Timeout"]


def test_without_waiting_it_starts_the_child_and_passes_items_through() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child",
                                                    "waitForCompletion": False}))
    state = compiled.definition["States"]["Call 0"]
    assert state["Resource"] == START and "Catch" not in state
    assert "$states.result" not in state["Assign"]["Call_0"]
    assert "$Start.ports[0].items" in state["Assign"]["Call_0"]


def test_a_disabled_node_is_a_pass_and_no_child() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child"}, disabled=True))
    assert compiled.definition["States"]["Call 0"]["Type"] == "Pass"
    assert compiled.manifest["children"] == {}


def test_max_depth_tightens_the_inherited_limit() -> None:
    compiled = compile_workflow(workflow("parent", {"workflow": "child", "maxDepth": 2}))
    child_input = compiled.definition["States"]["Call 0"]["Arguments"]["Input"]
    assert "$min([($exists($m.maxDepth) ? $m.maxDepth : 10), $e - 1 + 2])" in child_input


def test_substitution_keys_are_safe_and_distinct() -> None:
    assert substitution_key("orders") == "Workflow_orders"
    keys = {substitution_key(name) for name in ("a-b", "a_b", "a-b_")}
    assert len(keys) == 3 and all(key.replace("_", "").isalnum() for key in keys)


@pytest.mark.parametrize("parameters", [{}, {"workflow": "no spaces"}, {"workflow": "x",
                                                                       "maxDepth": 0}])
def test_bad_parameters_are_problems(parameters: dict[str, Any]) -> None:
    with pytest.raises(WorkflowInvalid, match="parameters"):
        compile_workflow(workflow("parent", parameters))


# --------------------------------------------------------------------------- project


def test_project_compiles_every_workflow_by_name() -> None:
    compiled = compile_project([workflow("a", {"workflow": "b"}), workflow("b")])
    assert list(compiled) == ["a", "b"]


def test_unknown_child_is_a_problem() -> None:
    assert problems(workflow("a", {"workflow": "ghost"})) == [
        ("a", "Call 0", "unknown_workflow", "runs unknown workflow 'ghost' (known: a)")]


def test_static_recursion_is_rejected_naming_the_chain() -> None:
    found = problems(workflow("a", {"workflow": "b"}), workflow("b", {"workflow": "c"}),
                     workflow("c", {"workflow": "a"}), workflow("self", {"workflow": "self"}))
    assert ("a", "Call 0", "recursion", "recursive sub-workflow call: a -> b -> c -> a") in found
    assert ("c", "Call 0", "recursion", "recursive sub-workflow call: c -> a -> b -> c") in found
    assert ("self", "Call 0", "recursion", "recursive sub-workflow call: self -> self") in found
    assert {code for _w, _n, code, _m in found} == {"recursion"}


def test_static_depth_limit() -> None:
    chain = [workflow(f"w{i}", {"workflow": f"w{i + 1}"}) for i in range(11)] + [workflow("w11")]
    assert problems(*chain) == [(
        "w10", "Call 0", "depth",
        "runs 'w11' at depth 11, beyond the depth limit 10 (chain: "
        + " -> ".join(f"w{i}" for i in range(12)) + ")")]
    tight = [workflow("a", {"workflow": "b", "maxDepth": 1}), workflow("b", {"workflow": "c"}),
             workflow("c")]
    ((where, node, code, message),) = problems(*tight)
    assert (where, node, code) == ("b", "Call 0", "depth")
    assert "depth 2, beyond the depth limit 1 (chain: a -> b -> c)" in message


def test_problems_of_each_workflow_name_it() -> None:
    broken = {"name": "b", "nodes": [{"name": "Start", "type": "nope"}]}
    found = problems(workflow("a", {"workflow": "b"}), broken, workflow("a"))
    assert ("a", None, "duplicate", "two workflows are named 'a'") in found
    assert any(w == "b" and code == "unknown_type" for w, _n, code, _m in found)
    assert not any(code == "unknown_workflow" for _w, _n, code, _m in found)


def test_load_project_finds_children_by_name(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    files = {"main.yaml": workflow("main", {"workflow": "mid"}),
             "lib/x.yml": workflow("mid", {"workflow": "leaf"}),
             "lib/y.json": workflow("leaf"), "lib/z.yaml": workflow("unrelated")}
    for path, document in files.items():
        text = StringIO()
        YAML(typ="safe", pure=True).dump(document, text)
        (tmp_path / path).write_text(text.getvalue())
    (tmp_path / "lib" / "broken.yaml").write_text("{ not: [yaml")
    names = [d["name"] for d in load_project(tmp_path / "main.yaml", tmp_path / "lib")]
    assert names == ["main", "mid", "leaf"]
    assert [d["name"] for d in load_project(tmp_path / "main.yaml")] == ["main"]
