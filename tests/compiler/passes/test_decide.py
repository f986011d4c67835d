"""The decisions pass on tiny graphs: each choice, and its reason."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.passes.decide import IN_DISTRIBUTED, Decisions, decide
from compiler.passes.structure import Flow
from compiler.passes.validate import validate


def decided(nodes: list[dict[str, Any]], links: list[tuple[str, ...]],
            **settings: Any) -> Decisions:
    """A workflow of a manualTrigger ``T`` and ``nodes``; links are ``(from, to[, output])``."""
    document = {"name": "tiny", "nodes": [{"name": "T", "type": "manualTrigger"}, *nodes],
                "connections": [{"from": a, "to": b, **({"output": o[0]} if o else {})}
                                for a, b, *o in links]}
    if settings:
        document["settings"] = settings
    return decide(validate(document))


def node(decisions: Decisions, name: str) -> tuple[str, str]:
    choice = decisions.nodes[decisions.graph.index[name]]
    return choice.lowering, choice.reason


def code(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "code", "parameters": {"code": "return items"}, **extra}


def test_a_set_node_is_native_and_a_code_node_runs_on_the_runner() -> None:
    d = decided([{"name": "S", "type": "set", "parameters": {"values": {"a": 1}}}, code("C")],
                [("T", "S"), ("S", "C")])
    assert node(d, "S")[0] == "native" and d.native(d.graph.index["S"])
    assert node(d, "C") == ("runner", "its type runs on the node runner")
    assert d.on_runner(d.graph.index["C"]) and d.fallback_reason(d.graph.index["C"]) is None


def test_a_native_node_with_retry_falls_back_and_says_why() -> None:
    d = decided([{"name": "S", "type": "set", "parameters": {"values": {"a": 1}},
                  "retry": {"maxAttempts": 2}}], [("T", "S")])
    assert node(d, "S") == ("runner", "not native: retry")
    assert d.fallback_reason(d.graph.index["S"]) == "retry"


def loop(body: list[dict[str, Any]], **params: Any) -> Decisions:
    names = [n["name"] for n in body]
    links = [("T", "L"), ("L", names[0], "loop"), *zip(names, names[1:], strict=False),
             (names[-1], "L"), ("L", "After", "done")]
    return decided([{"name": "L", "type": "forEach", "parameters": params}, *body,
                    {"name": "After", "type": "noOp"}], links)


def test_loops_are_inline_or_distributed_with_their_reason() -> None:
    body = [{"name": "S", "type": "set", "parameters": {"values": {"a": 1}}}]
    inline = loop(body)
    choice = inline.loops[inline.graph.index["L"]]
    assert not choice.distributed and "fit one execution's history" in choice.reason
    assert choice.iteration_limit is not None and choice.iteration_limit > 100
    assert node(inline, "S")[0] == "native"
    forced = loop(body, mode="distributed")
    assert forced.loops[forced.graph.index["L"]].reason == "mode: distributed"
    assert node(forced, "S") == ("runner", f"not native: {IN_DISTRIBUTED}")
    wide = loop(body, maxConcurrency=100)
    assert "over an inline Map's 40" in wide.loops[wide.graph.index["L"]].reason


def test_a_loop_too_heavy_for_one_history_is_distributed_by_the_estimate() -> None:
    body = [{"name": f"S{i}", "type": "set", "parameters": {"values": {"a": i}}}
            for i in range(80)]
    d = loop(body)
    choice = d.loops[d.graph.index["L"]]
    assert choice.distributed and "child execution" in choice.reason
    assert choice.iteration_limit is None


N_LINKS = [("T", "a"), ("T", "b"), ("a", "c"), ("b", "c"), ("b", "d")]


def test_an_n_segment_is_a_flow_when_a_member_takes_time() -> None:
    d = decided([code(n) for n in "abcd"], N_LINKS)
    (segment,) = d.segments
    assert segment.flow and segment.reason.startswith("flow: ")
    assert isinstance(d.plan, Flow) or any(isinstance(s, Flow) for s in d.plan.steps)


@pytest.mark.parametrize(("nodes", "settings", "reason"), [
    ([{"name": n, "type": "noOp"} for n in "abcd"], {}, "cut: no member takes time"),
    ([code(n) for n in "abcd"], {"rendezvous": "never"}, "cut: rendezvous never"),
])
def test_an_n_segment_is_cut_otherwise(nodes: list[dict[str, Any]], settings: dict[str, Any],
                                       reason: str) -> None:
    d = decided(nodes, N_LINKS, **settings)
    (segment,) = d.segments
    assert not segment.flow and segment.reason.startswith(reason)


def test_a_series_parallel_graph_has_no_segment_to_decide() -> None:
    d = decided([code(n) for n in "abc"], [("T", "a"), ("T", "b"), ("a", "c"), ("b", "c")])
    assert d.segments == ()


def test_every_decision_reads_by_name_with_its_reason() -> None:
    d = decided([code("a"), {"name": "b", "type": "noOp"}], [("T", "a"), ("a", "b")])
    shown = d.to_dict()
    assert set(shown["nodes"]) == {"T", "a", "b"}
    assert all(choice["reason"] for choice in shown["nodes"].values())
    assert shown["nodes"]["b"]["lowering"] == "native"
    assert shown["loops"] == {} and shown["segments"] == []
