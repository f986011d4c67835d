"""benchmarks.peer_shapes: every shape compiles as an sfnflow workflow, its n8n twin links
only nodes it has, and the critical paths are the DAG's (the live side of each IF)."""

from __future__ import annotations

import pytest

from benchmarks.peer_shapes import SHAPES, VALUE, n8n_document, sfnflow_document
from compiler import compile_workflow
from compiler.explain import critical_path, node_weights

BASE = "http://127.0.0.1:9"


@pytest.mark.parametrize("name", list(SHAPES))
def test_both_documents_describe_the_same_nodes(name: str) -> None:
    shape = SHAPES[name]()
    compiled = compile_workflow(sfnflow_document(shape, BASE))
    n8n = n8n_document(shape, BASE)
    names = {node["name"] for node in n8n["nodes"]}
    assert names == {node.name for node in compiled.graph.nodes}
    targets = {link["node"] for outputs in n8n["connections"].values()
               for port in outputs["main"] for link in port}
    assert set(n8n["connections"]) | targets <= names


@pytest.mark.parametrize(("name", "seconds"), [("fan-out", 1.0), ("chain", 1.5), ("n", 3.5),
                                               ("items-1", 3.0), ("items-10", 0.3)])
def test_critical_paths(name: str, seconds: float) -> None:
    shape = SHAPES[name]()
    graph = compile_workflow(sfnflow_document(shape, BASE)).graph
    weights = node_weights(graph, shape.live_seconds(), default=0.0)
    assert critical_path(graph, weights)[0] == pytest.approx(seconds)


def test_an_if_sends_the_value_one_way_only() -> None:
    shape = SHAPES["if-heavy"]()
    live = shape.live_seconds()
    tests = [step for step in shape.steps if step.kind == "if"]
    assert tests and {VALUE % step.modulus == 0 for step in tests} == {True, False}
    assert 0 < sum(1 for step in shape.steps if step.kind == "call" and live[step.name]) \
        < sum(1 for step in shape.steps if step.kind == "call")
