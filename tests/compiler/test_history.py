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
    assert execution_events(compiled.graph) <= HISTORY_BUDGET
    assert explain(compiled).to_dict()["historyEvents"]["estimate"] == \
        execution_events(compiled.graph)


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
    assert execution_events(compiled.graph) < execution_events(inline.graph)


def test_light_loops_stay_inline() -> None:
    compiled = compile_workflow(loop_workflow())
    assert compiled.definition["States"]["L"]["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "INLINE"}
