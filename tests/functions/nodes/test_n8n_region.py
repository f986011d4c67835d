"""The node runner's n8n loop region (``functions.nodes.n8n_region``) with an in-memory store:
what it records, what members see, and what a failing member leaves behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler.passes.validate import validate
from functions.errors import NodeError
from functions.nodes.base import NodeContext
from functions.nodes.n8n_region import CONTEXT_PREFIX, RegionStore, stored_contexts
from functions.nodes.n8n_run import run_node
from functions.store.repository import NodeRun

from .support import context

BASE = "n8n-nodes-base."


def _region(body_code: str) -> dict[str, Any]:
    """Start -> Loop v2 (batch 1) -> Body (Code) -> back; done -> After."""
    def node(name: str, kind: str, version: float, **parameters: Any) -> dict[str, Any]:
        return {"name": name, "type": BASE + kind, "typeVersion": version,
                "parameters": parameters, "position": [0, 0]}
    document = {"name": "w", "nodes": [
        node("Start", "manualTrigger", 1), node("Loop", "splitInBatches", 2, batchSize=1),
        node("Body", "code", 2, jsCode=body_code), node("After", "noOp", 1)],
        "connections": {
            "Start": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]},
            "Loop": {"main": [[{"node": "Body", "type": "main", "index": 0}],
                              [{"node": "After", "type": "main", "index": 0}]]},
            "Body": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]}}}
    return validate(document).nodes[1].parameters


class _Store(RegionStore):
    def __init__(self) -> None:
        self.runs: list[NodeRun] = []
        self.events: list[tuple[str, str, int]] = []
        super().__init__(self.runs.append,
                         lambda _e, event, node, index: self.events.append((event, node, index)))


def _context(parameters: dict[str, Any], earlier: list[NodeRun]) -> NodeContext:
    ctx = context("sfnflow.n8nLoop", parameters)
    ctx.extras["n8n"] = {
        "node": {"name": "Loop (n8n loop)", "n8n": json.dumps({"timezone": "UTC"})},
        "executionId": "exec-1", "workflow": "w", "sources": [[("Start", 0)]],
        "runs": lambda: earlier}
    return ctx


ITEMS = [[{"json": {"n": n}} for n in range(3)]]
BODY = "return $input.all().map(i => ({json: {...i.json, run: $runIndex, " \
       "left: $node['Loop'].context['noItemsLeft']}}));"


def test_members_run_with_their_run_index_and_the_loop_context_and_are_recorded() -> None:
    store = _Store()
    earlier = [NodeRun("exec-1", "Body", BASE + "code", "success", "t", "t", 0, run_index=1,
                       output=[[{"json": {"old": True}}]])]  # an earlier pass of the region
    [done] = run_region_node_for(_region(BODY), earlier, store)
    assert [item["json"] for item in done] == [
        {"n": 0, "run": 2, "left": False}, {"n": 1, "run": 3, "left": False},
        {"n": 2, "run": 4, "left": True}]
    assert [(run.node, run.run_index, run.status) for run in store.runs] == [
        ("Loop", 0, "success"), ("Body", 2, "success"), ("Loop", 1, "success"),
        ("Body", 3, "success"), ("Loop", 2, "success"), ("Body", 4, "success"),
        ("Loop", 3, "success"), (CONTEXT_PREFIX + "Loop (n8n loop)", 0, "context")]
    assert store.events[:2] == [("nodeStarted", "Loop", 0), ("nodeStarted", "Body", 2)]
    assert stored_contexts(store.runs) == {"Loop": {
        "noItemsLeft": True, "done": True, "maxRunIndex": 3, "currentRunIndex": 3}}


def run_region_node_for(parameters: dict[str, Any], earlier: list[NodeRun],
                        store: RegionStore) -> list[list[dict[str, Any]]]:
    from functions.nodes.n8n_region import run_region_node

    return run_region_node(ITEMS, _context(parameters, earlier), store)


def test_a_failing_member_keeps_the_runs_before_it_and_fails_the_region() -> None:
    store = _Store()
    failing = "if ($runIndex === 1) throw new Error('boom'); return $input.all();"
    with pytest.raises(NodeError, match="boom"):
        run_region_node_for(_region(failing), [], store)
    assert [(run.node, run.run_index, run.status) for run in store.runs][:4] == [
        ("Loop", 0, "success"), ("Body", 0, "success"), ("Loop", 1, "success"),
        ("Body", 1, "error")]
    assert store.runs[3].error is not None and "boom" in store.runs[3].error["message"]


def test_the_region_dispatches_from_the_n8n_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    store = _Store()
    monkeypatch.setattr(RegionStore, "from_env", classmethod(lambda _cls: store))
    [done] = run_node("sfnflow.n8nLoop", ITEMS, _context(_region("return $input.all();"), []))
    assert len(done) == 3 and {run.node for run in store.runs} >= {"Loop", "Body"}
