"""Natively lowered nodes on moto: the same results as the node runner, without a Lambda.

Every native node type runs in a tiny workflow twice — natively, and forced through the
runner by ``retry: {maxAttempts: 1}`` (any ``retry`` makes a node fall back; one attempt
changes nothing else) — on 0, 1 and several items. Outputs, execution output, recorded node
runs (status, counts, items, error) and execution errors must be identical; natively the
node's state makes no Lambda call and its run is recorded from the execution history.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler import CompiledWorkflow, compile_workflow
from local.cloud import LocalCloud
from local.report import build_report

Item = dict[str, Any]
ITEM_SETS: list[list[Item]] = [
    [],
    [{"id": 1, "name": "ada", "ok": True, "tags": ["a"]}],
    [{"id": 1, "name": "ada", "ok": True, "tags": ["a"]},
     {"id": 2, "name": None, "ok": 0, "total": 20.5},
     {"id": 3, "ok": "yes", "nested": {"k": [1, 2]}},
     {"id": 4, "name": "Zoë 100%"}],
]
FORCE_RUNNER = {"retry": {"maxAttempts": 1}}

CASES: dict[str, dict[str, Any]] = {
    "noOp": {"type": "noOp"},
    "set": {"type": "set", "parameters": {"values": {
        "double": "{% $json.id * 2 %}", "greeting": "Hi {% $json.name %}, {% $json.tags %}!",
        "missing": "{% $json.nope %}", "position": "{% $index %} of {% $count($items) %}",
        "nested": {"tags": "{% $json.tags %}", "fixed": [1, "two", None]}, "ok": "set"}}},
    "set-keep-only": {"type": "set", "parameters": {
        "values": {"id": "{% $json.id %}", "k": "{% $json.nested.k %}"}, "keepOnlySet": True}},
    "if": {"type": "if", "parameters": {"condition": "{% $json.ok %}"}},
    "switch": {"type": "switch", "parameters": {
        "rules": [{"condition": "{% $json.id > 2 %}"}, {"condition": "{% $json.ok %}"}],
        "fallbackOutput": "extra"}},
    "switch-all": {"type": "switch", "parameters": {
        "rules": [{"condition": "{% $json.id > 1 %}"}, {"condition": "{% $json.ok %}"}],
        "allMatchingOutputs": True}},
    "filter": {"type": "filter", "parameters": {"condition": "{% $json.id != 2 %}"}},
    "limit": {"type": "limit", "parameters": {"maxItems": 2}},
    "limit-last": {"type": "limit", "parameters": {"maxItems": 2, "keep": "last"}},
    "merge": {"type": "merge", "parameters": {"numberInputs": 3}},
    "stopAndError": {"type": "stopAndError", "parameters": {
        "message": "stopped at {% $json.id %} of {% $count($items) %}",
        "errorType": "Ops.Halted"}},
}


def workflow(name: str, node: dict[str, Any], *, last: bool) -> dict[str, Any]:
    """Start -> N [-> After]; a merge also gets a second input from a runner node."""
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"},
                                   {"name": "N", **node}]
    connections: list[dict[str, Any]] = [{"from": "Start", "to": "N"}]
    if node["type"] == "merge":
        nodes.append({"name": "Copy", "type": "code",
                      "parameters": {"code": "return [{**i, 'copy': True} for i in items]"}})
        connections += [{"from": "Start", "to": "Copy"},
                        {"from": "Copy", "to": "N", "input": 2}]
    if not last:
        nodes.append({"name": "After", "type": "code", "parameters": {"code": "return items"}})
        connections.append({"from": "N", "to": "After"})
    return {"name": name, "nodes": nodes, "connections": connections}


def lambda_calls(history: list[dict[str, Any]], state: str) -> int:
    """LambdaFunctionScheduled events of ``state`` (each follows its TaskStateEntered)."""
    by_id = {event["id"]: event for event in history}
    calls = 0
    for event in history:
        if event["type"] != "LambdaFunctionScheduled":
            continue
        previous = by_id.get(event["previousEventId"])
        while previous is not None and "stateEnteredEventDetails" not in previous:
            previous = by_id.get(previous["previousEventId"])
        if previous is not None and previous["stateEnteredEventDetails"]["name"] == state:
            calls += 1
    return calls


def run(cloud: LocalCloud, compiled: CompiledWorkflow, items: list[Item]) -> dict[str, Any]:
    execution_id = cloud.start(compiled, items)
    finished = cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    runs = cloud.repository.node_runs(execution_id)
    report = build_report(compiled, execution, runs, finished.history, finished.output)
    node_runs = {run.node: run for run in runs}
    recorded = node_runs.get("N")
    return {
        "status": report["status"],
        "error": report["error"],
        "output": json.dumps(finished.output, sort_keys=True),
        "node": report["nodes"]["N"],
        "run": None if recorded is None else {
            "status": recorded.status, "inputs": recorded.input_counts,
            "outputs": recorded.output_counts, "items": recorded.output,
            "error": recorded.error, "run_index": recorded.run_index},
        "lambda_calls": lambda_calls(finished.history, "N"),
        "transitions": sum(1 for e in finished.history if "stateEnteredEventDetails" in e),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_native_node_matches_the_runner(cloud: LocalCloud, case: str) -> None:
    node = CASES[case]
    for last in (False, True):
        if last and node["type"] not in ("noOp", "set", "if", "stopAndError"):
            continue  # the end-of-scope Output path, once per kind of builder
        native = compile_workflow(workflow(f"n-{case}-{last}", node, last=last))
        runner = compile_workflow(workflow(f"r-{case}-{last}", {**node, **FORCE_RUNNER},
                                           last=last))
        native_state = [s for s in native.definition["States"].values()
                        if s.get("Comment", "").endswith(node["type"])]
        assert native_state and "Resource" not in json.dumps(native_state)
        for items in ITEM_SETS:
            got, expected = run(cloud, native, items), run(cloud, runner, items)
            where = f"{case}, last={last}, {len(items)} items"
            assert got["lambda_calls"] == 0, where
            assert expected["lambda_calls"] == 1, where  # with no items it returns at once
            for key in ("status", "error", "output", "run"):
                assert got[key] == expected[key], f"{where}: {key}"
            for key in ("status", "runs", "items", "attempts", "output", "error"):
                assert got["node"][key] == expected["node"][key], f"{where}: node {key}"
            if items:
                assert got["run"] is not None, where  # recorded from the history
            else:
                assert got["run"] is None and got["node"]["status"] == "not run", where
            if node["type"] == "stopAndError" and items:
                assert got["error"] == {"type": "Ops.Halted", "node": "N",
                                        "message": f"stopped at 1 of {len(items)}"}


def test_one_transition_per_native_node(cloud: LocalCloud) -> None:
    """A chain of six native nodes after the trigger: exactly one state each."""
    chain = [("A", CASES["set"]), ("B", CASES["filter"]), ("C", CASES["noOp"]),
             ("D", CASES["limit"]), ("E", CASES["limit-last"]),
             ("F", CASES["set-keep-only"])]
    document = {
        "name": "chain",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  *({"name": name, **node} for name, node in chain)],
        "connections": [{"from": a, "to": b} for a, b in
                        zip(["Start", *"ABCDE"], "ABCDEF", strict=True)],
    }
    compiled = compile_workflow(document)
    execution_id = cloud.start(compiled, ITEM_SETS[2])
    finished = cloud.wait(execution_id)
    assert finished.status == "SUCCEEDED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in finished.history
               if "stateEnteredEventDetails" in e]
    assert entered == ["Start", *"ABCDEF"]
    assert sum(e["type"] == "LambdaFunctionScheduled" for e in finished.history) == 1
    runs = {run.node: run for run in cloud.repository.node_runs(execution_id)}
    assert set(runs) == {"Start", *"ABCDEF"}
    assert runs["D"].output_counts == [2] and runs["D"].input_counts == [3]


def test_native_nodes_inside_a_loop_record_one_run_per_iteration(cloud: LocalCloud) -> None:
    document = {
        "name": "loop-native",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Each", "type": "splitInBatches", "parameters": {"batchSize": 2}},
                  {"name": "Tag", "type": "set",
                   "parameters": {"values": {"seen": "{% $count($items) %}"}}},
                  {"name": "Done", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Each"},
                        {"from": "Each", "to": "Tag", "output": "loop"},
                        {"from": "Tag", "to": "Each"},
                        {"from": "Each", "to": "Done", "output": "done"}],
    }
    execution_id = cloud.start(compile_workflow(document), [{"i": i} for i in range(5)])
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    tags = sorted((run for run in cloud.repository.node_runs(execution_id)
                   if run.node == "Tag"), key=lambda run: run.run_index)
    assert [run.run_index for run in tags] == [0, 1, 2]
    assert [run.input_counts for run in tags] == [[2], [2], [1]]
    assert tags[2].output == [[{"i": 4, "seen": 1}]]


def test_a_failing_native_expression_is_recorded_as_the_failed_node(cloud: LocalCloud) -> None:
    document = workflow("fails", {"type": "set",
                                  "parameters": {"values": {"x": "{% $json.name + 1 %}"}}},
                        last=False)
    execution_id = cloud.start(compile_workflow(document), ITEM_SETS[1])
    finished = cloud.wait(execution_id)
    assert finished.status == "FAILED" and finished.error == "States.QueryEvaluationError"
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None and execution.error is not None
    assert execution.error["node"] == "N"
    (run,) = [run for run in cloud.repository.node_runs(execution_id) if run.node == "N"]
    assert run.status == "error" and run.node_type == "set"
    assert run.error is not None and run.error["type"] == "States.QueryEvaluationError"


def test_wait_is_recorded_like_every_native_node(cloud: LocalCloud) -> None:
    document = workflow("waits", {"type": "wait", "parameters": {"seconds": 1}}, last=True)
    execution_id = cloud.start(compile_workflow(document), ITEM_SETS[2])
    finished = cloud.wait(execution_id)
    assert finished.status == "SUCCEEDED" and lambda_calls(finished.history, "N") == 0
    (run,) = [run for run in cloud.repository.node_runs(execution_id) if run.node == "N"]
    assert (run.status, run.node_type, run.input_counts) == ("success", "wait", [4])
    assert run.output == [ITEM_SETS[2]] and run.duration_ms >= 5  # 1 s at the 100x clock


def test_an_unguarded_native_branch_without_items_records_no_run(cloud: LocalCloud) -> None:
    """IF branches of native nodes carry no guard (``structure.empty_safe``): the untaken
    one runs on no items, outputs nothing and, as in n8n, never appears in the run data."""
    document = {
        "name": "unguarded",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Big?", "type": "if", "parameters": {"condition": "{% $json.id > 0 %}"}},
                  {"name": "Tag", "type": "set", "parameters": {"values": {"big": True}}},
                  {"name": "Small", "type": "set", "parameters": {"values": {"big": False}}},
                  {"name": "Both", "type": "merge"}],
        "connections": [{"from": "Start", "to": "Big?"},
                        {"from": "Big?", "output": "true", "to": "Tag"},
                        {"from": "Big?", "output": "false", "to": "Small"},
                        {"from": "Tag", "to": "Both"}, {"from": "Small", "to": "Both", "input": 1}],
    }
    compiled = compile_workflow(document)
    assert not [name for name in json.dumps(compiled.definition).split('"') if "#skip" in name]
    execution_id = cloud.start(compiled, [{"id": 1}, {"id": 2}])
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    runs = {run.node: run for run in cloud.repository.node_runs(execution_id)}
    assert set(runs) == {"Start", "Big?", "Tag", "Both"}
    assert runs["Both"].output == [[{"id": 1, "big": True}, {"id": 2, "big": True}]]
