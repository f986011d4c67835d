"""The harness on tiny workflows: every verdict it can give, end to end on the embedded cloud,
and the n8n-specific preparation (pinData out of the run, items as n8n wraps them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.store.repository import NodeRun
from local.cloud import LocalCloud
from tests.n8n.harness import (
    COMPILE_ERROR,
    EXECUTION_FAILED,
    HARNESS_ERROR,
    MISMATCH,
    MISSING,
    PASS,
    RUNS,
    Lowering,
    as_n8n_item,
    failure,
    output_zero,
    prepare,
    run_text,
)

START = {"name": "Start", "type": "manualTrigger"}
TAG = {"name": "Tag", "type": "set", "parameters": {"values": {"a": 1}}}


def document(nodes: list[dict[str, Any]], connections: list[dict[str, Any]],
             pins: dict[str, list[Any]], name: str = "harness") -> str:
    return json.dumps({"name": name, "nodes": [START, *nodes], "connections": connections,
                       "pinData": pins})


def tagged(pins: dict[str, list[Any]]) -> str:
    return document([TAG], [{"from": "Start", "to": "Tag"}], pins)


def test_matching_output_passes(cloud: LocalCloud) -> None:
    verdict = run_text(cloud, tagged({"Tag": [{"a": 1.0}]}), "pass")
    assert (verdict.outcome, verdict.reason) == (PASS, "")
    assert verdict.lowering == Lowering(native=1, runner=0)


def test_a_different_value_is_a_mismatch_naming_where(cloud: LocalCloud) -> None:
    """(so the pinned items were not the node's output: n8n's harness removes them)"""
    verdict = run_text(cloud, tagged({"Tag": [{"a": "1"}]}), "mismatch")
    assert verdict.outcome == MISMATCH
    assert verdict.reason == '"Tag" [0].json.a: got 1, expected "1"'


def test_an_extra_item_is_a_mismatch(cloud: LocalCloud) -> None:
    verdict = run_text(cloud, tagged({"Tag": [{"a": 1}, {"a": 1}]}), "extra")
    assert (verdict.outcome, verdict.reason) == (MISMATCH, '"Tag" (top): 1 entries, expected 2')


def test_a_pinned_node_that_did_not_run_is_missing(cloud: LocalCloud) -> None:
    nodes = [{"name": "Check", "type": "if", "parameters": {"condition": "{% false %}"}},
             {"name": "Yes", "type": "noOp"}]
    connections = [{"from": "Start", "to": "Check"},
                   {"from": "Check", "output": "true", "to": "Yes"}]
    verdict = run_text(cloud, document(nodes, connections, {"Yes": [{}]}), "missing")
    assert (verdict.outcome, verdict.reason) == (MISSING, 'Data for node "Yes" is missing!')


def test_a_node_that_ran_twice_fails_even_if_a_run_matches(cloud: LocalCloud) -> None:
    nodes = [{"name": "Items", "type": "code",
              "parameters": {"code": 'return [{"i": i} for i in range(4)]'}},
             {"name": "Each", "type": "splitInBatches", "parameters": {"batchSize": 2}},
             {"name": "Body", "type": "noOp"}, {"name": "After", "type": "noOp"}]
    connections = [{"from": "Start", "to": "Items"}, {"from": "Items", "to": "Each"},
                   {"from": "Each", "output": "loop", "to": "Body"},
                   {"from": "Body", "to": "Each"},
                   {"from": "Each", "output": "done", "to": "After"}]
    pins = {"Body": [{"i": 0}, {"i": 1}], "After": [{"i": i} for i in range(4)]}
    verdict = run_text(cloud, document(nodes, connections, pins), "loop")
    assert (verdict.outcome, verdict.reason) == (RUNS, '"Body" ran 2 times, n8n expects one run')


def test_a_failed_execution_fails_with_its_error(cloud: LocalCloud) -> None:
    nodes = [{"name": "Stop", "type": "stopAndError", "parameters": {"message": "halt"}}]
    verdict = run_text(cloud, document(nodes, [{"from": "Start", "to": "Stop"}], {}), "stop")
    assert verdict.outcome == EXECUTION_FAILED
    assert verdict.reason == "FAILED Sfnflow.StoppedByNode: halt"


class BrokenCloud:
    def start(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("the cloud fell over")


def test_anything_else_going_wrong_is_a_verdict_not_an_exception() -> None:
    verdict = run_text(BrokenCloud(), tagged({}), "broken")  # type: ignore[arg-type]
    assert verdict.outcome == HARNESS_ERROR
    assert verdict.reason.startswith("RuntimeError: the cloud fell over (test_harness.py:")


def test_a_lambda_error_report_reads_as_its_message() -> None:
    report = json.dumps({"errorType": "E", "errorMessage": "boom", "stackTrace": ["..."]})
    assert failure("FAILED", "E", report) == "FAILED E: boom"
    assert failure("TIMED_OUT", None, None) == "TIMED_OUT"


@pytest.mark.parametrize(("text", "reason"), [
    ("nodes: [", "workflow: bad: not valid JSON or YAML"),
    ("[1, 2]", "workflow: bad: not a workflow object"),
    (json.dumps({"name": "x", "nodes": [START, {"name": "N", "type": "nope"}],
                 "connections": [{"from": "Start", "to": "N"}]}), "node 'N'"),
])
def test_a_document_that_does_not_compile_is_a_verdict(cloud: LocalCloud, text: str,
                                                      reason: str) -> None:
    verdict = run_text(cloud, text, "bad")
    assert verdict.outcome == COMPILE_ERROR
    assert verdict.reason.startswith(reason)
    assert verdict.lowering is None


def n8n_node(name: str, node_type: str, parameters: dict[str, Any] | None = None,
             version: float = 1) -> dict[str, Any]:
    package = "n8n-nodes-testing" if node_type == "testData" else "n8n-nodes-base"
    return {"id": name, "name": name, "type": f"{package}.{node_type}", "typeVersion": version,
            "parameters": parameters or {}, "position": [0, 0]}


def n8n_document(nodes: list[dict[str, Any]], edges: list[tuple[str, int, str]],
                 pins: dict[str, list[Any]]) -> dict[str, Any]:
    """n8n's exported shape; ``edges`` are ``(from, output, to)`` into input 0."""
    connections: dict[str, Any] = {}
    for source, output, target in edges:
        ports = connections.setdefault(source, {"main": []})["main"]
        ports.extend([] for _ in range(output + 1 - len(ports)))
        ports[output].append({"node": target, "type": "main", "index": 0})
    return {"name": "n8n harness", "nodes": [n8n_node("Go", "manualTrigger"), *nodes],
            "connections": connections, "pinData": pins, "settings": {"executionOrder": "v1"}}


DATA = n8n_node("Data", "testData", {"data": [{"n": 1}, {"n": 2}, {"n": 3}]})
FIRST = n8n_node("First", "limit", {"maxItems": 1})
LIMITED = [DATA, FIRST], [("Go", 0, "Data"), ("Data", 0, "First")]


def test_an_n8n_workflow_passes_when_its_pins_match(cloud: LocalCloud) -> None:
    text = json.dumps(n8n_document(*LIMITED, {"First": [{"json": {"n": 1}}]}))
    verdict = run_text(cloud, text, "n8n-pass.json")
    assert (verdict.outcome, verdict.reason) == (PASS, "")


def test_an_n8n_workflow_mismatch_names_the_item(cloud: LocalCloud) -> None:
    text = json.dumps(n8n_document(*LIMITED, {"First": [{"json": {"n": 3}}]}))
    verdict = run_text(cloud, text, "n8n-mismatch.json")
    assert (verdict.outcome, verdict.reason) == (MISMATCH, '"First" [0].json.n: got 1, expected 3')


def test_an_n8n_node_fed_no_items_is_missing(cloud: LocalCloud) -> None:
    never = n8n_node("Never", "if", {"conditions": {"boolean": [
        {"value1": "={{ $json.n > 5 }}", "value2": True}]}})
    nodes = [DATA, never, n8n_node("Big", "noOp")]
    edges = [("Go", 0, "Data"), ("Data", 0, "Never"), ("Never", 0, "Big")]
    verdict = run_text(cloud, json.dumps(n8n_document(nodes, edges, {"Big": []})), "n8n.json")
    assert (verdict.outcome, verdict.reason) == (MISSING, 'Data for node "Big" is missing!')


def test_an_n8n_document_expects_its_pin_data_and_runs_without_it() -> None:
    document = n8n_document(*LIMITED, {"First": [{"json": {"n": 1}}]})
    document["trigger"] = {"mode": "manual"}
    prepared = prepare(json.dumps(document), "n8n.json")
    assert prepared.expected == {"First": [{"json": {"n": 1}}]}
    assert prepared.n8n
    assert "pinData" not in prepared.document and "trigger" not in prepared.document
    assert prepared.document["connections"] == document["connections"]  # the compiler's job


def test_sfnflow_pins_are_plain_objects_wrapped_as_n8n_items() -> None:
    prepared = prepare(tagged({"Tag": [{"a": 1}]}), "own.json")
    assert prepared.expected == {"Tag": [{"json": {"a": 1}}]}
    assert not prepared.n8n


def run(output: list[list[Any]] | None) -> NodeRun:
    return NodeRun("e", "N", "noOp", "success", "", "", 0, output=output)


def test_output_zero_is_what_n8n_compares() -> None:
    wrapped = {"json": {"a": 1}, "pairedItem": {"item": 0}, "binary": {}}
    assert output_zero(run([[wrapped, {"b": 2}], [{"c": 3}]]), n8n=True) == [
        {"json": {"a": 1}}, {"json": {"b": 2}}]
    assert output_zero(run([[{"json": 1}]]), n8n=False) == [{"json": {"json": 1}}]
    assert output_zero(run(None), n8n=True) is None
    assert output_zero(run([]), n8n=True) == []


def test_only_an_n8n_shaped_item_reads_as_wrapped() -> None:
    assert as_n8n_item({"json": {}, "pairedItem": 0}, n8n=True) == {"json": {}, "pairedItem": 0}
    assert as_n8n_item({"json": {}, "other": 0}, n8n=True) == {"json": {"json": {}, "other": 0}}
    assert as_n8n_item({"json": {}}, n8n=False) == {"json": {"json": {}}}
