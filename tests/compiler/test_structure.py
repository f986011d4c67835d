"""The structure pass on tiny graphs, and its guarantees on random DAGs.

Plans are compared through ``shape``: a node is its name, ``("seq", a, b, ...)`` a sequence,
``("par", frozenset(branches))`` a parallel block (branch order carries no meaning) and
``("guard", ((node, port), ...), body)`` a guarded block with ports named, not indexed.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from compiler.graph import Graph
from compiler.passes.decide import decide
from compiler.passes.structure import (
    Flow,
    Guard,
    NodeStep,
    Par,
    Seq,
    Step,
    has_flows,
    nodes_of,
)
from compiler.passes.validate import validate
from tests.compiler.plan_eval import critical_path, makespan, node_times
from tests.compiler.random_dags import random_dag, series_parallel_dag

Shape = Any


def workflow(edges: list[tuple[str, ...]],
             types: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A document of a manualTrigger ``T`` and noOp nodes, with ``(from, to[, output])``.

    The noOps run on the node runner (``retry``), so blocks fed by branch ports are guarded;
    natively lowered nodes may run unguarded (``test_native_branches_run_unguarded``)."""
    types = types or {}
    names = ["T"]
    for edge in edges:
        names += [name for name in edge[:2] if name not in names]
    nodes = []
    for name in names:
        default = {"type": "manualTrigger"} if name == "T" else RUNNER_NOOP
        nodes.append({"name": name, **types.get(name, default)})
    connections = [
        {"from": e[0], "to": e[1], **({"output": e[2]} if len(e) == 3 else {})} for e in edges
    ]
    return {"name": "tiny", "nodes": nodes, "connections": connections}


def structure(graph: Graph, weights: list[float] | None = None,
              flows: str | None = None) -> Step:
    """The workflow's plan, its node and segment choices made by the decisions pass."""
    return decide(graph, weights, flows).plan


def plan_of(document: dict[str, Any], weights: list[float] | None = None) -> tuple[Graph, Step]:
    graph = validate(document)
    return graph, structure(graph, weights)


def shape(graph: Graph, step: Step) -> Shape:
    if isinstance(step, NodeStep):
        return graph.name(step.node)
    if isinstance(step, Seq):
        return ("seq", *(shape(graph, child) for child in step.steps))
    if isinstance(step, Par):
        return ("par", frozenset(shape(graph, branch) for branch in step.branches))
    if isinstance(step, Flow):
        return ("flow", frozenset(tuple(graph.name(n) for n in chain) for chain in step.chains),
                {graph.name(n): {graph.name(p) for p in producers}
                 for n, producers in step.waits})
    ports = tuple((graph.name(n), graph.outputs[n][p]) for n, p in step.ports)
    return ("guard", ports, shape(graph, step.body))


def par(*branches: Shape) -> Shape:
    return ("par", frozenset(branches))


IF = {"type": "if", "parameters": {"condition": "{% $json.ok %}"}}
RUNNER_NOOP = {"type": "noOp", "retry": {"maxAttempts": 1}}
NATIVE_NOOP = {"type": "noOp"}


def assert_well_formed(graph: Graph, plan: Step) -> None:
    """Every node exactly once; no trivial or nested-same-kind blocks; guards on branch ports."""
    assert sorted(nodes_of(plan)) == list(range(len(graph)))

    def walk(step: Step, parent: type | None) -> None:
        if isinstance(step, Seq):
            assert len(step.steps) >= 2 and parent is not Seq, step
            for child in step.steps:
                walk(child, Seq)
        elif isinstance(step, Par):
            assert len(step.branches) >= 2, step
            for branch in step.branches:
                walk(branch, Par)
        elif isinstance(step, Guard):
            assert step.ports
            for node, port in step.ports:
                assert 0 <= port < len(graph.outputs[node]), step
                assert graph.type_of(node) in ("if", "switch") or (
                    "error" in graph.outputs[node]
                ), step
            walk(step.body, Guard)

    walk(plan, None)


def assert_edges_respected(graph: Graph, plan: Step, weights: list[float]) -> None:
    times = node_times(plan, weights)
    for edge in graph.edges:
        finish = times[edge.source][1]
        start = times[edge.target][0]
        assert finish <= start + 1e-9, (graph.name(edge.source), graph.name(edge.target))


# --------------------------------------------------------------------------- tiny graphs


@pytest.mark.parametrize(
    ("edges", "types", "expected"),
    [
        pytest.param([("T", "a"), ("a", "b")], {}, ("seq", "T", "a", "b"), id="chain"),
        pytest.param([("T", "a"), ("T", "b")], {}, ("seq", "T", par("a", "b")), id="fork"),
        pytest.param(
            [("T", "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], {},
            ("seq", "T", "a", par("b", "c"), "d"), id="diamond",
        ),
        pytest.param(
            [("T", "a"), ("T", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")], {},
            ("seq", "T", par("a", "b"), par("c", "d")), id="complete-bipartite",
        ),
        pytest.param(
            [("T", "a"), ("a", "b1"), ("b1", "b2"), ("a", "c"), ("b2", "d"), ("c", "d")], {},
            ("seq", "T", "a", par(("seq", "b1", "b2"), "c"), "d"), id="uneven-diamond",
        ),
        pytest.param(
            [("T", "I"), ("I", "a", "true"), ("I", "b", "false")], {"I": IF},
            ("seq", "T", "I", par(("guard", (("I", "true"),), "a"),
                                  ("guard", (("I", "false"),), "b"))),
            id="if-both-outputs",
        ),
        pytest.param(
            [("T", "I"), ("I", "a", "true"), ("a", "b")], {"I": IF},
            ("seq", "T", "I", ("guard", (("I", "true"),), "a"), "b"),
            id="if-true-in-chain",
        ),
        pytest.param(
            [("T", "I"), ("I", "a", "true"), ("a", "b"), ("I", "c", "false")], {"I": IF},
            ("seq", "T", "I", par(("guard", (("I", "true"),), ("seq", "a", "b")),
                                  ("guard", (("I", "false"),), "c"))),
            id="if-branch-with-chain",
        ),
        pytest.param(
            [("T", "I"), ("I", "a", "true"), ("I", "a", "false")], {"I": IF},
            ("seq", "T", "I", ("guard", (("I", "true"), ("I", "false")), "a")),
            id="if-both-outputs-into-one-node",
        ),
        pytest.param(
            [("T", "F"), ("F", "h", "error"), ("F", "ok")],
            {"F": {"type": "noOp", "onError": "continueErrorOutput"}},
            # Every port of a continueErrorOutput node is a branch port: on an error the
            # main port is empty, so its block is skipped too.
            ("seq", "T", "F", par(("guard", (("F", "error"),), "h"),
                                  ("guard", (("F", "main"),), "ok"))),
            id="error-output-node-ports-are-branch-ports",
        ),
    ],
)
def test_tiny_graph_plan(edges: list[tuple[str, ...]], types: dict[str, Any],
                         expected: Shape) -> None:
    graph, plan = plan_of(workflow(edges, types))
    assert shape(graph, plan) == expected
    assert_well_formed(graph, plan)


N_EDGES = [("T", "a"), ("T", "b"), ("a", "c"), ("b", "c"), ("b", "d")]


def test_n_graph_runs_as_a_flow() -> None:
    """Runner nodes take time: the N runs as two chains, c waiting for b across them."""
    graph, plan = plan_of(workflow(N_EDGES))
    assert_well_formed(graph, plan)
    assert shape(graph, plan) == ("seq", "T", ("flow", frozenset({("a", "c"), ("b", "d")}),
                                               {"c": {"b"}}))
    weights = [1.0] * len(graph)
    weights[graph.index["a"]] = weights[graph.index["d"]] = 5.0
    assert_edges_respected(graph, plan, weights)
    assert makespan(plan, weights) == critical_path(graph.succs, weights) == 7.0


def test_chains_follow_the_latest_predecessor() -> None:
    """A node continues the chain of the predecessor it would wait for longest (no
    rendezvous on the critical path), even if that costs a rendezvous elsewhere."""
    graph = validate(workflow(N_EDGES))
    weights = [1.0] * len(graph)
    weights[graph.index["b"]] = 3.0  # c waits for b longer than for a
    plan = structure(graph, weights)
    assert shape(graph, plan) == ("seq", "T", ("flow", frozenset({("a",), ("b", "c"), ("d",)}),
                                               {"c": {"a"}, "d": {"b"}}))


def test_instant_nodes_are_cut_not_flowed() -> None:
    """``rendezvous: auto``: pure-data Pass states take no time, so a cut costs nothing."""
    graph, plan = plan_of(workflow(N_EDGES, {n: {"type": "noOp"} for n in "abcd"}))
    assert shape(graph, plan) == ("seq", "T", par("a", "b"), par("c", "d"))


@pytest.mark.parametrize(("mode", "flows"), [("never", False), ("always", True)])
def test_rendezvous_setting(mode: str, flows: bool) -> None:
    document = workflow(N_EDGES, {n: {"type": "noOp"} for n in "abcd"})
    document["settings"] = {"rendezvous": mode}
    graph, plan = plan_of(document)
    assert isinstance(plan, Seq) and isinstance(plan.steps[1], Flow) == flows


def test_a_branch_port_keeps_the_segment_structured() -> None:
    """A chain has no guards: a node fed by an IF output cannot run in one."""
    edges = [("T", "I"), ("I", "a", "true"), ("I", "b", "true"), ("a", "c"), ("b", "c"),
             ("b", "d")]
    graph, plan = plan_of(workflow(edges, {"I": IF}))
    assert not has_flows({None: plan})
    assert has_flows({None: plan_of(workflow(N_EDGES))[1]})
    assert_edges_respected(graph, plan, [1.0] * len(graph))


def test_n_graph_has_every_node_once_in_a_valid_order() -> None:
    # a -> c, b -> c, b -> d: no series cut and one connected piece, the fallback split.
    graph = validate(workflow(N_EDGES))
    plan = structure(graph, flows="never")
    assert_well_formed(graph, plan)
    assert_edges_respected(graph, plan, [1.0] * len(graph))
    # Cut after the first layer: with unit weights the forced synchronisation costs nothing.
    assert shape(graph, plan) == ("seq", "T", par("a", "b"), par("c", "d"))
    assert makespan(plan, [1.0] * len(graph)) == 3.0


def test_n_graph_split_follows_the_weights() -> None:
    """A heavy ``d`` should not wait for ``a``: with estimates, the cut is chosen to suit."""
    document = workflow([("T", "a"), ("T", "b"), ("a", "c"), ("b", "c"), ("b", "d")])
    graph = validate(document)
    weights = [1.0] * len(graph)
    weights[graph.index["a"]] = 5.0
    weights[graph.index["d"]] = 5.0
    plan = structure(graph, weights, flows="never")
    assert_well_formed(graph, plan)
    assert_edges_respected(graph, plan, weights)
    # T, then a in parallel with b -> d, then c: 1 + 6 + 1. The unit-weight cut would
    # pair the heavy a with the heavy d's wait (1 + 5 + 5); the DAG itself needs 7.
    assert shape(graph, plan) == ("seq", "T", par("a", ("seq", "b", "d")), "c")
    assert makespan(plan, weights) == 8.0
    assert makespan(structure(graph, flows="never"), weights) == 11.0
    assert critical_path(graph.succs, weights) == 7.0


def test_merge_fed_by_both_if_outputs_is_not_guarded() -> None:
    document = workflow(
        [("T", "I"), ("I", "a", "true"), ("I", "b", "false"), ("a", "m"), ("b", "m")],
        {"I": IF},
    )
    graph, plan = plan_of(document)
    assert shape(graph, plan) == (
        "seq", "T", "I",
        par(("guard", (("I", "true"),), "a"), ("guard", (("I", "false"),), "b")),
        "m",
    )


def test_native_branches_run_unguarded() -> None:
    """A native pure-data node outputs nothing for no items and records no run: guarding it
    would only add a Choice transition. A runner node (or a Wait) keeps its guard."""
    document = workflow(
        [("T", "I"), ("I", "a", "true"), ("a", "b"), ("I", "c", "false"), ("I", "w", "false")],
        {"I": IF, "a": NATIVE_NOOP, "b": {"type": "set", "parameters": {"values": {"x": 1}}},
         "w": {"type": "wait", "parameters": {"seconds": 5}}},
    )
    graph, plan = plan_of(document)
    assert shape(graph, plan) == (
        "seq", "T", "I",
        par(("seq", "a", "b"), ("guard", (("I", "false"),), "c"),
            ("guard", (("I", "false"),), "w")),
    )


def test_a_native_block_past_the_cap_keeps_its_guard() -> None:
    from compiler.passes.structure import MAX_UNGUARDED_BLOCK

    chain = [f"n{i}" for i in range(MAX_UNGUARDED_BLOCK + 1)]
    edges = [("T", "I"), ("I", chain[0], "true"), ("I", "c", "false"),
             *zip(chain, chain[1:], strict=False)]
    types = {"I": IF, "c": NATIVE_NOOP} | {name: NATIVE_NOOP for name in chain}
    graph, plan = plan_of(workflow(edges, types))
    assert shape(graph, plan) == (
        "seq", "T", "I", par(("guard", (("I", "true"),), ("seq", *chain)), "c"))


def test_trigger_alone() -> None:
    graph, plan = plan_of({"name": "solo", "nodes": [{"name": "T", "type": "manualTrigger"}]})
    assert plan == NodeStep(0)


def test_two_triggers_run_in_parallel() -> None:
    document = {
        "name": "two-triggers",
        "nodes": [{"name": "T1", "type": "manualTrigger"}, {"name": "T2", "type": "manualTrigger"},
                  {"name": "j", "type": "noOp"}],
        "connections": [{"from": "T1", "to": "j"}, {"from": "T2", "to": "j"}],
    }
    graph, plan = plan_of(document)
    assert shape(graph, plan) == ("seq", par("T1", "T2"), "j")


# --------------------------------------------------------------------------- properties


SEEDS = range(200)


def _weights(rng: random.Random, size: int) -> list[float]:
    return [rng.uniform(0.1, 10.0) for _ in range(size)]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_dag_plan_is_complete_and_ordered(seed: int) -> None:
    rng = random.Random(seed)
    graph = validate(random_dag(rng, rng.randint(2, 40)))
    weights = _weights(rng, len(graph))
    plan = structure(graph, weights if seed % 2 else None, flows="never")
    assert_well_formed(graph, plan)
    assert_edges_respected(graph, plan, weights)
    assert makespan(plan, weights) >= critical_path(graph.succs, weights) - 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_random_dag_flows_take_the_critical_path(seed: int) -> None:
    """With rendezvous a plan waits only where the DAG does: exactly the critical path."""
    rng = random.Random(seed)
    graph = validate(random_dag(rng, rng.randint(2, 40)))
    weights = _weights(rng, len(graph))
    plan = structure(graph, weights, flows="always")
    assert_well_formed(graph, plan)
    assert_edges_respected(graph, plan, weights)
    assert makespan(plan, weights) == pytest.approx(critical_path(graph.succs, weights))


@pytest.mark.parametrize("seed", [1, 2])
def test_large_segments_are_cut_between_levels(seed: int) -> None:
    """Past ``SMALL_SEGMENT`` nodes a non-series-parallel segment is cut at its most
    balanced level boundary: still complete and ordered, and exact under unit weights."""
    rng = random.Random(seed)
    graph = validate(random_dag(rng, 900))
    plan = structure(graph, flows="never")
    assert_well_formed(graph, plan)
    unit = [1.0] * len(graph)
    assert_edges_respected(graph, plan, unit)
    assert makespan(plan, unit) == critical_path(graph.succs, unit)
    weights = _weights(rng, len(graph))
    assert_edges_respected(graph, plan, weights)


@pytest.mark.parametrize("seed", SEEDS)
def test_series_parallel_plan_makespan_is_the_critical_path(seed: int) -> None:
    rng = random.Random(10_000 + seed)
    graph = validate(series_parallel_dag(rng, rng.randint(2, 40)))
    plan = structure(graph)  # unit estimates: on SP DAGs the weights must not matter
    assert_well_formed(graph, plan)
    for _ in range(3):
        weights = _weights(rng, len(graph))
        assert_edges_respected(graph, plan, weights)
        assert makespan(plan, weights) == pytest.approx(
            critical_path(graph.succs, weights), abs=1e-9
        )


def test_plan_eval_on_a_hand_built_plan() -> None:
    plan = Seq((NodeStep(0), Par((NodeStep(1), Seq((NodeStep(2), NodeStep(3))))),
                Guard(((0, 0),), NodeStep(4))))
    weights = [1.0, 5.0, 2.0, 2.0, 0.5]
    assert makespan(plan, weights) == 6.5
    assert node_times(plan, weights) == {
        0: (0.0, 1.0), 1: (1.0, 6.0), 2: (1.0, 3.0), 3: (3.0, 5.0), 4: (6.0, 6.5)
    }
    with pytest.raises(ValueError, match="twice"):
        makespan(Seq((NodeStep(0), NodeStep(0))), weights)
    assert critical_path([[1, 2], [3], [3], []], [1.0, 5.0, 2.0, 1.0]) == 7.0
