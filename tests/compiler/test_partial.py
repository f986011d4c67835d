"""compiler.partial: which nodes run, replay or stay silent in a partial execution."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from compiler.partial import partial_plan


def graph(*edges: tuple[str, str], extra: list[dict[str, Any]] | None = None) -> Any:
    names = dict.fromkeys(name for edge in edges for name in edge)
    nodes = [{"name": "T", "type": "manualTrigger"}] + [
        {"name": name, "type": "noOp"} for name in names if name != "T"] + (extra or [])
    return compile_workflow({
        "name": "p", "nodes": nodes,
        "connections": [{"from": a, "to": b} for a, b in edges]}).graph


DIAMOND = [("T", "A"), ("A", "B"), ("A", "C"), ("B", "D"), ("C", "D"), ("A", "E")]


def test_start_node_runs_itself_and_everything_below() -> None:
    plan = partial_plan(graph(*DIAMOND), ["B"])
    assert plan.run == ["B", "D"]
    assert plan.reuse == ["T", "A", "C"]  # D needs C's items too
    assert plan.skip == ["E"]


def test_destination_cuts_the_run() -> None:
    plan = partial_plan(graph(*DIAMOND), ["A"], "B")
    assert plan.run == ["A", "B"]
    assert plan.reuse == ["T"]
    assert plan.skip == ["C", "D", "E"]


def test_destination_alone_runs_what_it_depends_on() -> None:
    plan = partial_plan(graph(*DIAMOND), [], "D")
    assert plan.run == ["T", "A", "B", "C", "D"]
    assert plan.reuse == [] and plan.skip == ["E"]


def test_unknown_and_unreachable_nodes_are_named() -> None:
    with pytest.raises(WorkflowInvalid) as caught:
        partial_plan(graph(*DIAMOND), ["Nope"], "Gone")
    assert {(p.node, p.field) for p in caught.value.problems} == {
        ("Nope", "startNodes"), ("Gone", "destinationNode")}
    with pytest.raises(WorkflowInvalid, match="not reachable"):
        partial_plan(graph(*DIAMOND), ["B"], "C")
