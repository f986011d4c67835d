"""n8n's two execution orders, recorded on n8n 1.123 (``peer_order.json``), end to end.

Each case is a small n8n workflow that ``record_peer_order.py`` ran on n8n's engine without
``settings.executionOrder`` (legacy, "v0") and with ``"v1"``. A legacy document either runs
on the embedded cloud with n8n v0's items at every node, or is refused with the problem
``compiler.n8n.order`` gives (``REFUSED``). A refused case, set to v1 as the problem
advises, runs with n8n v1's items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE
from tests.n8n.harness import as_n8n_item

CASES: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("peer_order.json").read_text(encoding="utf-8"))

SET_V1 = ('Set Settings > Execution Order to "v1" in n8n (settings.executionOrder: "v1"): '
          "then a branch that gets no items does not run, and 'Merge' runs on the items its "
          "inputs received")
LEGACY = ("in n8n's legacy execution order (the document has no settings.executionOrder "
          "\"v1\"), when input 1 of 'Merge' (from {source}) gets items")

#: the legacy cases sfnflow refuses: every problem, as ``str(Problem)``
REFUSED: dict[str, list[str]] = {
    "empty_branch_through_a_node": [
        "node 'Merge' field 'settings.executionOrder': 'Tag' may get no items: "
        + LEGACY.format(source="'IF'") + " and 'Tag' got none, n8n runs 'Tag' (or the "
        "first node before it that did not run) on one empty item and 'Merge' gets its "
        "output on input 2; sfnflow does not invent that item. " + SET_V1],
    "unconnected_parent": [
        "node 'Lonely' field 'connections': unreachable from any trigger node",
        "node 'Merge' field 'settings.executionOrder': 'Lonely' has no input connection: "
        + LEGACY.format(source="'Data'") + ", n8n runs 'Lonely' on one empty item and "
        "'Merge' gets its output on input 2; in v1 order n8n never runs it, and sfnflow "
        "runs only what a trigger reaches. Connect 'Lonely' after the trigger or delete it"],
    "sibling_is_executed": [
        "node 'Probe' field 'parameters.assignments.assignments[0].value': reads 'Down', "
        "which is on a parallel branch (neither before nor after 'Probe'): whether 'Down' "
        "has run by then is the execution order -- n8n's legacy order (no "
        "settings.executionOrder \"v1\") runs nodes nearer the trigger first, v1 one branch "
        "after another by position, sfnflow parallel branches at the same time. Connect "
        "'Down' before 'Probe' so it has always run"],
}

#: where sfnflow differs from n8n in either order: not an execution-order case
ELSEWHERE = {
    "two_sources_one_input": "a node fed twice on one input runs once per arrival in n8n "
                             "($runIndex 0, then 1); sfnflow gives both runs $runIndex 0",
}


@pytest.fixture(scope="module")
def order_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def document(name: str, order: str) -> dict[str, Any]:
    settings = {"executionOrder": "v1"} if order == "v1" else {}
    return {"name": f"order-{name}-{order}".replace("_", "-"), **CASES[name]["workflow"],
            "settings": settings}


def ran(ports: list[list[Any]]) -> list[list[Any]] | None:
    """A node's output ports as json, ``None`` for "did not run" (or ran to nothing: the
    same to every node after it)."""
    return ports if any(ports) else None


def outputs(cloud: LocalCloud, workflow: dict[str, Any]) -> dict[str, list[list[Any]] | None]:
    execution_id = cloud.start(compile_workflow(workflow), None, mode="manual")
    finished = cloud.wait(execution_id, timeout_seconds=60)
    assert finished.status == "SUCCEEDED", finished.cause
    found: dict[str, list[list[Any]] | None] = {}
    for run in cloud.repository.node_runs(execution_id):
        found[run.node] = ran([[as_n8n_item(item, True)["json"] for item in port]
                               for port in run.output or []])
    return found


def assert_runs_as_n8n(cloud: LocalCloud, name: str, order: str) -> None:
    got = outputs(cloud, document(name, order))
    want = CASES[name][order]["items"]
    for node in {*got, *want}:
        ports = got.get(node) or []
        # n8n's run data may hold ports sfnflow does not draw (Filter v1's discarded items)
        expected = ran([port for port in want.get(node, [])][:max(len(ports), 1)])
        assert ran(ports) == expected, f"{name} ({order}) node {node!r}"


@pytest.mark.parametrize("name", [n for n in CASES if n not in REFUSED])
def test_a_legacy_document_runs_as_n8n_v0(order_cloud: LocalCloud, name: str) -> None:
    if name in ELSEWHERE:
        pytest.xfail(ELSEWHERE[name])
    assert_runs_as_n8n(order_cloud, name, "v0")


@pytest.mark.parametrize("name", REFUSED)
def test_a_legacy_case_sfnflow_cannot_honour_is_refused(name: str) -> None:
    with pytest.raises(WorkflowInvalid) as refused:
        compile_workflow(document(name, "v0"))
    assert [str(problem) for problem in refused.value.problems] == REFUSED[name]


def test_set_to_v1_as_advised_the_refused_merge_runs_as_n8n_v1(
        order_cloud: LocalCloud) -> None:
    assert_runs_as_n8n(order_cloud, "empty_branch_through_a_node", "v1")


def test_the_fixture_holds_a_difference_for_every_refusal() -> None:
    """(a refusal with no recorded difference would refuse a workflow for nothing)"""
    for name in REFUSED:
        assert CASES[name]["v0"]["items"] != CASES[name]["v1"]["items"], name
