"""The execution-history estimate: heavy loops become Distributed Maps or are rejected."""

from __future__ import annotations

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.explain import explain
from compiler.history import HISTORY_BUDGET, execution_events
from tests.compiler.test_distributed import loop_workflow
from tests.compiler.test_while import while_workflow


def test_a_while_loop_that_could_fill_the_history_is_rejected() -> None:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(while_workflow(maxIterations=10_000))
    (problem,) = info.value.problems
    assert (problem.node, problem.field, problem.code) == ("W", "parameters.maxIterations",
                                                           "history")
    assert "over the 25,000-event history" in problem.message
    fits = int(problem.message.split("Lower maxIterations to at most ")[1].split(",")[0]
               .replace(" ", ""))
    compile_workflow(while_workflow(maxIterations=fits))  # the advice holds


def test_a_while_loop_within_budget_compiles() -> None:
    compiled = compile_workflow(while_workflow(maxIterations=1000))
    assert execution_events(compiled.graph, compiled.decisions) <= HISTORY_BUDGET
    assert explain(compiled).to_dict()["historyEvents"]["estimate"] == \
        execution_events(compiled.graph, compiled.decisions)


def nested_while(**each: object) -> dict[str, object]:
    document = while_workflow()
    document["nodes"].insert(1, {"name": "L", "type": "forEach", "parameters": each})
    document["connections"][0] = {"from": "Start", "to": "L"}
    document["connections"] += [{"from": "L", "output": "loop", "to": "W"},
                                {"from": "After", "to": "L"}]
    return document


def test_a_loop_too_heavy_for_one_history_runs_as_child_executions() -> None:
    """A while loop in a forEach body: 100 assumed items x 100 iterations each."""
    compiled = compile_workflow(nested_while())
    mode = compiled.definition["States"]["L"]["ItemProcessor"]["ProcessorConfig"]["Mode"]
    assert mode == "DISTRIBUTED"
    inline = compile_workflow(nested_while(mode="inline"))
    assert inline.definition["States"]["L"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == \
        "INLINE"
    assert execution_events(compiled.graph, compiled.decisions) < \
        execution_events(inline.graph, inline.decisions)


def test_light_loops_stay_inline() -> None:
    compiled = compile_workflow(loop_workflow())
    assert compiled.definition["States"]["L"]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "INLINE"}


# --------------------------------------------------------------------------- at run time


def many(count: int, **each: object) -> dict[str, object]:
    """``count`` items into a forEach whose body is two native nodes (~10 events each)."""
    return {"name": "many", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Make", "type": "code",
         "parameters": {"code": f"return [{{'i': i}} for i in range({count})]"}},
        {"name": "L", "type": "forEach", "parameters": each},
        {"name": "Tag", "type": "set", "parameters": {"values": {"t": 1}}},
        {"name": "Body", "type": "noOp"},
        {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Make"}, {"from": "Make", "to": "L"},
                        {"from": "L", "output": "loop", "to": "Tag"},
                        {"from": "Tag", "to": "Body"}, {"from": "Body", "to": "L"},
                        {"from": "L", "output": "done", "to": "After"}]}


def test_an_inline_loop_refuses_more_items_than_its_history_holds() -> None:
    """The item count is known when the Map starts: its Items expression compares it with
    the iterations that fit the budget (one number, from the history estimate)."""
    from compiler.history import ASSUMED_ITERATIONS, iteration_events, iteration_limit

    compiled = compile_workflow(loop_workflow())
    graph = compiled.graph
    decided = compiled.decisions
    most = iteration_limit(graph, graph.index["L"], decided)
    assert decided.loops[graph.index["L"]].iteration_limit == most  # as emitted
    per_iteration = iteration_events(graph, graph.index["L"], decided)
    others = execution_events(graph, decided) - ASSUMED_ITERATIONS * per_iteration
    assert others + most * per_iteration <= HISTORY_BUDGET
    assert others + (most + 1) * per_iteration > HISTORY_BUDGET
    items = compiled.definition["States"]["L"]["Items"]
    assert f"$count($all) > {most} ? $error(" in items
    assert "items reached loop 'L'" in items and "mode: distributed" in items
    # splitInBatches counts batches: the item limit is batchSize times the iterations
    document = loop_workflow(batchSize=10)
    document["nodes"][1]["type"] = "splitInBatches"
    batched = compile_workflow(document)
    batches = iteration_limit(batched.graph, batched.graph.index["L"], batched.decisions)
    assert f"$count($all) > {batches * 10} ?" in batched.definition["States"]["L"]["Items"]
    # a loop nested in an inline loop shares its history with the outer's 100 iterations
    nested = compile_workflow(nested_loops("inline"))
    inner = nested.definition["States"]["Outer"]["ItemProcessor"]["States"]["Inner"]
    limit = iteration_limit(nested.graph, nested.graph.index["Inner"], nested.decisions)
    assert f"> {limit} ?" in inner["Items"] and 0 < limit < most // 10
    # ... and in a Distributed Map (auto: too heavy inline), each child's history
    child = compile_workflow(nested_loops("auto"))
    assert "ItemReader" in child.definition["States"]["Outer"]
    assert iteration_limit(child.graph, child.graph.index["Inner"], child.decisions) > most
    # a Distributed Map's iterations are child executions: no refusal
    distributed = compile_workflow(loop_workflow(mode="distributed"))
    assert "ItemReader" in distributed.definition["States"]["L"]


def nested_loops(outer_mode: str) -> dict[str, object]:
    return {"name": "nested", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Outer", "type": "forEach", "parameters": {"mode": outer_mode}},
        {"name": "Inner", "type": "forEach"},
        {"name": "Body", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Outer"},
                        {"from": "Outer", "output": "loop", "to": "Inner"},
                        {"from": "Inner", "output": "loop", "to": "Body"},
                        {"from": "Body", "to": "Inner"},
                        {"from": "Inner", "output": "done", "to": "Outer"}]}


def test_a_loop_over_too_many_items_fails_before_it_starts(cloud: object) -> None:
    """4,000 items through a two-node body would need ~32,000 events (AWS fails the
    execution at 25,000; moto would run on): the Map fails at once, naming the node, and
    the history stays small."""
    from local.cloud import LocalCloud
    from tests.examples.test_examples import report_history, run_compiled

    assert isinstance(cloud, LocalCloud)
    report = run_compiled(cloud, compile_workflow(many(4000)))
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "States.QueryEvaluationError"
    assert "4000 items reached loop 'L'" in report["error"]["message"]
    assert "mode: distributed" in report["error"]["message"]
    assert len(report_history(cloud, report)) < 100
    assert report["nodes"]["Tag"]["runs"] == 0
