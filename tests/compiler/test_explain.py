"""compiler.explain on tiny graphs, and its ASL walk against the plan evaluator of the tests."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.explain import (
    EXPRESS_PER_GB_SECOND,
    EXPRESS_PER_REQUEST,
    STANDARD_PER_TRANSITION,
    PathCost,
    WeightsInvalid,
    cost_per_1000,
    critical_path,
    evaluate_definition,
    explain,
    level_batching_makespan,
    node_weights,
    plan_makespan,
    topological_levels,
)
from tests.compiler import plan_eval
from tests.compiler.random_dags import random_branching_workflow, random_dag, series_parallel_dag

IF = {"type": "if", "parameters": {"condition": "{% $json.ok %}"}}
CODE = {"type": "code", "parameters": {"code": "return items"}}  # always a runner Task
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def workflow(edges: list[tuple[str, ...]],
             types: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A manualTrigger ``T`` and noOp nodes, connected by ``(from, to[, output[, input]])``."""
    types = types or {}
    names = ["T"]
    for edge in edges:
        names += [name for name in edge[:2] if name not in names]
    nodes = [{"name": n, **types.get(n, {"type": "manualTrigger" if n == "T" else "noOp"})}
             for n in names]
    connections = []
    for edge in edges:
        connection: dict[str, Any] = {"from": edge[0], "to": edge[1]}
        if len(edge) > 2:
            connection["output"] = edge[2]
        if len(edge) > 3:
            connection["input"] = int(edge[3])
        connections.append(connection)
    return {"name": "tiny", "nodes": nodes, "connections": connections}


# The "N": a feeds c; b feeds c and d. Not series-parallel.
N_EDGES = [("T", "a"), ("T", "b"), ("a", "c"), ("b", "c"), ("b", "d")]


def test_levels_and_critical_path_of_an_n() -> None:
    compiled = compile_workflow(workflow(N_EDGES))
    graph = compiled.graph
    names = [[graph.name(n) for n in level] for level in topological_levels(graph)]
    assert names == [["T"], ["a", "b"], ["c", "d"]]
    weights = node_weights(graph, {"a": 5, "d": 0.5})
    seconds, path = critical_path(graph, weights)
    assert seconds == 7.0
    assert [graph.name(n) for n in path] == ["T", "a", "c"]
    assert level_batching_makespan(graph, weights) == 7.0


def test_plan_makespan_can_exceed_the_critical_path_on_an_n() -> None:
    compiled = compile_workflow(workflow(N_EDGES))
    graph = compiled.graph
    weights = node_weights(graph, {"a": 1, "b": 3, "c": 1, "d": 3})
    assert critical_path(graph, weights)[0] == 7.0  # T b d
    # The plan is T, (a | b), (c | d): it waits for b before starting d... and c.
    assert plan_makespan(compiled.plan, weights) == 7.0
    weights = node_weights(graph, {"a": 3, "b": 1, "c": 1, "d": 3})
    assert critical_path(graph, weights)[0] == 5.0  # T a c / T b d
    assert plan_makespan(compiled.plan, weights) == 7.0  # T, max(a, b), max(c, d)


def test_transitions_and_lambda_calls_with_guards() -> None:
    edges = [("T", "I"), ("I", "x", "true"), ("x", "y"), ("I", "z", "false"),
             ("y", "M", 0, 0), ("z", "M", 0, 1)]
    merge = {"type": "merge", "parameters": {"mode": "append"}}
    types = {"I": IF, "M": merge, "x": CODE, "y": CODE, "z": CODE}
    e = explain(compile_workflow(workflow(edges, types)))
    # T, I, Parallel, [Choice, x, y], [Choice, z], M; Lambda: T x y z (I and M may be native)
    assert (e.run.live.transitions, e.run.live.lambda_calls) == (9, 4)
    # Skipped: each branch is its Choice plus a "skipped" Pass (both end their branch), so
    # skipping a one-node branch saves its Lambda call but no transition.
    assert (e.run.skipped.transitions, e.run.skipped.lambda_calls) == (8, 1)
    assert e.run.live.seconds == e.critical_path_seconds == 5.0
    assert e.run.skipped.seconds == 3.0
    assert e.makespan_ratio == 1.0
    assert e.levels == [["T"], ["I"], ["x", "z"], ["y"], ["M"]]


def test_guard_in_a_sequence_skips_to_the_next_state() -> None:
    e = explain(compile_workflow(workflow([("T", "I"), ("I", "a", "true"), ("a", "b")],
                                          {"I": IF, "a": CODE, "b": CODE})))
    assert (e.run.live.transitions, e.run.skipped.transitions) == (5, 4)  # T I ? a b / T I ? b
    assert (e.run.live.lambda_calls, e.run.skipped.lambda_calls) == (3, 2)


def test_wait_nodes_are_no_lambda_calls() -> None:
    wait = {"type": "wait", "parameters": {"seconds": 30}}
    e = explain(compile_workflow(workflow([("T", "W"), ("W", "a")], {"W": wait, "a": CODE})),
                {"a": 2.5})
    assert e.run.live == PathCost(seconds=4.5, transitions=3, lambda_calls=2)
    assert e.weighted_nodes == 1


def test_a_paused_wait_is_a_lambda_call() -> None:
    """A ``resume`` wait invokes the runner through ``lambda:invoke.waitForTaskToken``."""
    wait = {"type": "wait", "parameters": {"resume": "approval"}}
    e = explain(compile_workflow(workflow([("T", "W")], {"W": wait})))
    assert e.run.live.lambda_calls == 2 and e.run.live.transitions == 2


def test_cost_per_1000_executions() -> None:
    cost = cost_per_1000(PathCost(seconds=2.01, transitions=10, lambda_calls=4))
    assert math.isclose(cost.standard, 1000 * 10 * STANDARD_PER_TRANSITION)
    billed = 2.1 * (64 / 1024) * EXPRESS_PER_GB_SECOND  # rounded up to 100 ms
    assert math.isclose(cost.express, 1000 * (EXPRESS_PER_REQUEST + billed))
    assert math.isclose(cost_per_1000(PathCost(2.0, 1, 0)).express,
                        1000 * (EXPRESS_PER_REQUEST + 2.0 * (64 / 1024) * EXPRESS_PER_GB_SECOND))


def test_unknown_nodes_and_bad_seconds_are_reported_together() -> None:
    graph = compile_workflow(workflow([("T", "a")])).graph
    with pytest.raises(WeightsInvalid) as info:
        node_weights(graph, {"ghost": 1, "a": -2, "T": "slow"})
    message = str(info.value)
    assert "unknown node 'ghost'" in message and "'a'" in message and "'T'" in message


def test_to_dict_is_json_shaped() -> None:
    e = explain(compile_workflow(workflow(N_EDGES)))
    data = e.to_dict()
    assert data["criticalPath"] == {"nodes": ["T", "a", "c"], "seconds": 3.0}
    assert data["plan"]["kind"] == "sequence"
    assert data["allLive"]["transitions"] == e.states == 7  # T, 2 Parallels, 4 nodes
    assert set(data["costPer1000Executions"]) >= {"allLive", "guardsSkipped", "assumptions"}


# --------------------------------------------------------------------------- random workflows


@pytest.mark.parametrize("seed", range(12))
def test_asl_walk_agrees_with_the_plan_evaluator(seed: int) -> None:
    rng = random.Random(seed)
    make = (random_branching_workflow, random_dag, series_parallel_dag)[seed % 3]
    compiled = compile_workflow(make(rng, rng.randint(2, 40)))
    graph = compiled.graph
    weights = [round(rng.lognormvariate(0, 0.8), 3) for _ in range(len(graph))]
    durations = {graph.name(i): w for i, w in enumerate(weights)}
    walked = evaluate_definition(compiled.definition, durations)
    assert math.isclose(walked.live.seconds, plan_eval.makespan(compiled.plan, weights))
    assert math.isclose(walked.live.seconds, plan_makespan(compiled.plan, weights))
    assert math.isclose(critical_path(graph, weights)[0],
                        plan_eval.critical_path(graph.succs, weights))
    assert walked.skipped.transitions <= walked.live.transitions
    assert walked.skipped.lambda_calls <= walked.live.lambda_calls
    # With every guard live, the walk enters every node's state once: every runner Task.
    assert walked.live.lambda_calls == runner_tasks(compiled.definition)
    assert walked.live.transitions >= len(graph)


def runner_tasks(scope: dict[str, Any]) -> int:
    total = 0
    for state in scope["States"].values():
        runner = "${NodeRunnerArn}"  # invoked directly, or by lambda:invoke (a callback)
        total += state["Type"] == "Task" and runner in (
            state["Resource"], state.get("Arguments", {}).get("FunctionName"))
        total += sum(runner_tasks(branch) for branch in state.get("Branches", ()))
        if "ItemProcessor" in state:
            total += runner_tasks(state["ItemProcessor"])
    return total


def test_loops_take_one_iteration_of_their_body() -> None:
    from compiler import load_file

    compiled = compile_workflow(load_file(EXAMPLES / "for-each-nested.yaml"))
    e = explain(compiled)
    # Start, Teams, Each team { Members, Each member { Greet } }, Count
    assert e.critical_path == ["Start", "Teams", "Each team", "Members", "Each member",
                               "Greet", "Count"]
    assert e.critical_path_seconds == e.run.live.seconds == 5.0
    assert plan_makespan(compiled.plan, [1.0] * len(compiled.graph), compiled.loop_plans) == 5
    assert e.levels[-1] == ["Count"]
    assert [b.kind for b in e.plan.children] == ["node", "node", "map", "node"]
