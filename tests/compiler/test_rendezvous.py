"""Flows: a non-series-parallel segment runs as chains that meet through rendezvous
(``compiler.lowering.rendezvous``): the emitted shape, and real runs on moto."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from benchmarks.dags import generate
from compiler import compile_workflow
from compiler.explain import evaluate_definition, explain
from compiler.lowering.rendezvous import FLOW_COMMENT
from compiler.lowering.resume import CALLBACK_RESOURCE
from compiler.lowering.task import NODE_RUNNER
from local.cloud import LocalCloud
from tests.compiler.random_dags import random_dag
from tests.compiler.test_emit import check_definition
from tests.examples.test_examples import report_history, run_compiled
from tests.support.asl_validator import assert_valid_asl

Json = dict[str, Any]


def code(name: str, source: str = "return items") -> Json:
    return {"name": name, "type": "code", "parameters": {"code": source}}


def document(nodes: list[Json], edges: list[tuple[str, str]], **settings: Any) -> Json:
    return {"name": "flow", "nodes": [{"name": "T", "type": "manualTrigger"}, *nodes],
            "connections": [{"from": a, "to": b} for a, b in edges],
            **({"settings": settings} if settings else {})}


# T -> a, b; a -> c; b -> c, d: an "N", no series cut
N_EDGES = [("T", "a"), ("T", "b"), ("a", "c"), ("b", "c"), ("b", "d")]


def flow_parallel(definition: Json) -> Json:
    (parallel,) = [s for s in definition["States"].values()
                   if s.get("Comment") == FLOW_COMMENT]
    return parallel


def test_an_n_of_runner_nodes_waits_once_and_signals_in_the_runner_call() -> None:
    compiled = compile_workflow(document([code(n) for n in "abcd"], N_EDGES))
    check_definition(compiled)
    assert_valid_asl(compiled)
    branches = flow_parallel(compiled.definition)["Branches"]
    states = {name: state for b in branches for name, state in b["States"].items()}
    assert set(states) == {"a", "#await c", "#unmet c", "c", "b", "d"}  # no #signal state
    awaiting = states["#await c"]
    assert awaiting["Resource"] == CALLBACK_RESOURCE
    assert awaiting["Arguments"]["FunctionName"] == NODE_RUNNER
    assert awaiting["Arguments"]["Payload"]["rendezvous"]["await"]["after"] == ["b"]
    # b runs in the other chain: this chain assigns its own name for b's outputs
    assert awaiting["Assign"] == {"b_b1": "{% $states.result.p0 %}"}
    signal = states["b"]["Arguments"]["rendezvous"]["signal"]
    assert [t["slot"] for t in signal["targets"]] == ["p0"] and "output" not in signal


def test_native_producers_are_followed_by_a_signal_state() -> None:
    nodes = [{"name": "a", "type": "wait", "parameters": {"seconds": 1}},
             {"name": "b", "type": "set", "parameters": {"values": {"k": 1}}},
             code("c"), code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    check_definition(compiled)
    branches = flow_parallel(compiled.definition)["Branches"]
    states = {name: state for b in branches for name, state in b["States"].items()}
    assert states["b"]["Next"] == "#signal b"
    # b's own chain's name for its outputs (compiler.passes.emit: one name per scope)
    assert states["#signal b"]["Arguments"]["rendezvous"]["signal"]["output"] == \
        "{% $" + next(iter(states["b"]["Assign"])) + " %}"
    assert next(iter(states["b"]["Assign"])).startswith("b_b")


def test_explain_counts_the_rendezvous_and_takes_the_critical_path() -> None:
    compiled = compile_workflow(document([code(n) for n in "abcd"], N_EDGES))
    seconds = {"T": 1.0, "a": 5.0, "b": 1.0, "c": 1.0, "d": 5.0}
    run = evaluate_definition(compiled.definition, seconds).live
    assert run.seconds == 7.0  # T, a, c: no cut makes c wait for d or d for a
    assert run.lambda_calls == 6  # five nodes and one await
    structured = compile_workflow(document([code(n) for n in "abcd"], N_EDGES,
                                           rendezvous="never"))
    assert evaluate_definition(structured.definition, seconds).live.seconds == 11.0
    flow = explain(compiled).to_dict()["plan"]["children"][1]
    assert flow["kind"] == "flow"
    chains = {tuple(n["label"] for n in chain["children"]): chain for chain in flow["children"]}
    assert set(chains) == {("a", "c"), ("b", "d")}
    assert chains["a", "c"]["children"][1]["waitsFor"] == ["b"]


# --------------------------------------------------------------------------- on moto


@pytest.mark.parametrize("size", [12, 40])
def test_a_layered_dag_gives_the_same_outputs_either_way(cloud: LocalCloud, size: int) -> None:
    doc = generate("layered", size, 3)
    outputs = []
    for mode in ("always", "never"):
        compiled = compile_workflow({**doc, "settings": {"rendezvous": mode}})
        report = run_compiled(cloud, compiled)
        assert report["status"] == "SUCCEEDED", report["error"]
        assert all(node["runs"] == 1 for node in report["nodes"].values())
        outputs.append(json.dumps(report["output"], sort_keys=True))
    assert outputs[0] == outputs[1]


def test_runner_nodes_meet_across_chains(cloud: LocalCloud) -> None:
    nodes = [code("a", "return [{'from': 'a'}]"), code("b", "return [{'from': 'b'}]"),
             code("c", "return [{'c': sorted(i['from'] for i in items)}]"),
             code("d", "return [{'d': len(items)}]")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"] == {"c": [{"c": ["a", "b"]}], "d": [{"d": 1}]}
    entered = [e["stateEnteredEventDetails"]["name"] for e in report_history(cloud, report)
               if "stateEnteredEventDetails" in e]
    assert entered.count("#await c") == 1


def test_a_failing_producer_cancels_the_parked_node(cloud: LocalCloud) -> None:
    """c parks waiting for y (a 60 s wait at the test time scale); f fails meanwhile: the
    Parallel fails at once, and the runs already recorded stay."""
    nodes = [code("p"), {"name": "y", "type": "wait", "parameters": {"seconds": 6000}},
             {"name": "w", "type": "wait", "parameters": {"seconds": 50}},
             code("f", "raise ValueError('boom')"), code("c"), code("d")]
    edges = [("T", "p"), ("T", "y"), ("T", "w"), ("w", "f"), ("p", "c"), ("y", "c"),
             ("y", "d"), ("f", "d")]
    compiled = compile_workflow(document(nodes, edges))
    started = time.monotonic()
    report = run_compiled(cloud, compiled)
    assert time.monotonic() - started < 30  # the parked await did not wait for y
    assert report["status"] == "FAILED"
    assert report["error"]["node"] == "f"
    assert report["nodes"]["p"]["runs"] == 1 and report["nodes"]["p"]["status"] == "success"
    assert report["nodes"]["c"]["runs"] == 0


@pytest.mark.parametrize("mode", ["inline", "distributed"])
def test_each_loop_iteration_meets_apart(cloud: LocalCloud, mode: str) -> None:
    """Items are keyed by execution and run index: iterations (in a Distributed Map,
    child executions keyed by the parent's ARN) never meet each other's producers."""
    nodes = [code("Items", "return [{'n': 1}, {'n': 2}, {'n': 3}]"),
             {"name": "Each", "type": "forEach",
              "parameters": {"maxConcurrency": 3, "mode": mode}},
             code("a", "return [{'a': i['n']} for i in items]"),
             code("b", "return [{'b': i['n'] * 10} for i in items]"),
             code("c", "return [{'sum': sum(i.get('a', 0) + i.get('b', 0) for i in items)}]"),
             code("d", "return items"),
             {"name": "Join", "type": "merge", "parameters": {"mode": "append"}},
             {"name": "Sums", "type": "aggregate",
              "parameters": {"mode": "individualFields", "fields": ["sum"]}}]
    doc = document(nodes, [("T", "Items"), ("Items", "Each"), ("a", "c"), ("b", "c"),
                           ("b", "d"), ("c", "Join"), ("d", "Join")])
    doc["connections"] += [{"from": "Each", "output": "loop", "to": "a"},
                           {"from": "Each", "output": "loop", "to": "b"},
                           {"from": "Join", "to": "Each"},
                           {"from": "Each", "output": "done", "to": "Sums"}]
    compiled = compile_workflow(doc)
    assert FLOW_COMMENT in json.dumps(compiled.definition)
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert sorted(report["output"]["Sums"][0]["sum"]) == [11, 22, 33]


def test_auto_gives_up_flows_that_would_not_fit_the_definition_limit() -> None:
    """~800 wait nodes: with Flows the definition passes 1 MiB, cut into blocks it fits."""
    from benchmarks.dags import with_waits
    from compiler.limits import limit_problems

    doc = with_waits(generate("layered", 800, 1), 1)
    compiled = compile_workflow(doc)
    assert FLOW_COMMENT not in json.dumps(compiled.definition)
    assert limit_problems(compiled) == []
    always = compile_workflow({**doc, "settings": {"rendezvous": "always"}})
    assert FLOW_COMMENT in json.dumps(always.definition)
    assert limit_problems(always) != []


def test_a_pinned_producer_signals_its_pinned_items(cloud: LocalCloud) -> None:
    nodes = [code("a", "return [{'a': 1}]"), code("b", "return [{'b': 2}]"), code("c"),
             code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    report = run_compiled(cloud, compiled, pin_data={"b": [{"b": "pinned"}]})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["b"]["status"] == "pinned"
    assert report["output"] == {"c": [{"a": 1}, {"b": "pinned"}], "d": [{"b": "pinned"}]}


def test_a_producer_that_continues_on_error_signals_its_error_item(cloud: LocalCloud) -> None:
    """The Catch builds b's outputs (an error item), so a #signal state follows b."""
    nodes = [code("a", "return [{'a': 1}]"),
             {**code("b", "raise ValueError('no quote')"), "onError": "continueRegularOutput"},
             code("c"), code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    assert "#signal b" in json.dumps(compiled.definition)
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    (error_item,) = report["output"]["d"]
    assert error_item["error"]["node"] == "b" and "no quote" in error_item["error"]["message"]
    assert {"a": 1} in report["output"]["c"] and len(report["output"]["c"]) == 2


def _mixed_types(document: Json, rng: random.Random) -> Json:
    """Random node types that take time (code, wait) or not (set, noOp)."""
    for node in document["nodes"]:
        if node["type"] == "manualTrigger":
            continue
        node.pop("retry", None)
        kind = rng.choice(["code", "code", "set", "noOp", "wait"])
        name = node["name"]
        node.update(type=kind, parameters={
            "code": {"code": f"return [dict(i, via={name!r}) for i in items] "
                             f"or [{{'from': {name!r}}}]"},
            "set": {"values": {"last": name}},
            "wait": {"seconds": rng.randint(1, 3)},
            "noOp": {}}[kind])
    return document


@pytest.mark.parametrize("seed", [0, 3, 4, 8, 9, 11])
def test_random_mixed_dags_give_the_same_outputs_either_way(cloud: LocalCloud,
                                                            seed: int) -> None:
    rng = random.Random(seed)
    doc = _mixed_types(random_dag(rng, rng.randint(6, 14)), rng)
    outputs = []
    for mode in ("auto", "never"):
        compiled = compile_workflow({**doc, "settings": {"rendezvous": mode}})
        assert (FLOW_COMMENT in json.dumps(compiled.definition)) == (mode == "auto")
        report = run_compiled(cloud, compiled)
        assert report["status"] == "SUCCEEDED", report["error"]
        outputs.append(json.dumps(report["output"], sort_keys=True))
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------- lost signals


def test_await_times_out_after_the_longest_its_producers_can_take() -> None:
    from compiler.lowering.rendezvous import AWAIT_MARGIN_SECONDS, RENDEZVOUS_TIMEOUT

    nodes = [code("a"), {**code("b"), "timeoutSeconds": 5}, code("c"), code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    check_definition(compiled)
    branches = flow_parallel(compiled.definition)["Branches"]
    states = {name: state for b in branches for name, state in b["States"].items()}
    awaiting = states["#await c"]
    # b at its 5 s timeout plus the Lambda service's retry delays, and the margin
    assert 5 + AWAIT_MARGIN_SECONDS < awaiting["TimeoutSeconds"] < 900
    assert awaiting["Catch"] == [{"ErrorEquals": ["States.Timeout"], "Next": "#unmet c"}]
    assert states["#unmet c"]["Type"] == "Fail"
    assert states["#unmet c"]["Error"] == RENDEZVOUS_TIMEOUT
    assert "'b'" in states["#unmet c"]["Cause"]
    # a runner producer without its own timeout may run Lambda's 900 s; the workflow's
    # timeout bounds every await when sooner
    unbounded = compile_workflow(document([code(n) for n in "abcd"], N_EDGES))
    timeout = {name: state for b in flow_parallel(unbounded.definition)["Branches"]
               for name, state in b["States"].items()}["#await c"]["TimeoutSeconds"]
    assert timeout > 900
    capped = compile_workflow(document([code(n) for n in "abcd"], N_EDGES,
                                       timeoutSeconds=600))
    assert {name: state for b in flow_parallel(capped.definition)["Branches"]
            for name, state in b["States"].items()}["#await c"]["TimeoutSeconds"] == 600


def test_an_approval_without_a_timeout_leaves_the_await_unbounded() -> None:
    nodes = [code("a"), {"name": "b", "type": "wait", "parameters": {"resume": "approval"}},
             code("c"), code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    states = {name: state for b in flow_parallel(compiled.definition)["Branches"]
              for name, state in b["States"].items()}
    assert "TimeoutSeconds" not in states["#await c"]


def test_a_lost_signal_fails_the_execution_naming_the_node(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """b's signal never reaches the table: c's #await times out (at a 1/1000 clock) and the
    execution fails with Sfnflow.RendezvousTimeout instead of parking for a year."""
    from compiler.lowering.rendezvous import RENDEZVOUS_TIMEOUT
    from functions.services.rendezvous import RendezvousService

    original = RendezvousService.handle

    def lose_b(self: RendezvousService, event: Any, result: Any = None) -> None:
        if (event.get("signal") or {}).get("node") == "b":
            event = {k: v for k, v in event.items() if k != "signal"}
        original(self, event, result)

    monkeypatch.setattr(RendezvousService, "handle", lose_b)
    # b runs in-process on the runner (a set node the retry policy keeps off native states;
    # a code node's sandbox process could outlast its 0.9 s timeout on a loaded machine)
    b = {"name": "b", "type": "set", "parameters": {"values": {"b": 1}},
         "retry": {"maxAttempts": 1}, "timeoutSeconds": 900}
    nodes = [code("a"), b, code("c"), code("d")]
    compiled = compile_workflow(document(nodes, N_EDGES))
    with LocalCloud(time_scale=0.001) as cloud:
        started = time.monotonic()
        execution_id = cloud.start(compiled)
        finished = cloud.wait(execution_id, timeout_seconds=20)
    assert time.monotonic() - started < 10
    assert finished.status == "FAILED"
    assert finished.error == RENDEZVOUS_TIMEOUT
    assert "'c'" in (finished.cause or "") and "'b'" in (finished.cause or "")
