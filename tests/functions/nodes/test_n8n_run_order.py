"""The node runner's share of n8n's legacy execution order (``n8n_run.waits_for_input_0``):
a multi-input node whose input 0 got no items does not run in a v0 document."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.runner import NodeRunner
from local.cloud import LocalCloud

MERGE = "n8n-nodes-base.merge"


def merge_event(order: str, first: list[Any], second: list[Any], **node: Any) -> dict[str, Any]:
    connections = {source: {"main": [[{"node": "Merge", "type": "main", "index": index}]]}
                   for index, source in enumerate(("A", "B"))}
    context = {"connections": connections, "timezone": "UTC", "executionOrder": order}
    return {
        "workflow": "wf",
        "execution": {"id": "exec-1", "startTime": "2026-01-01T00:00:00Z"},
        "node": {"name": "Merge", "type": MERGE, "parameters": json.dumps({}),
                 "outputs": ["main"], "typeVersion": 2.1, "n8n": json.dumps(context), **node},
        "inputs": [[{"from": "A", "output": 0}], [{"from": "B", "output": 0}]],
        "data": {"A": {"ports": [{"count": len(first), "items": first}]},
                 "B": {"ports": [{"count": len(second), "items": second}]}},
    }


@pytest.fixture
def runner(cloud: LocalCloud) -> NodeRunner:
    return NodeRunner(cloud.repository)


def output(result: dict[str, Any]) -> list[Any]:
    return [item["json"] for item in result["ports"][0]["items"]]


@pytest.mark.parametrize(("order", "expected"), [("v0", []), ("v1", [{"b": 1}])])
def test_a_merge_with_nothing_on_input_0_runs_only_in_v1(
        runner: NodeRunner, order: str, expected: list[Any]) -> None:
    assert output(runner.run(merge_event(order, [], [{"b": 1}]))) == expected


def test_in_v0_always_output_data_still_gives_one_empty_item_paired_with_input_2(
        runner: NodeRunner) -> None:
    result = runner.run(merge_event("v0", [], [{"b": 1}, {"b": 2}], alwaysOutputData=True))
    assert result["ports"][0]["items"] == [{"json": {}, "pairedItem": [
        {"item": 0, "input": 1}, {"item": 1, "input": 1}]}]


def test_in_v0_items_on_input_0_run_the_merge(runner: NodeRunner) -> None:
    assert output(runner.run(merge_event("v0", [{"a": 1}], []))) == [{"a": 1}]
