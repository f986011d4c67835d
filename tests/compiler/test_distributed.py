"""Distributed Map loops: when a loop becomes one, and what its child executions receive."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.lowering.native import fallback_reason
from tests.compiler.test_emit import check_definition
from tests.support.asl_validator import assert_valid_asl

REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def loop_workflow(body: list[dict[str, Any]] | None = None, *, variables: bool = False,
                  **params: Any) -> dict[str, Any]:
    body = body or [{"name": "Double", "type": "set",
                     "parameters": {"values": {"x": "{% $json.id * 2 %}"}}},
                    {"name": "Check", "type": "code", "parameters": {"code": "return items"}}]
    names = [node["name"] for node in body]
    nodes = [{"name": "Start", "type": "manualTrigger"},
             {"name": "L", "type": "forEach", "parameters": params}, *body,
             {"name": "After", "type": "noOp"}]
    connections = [{"from": "Start", "to": "L"}, {"from": "L", "output": "loop", "to": names[0]},
                   *({"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)),
                   {"from": names[-1], "to": "L"}, {"from": "L", "output": "done", "to": "After"}]
    if variables:
        nodes.insert(1, {"name": "V", "type": "setVariable", "parameters": {"values": {"k": 1}}})
        connections[0] = {"from": "Start", "to": "V"}
        connections.insert(1, {"from": "V", "to": "L"})
    return {"name": "loops", "nodes": nodes, "connections": connections}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _assigned(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= set(item) if key == "Assign" and isinstance(item, dict) else set()
            found |= _assigned(item)
    elif isinstance(value, list):
        for item in value:
            found |= _assigned(item)
    return found


@pytest.mark.parametrize(("params", "distributed"), [
    ({}, False), ({"maxConcurrency": 40}, False), ({"maxConcurrency": 41}, True),
    ({"maxConcurrency": 10_000}, True), ({"mode": "distributed"}, True),
    ({"mode": "inline", "maxConcurrency": 40}, False),
])
def test_when_a_loop_is_a_distributed_map(params: dict[str, Any], distributed: bool) -> None:
    compiled = compile_workflow(loop_workflow(**params))
    check_definition(compiled)
    state = compiled.definition["States"]["L"]
    config = state["ItemProcessor"]["ProcessorConfig"]
    if distributed:
        assert config == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        assert state["ToleratedFailurePercentage"] == 0
        assert state["Label"] == "L"
        assert compiled.definition["States"]["L"]["ItemProcessor"]["States"]["Double"][
            "Type"] == "Task"  # native nodes run on the runner inside children
    else:
        assert config == {"Mode": "INLINE"} and "ToleratedFailurePercentage" not in state
        assert compiled.definition["States"]["L"]["ItemProcessor"]["States"]["Double"][
            "Type"] == "Pass"


def test_children_read_only_what_the_item_selector_passes() -> None:
    """A child execution sees neither the parent's variables nor its context object."""
    compiled = compile_workflow(loop_workflow(variables=True, mode="distributed"))
    assert_valid_asl(compiled)
    state = compiled.definition["States"]["L"]
    processor = state["ItemProcessor"]
    inside = _assigned(processor)
    outside = _assigned(compiled.definition) - inside
    for text in _strings(processor["States"]):
        assert "$states.context.Execution" not in text, text
        assert not set(REFERENCE.findall(text)) & outside, text
    context = state["ItemSelector"]["context"]
    assert "$states.context.Execution.Name" in context and '"vars":$vars' in context
    check = processor["States"]["Check"]["Arguments"]
    assert check["execution"]["id"] == "{% $L_context.execution.Name %}"
    assert check["vars"] == "{% $L_context.vars %}"


def test_native_nodes_in_distributed_bodies_fall_back_to_the_runner() -> None:
    compiled = compile_workflow(loop_workflow(maxConcurrency=100))
    graph = compiled.graph
    assert fallback_reason(graph, graph.index["Double"]) == \
        "inside a Distributed Map (its runs are recorded by the runner)"
    assert fallback_reason(graph, graph.index["After"]) is None


def test_inline_mode_is_capped_at_40() -> None:
    with pytest.raises(WorkflowInvalid) as info:
        compile_workflow(loop_workflow(mode="inline", maxConcurrency=41))
    (problem,) = info.value.problems
    assert (problem.node, problem.field) == ("L", "parameters.mode")
    assert "at most 40" in problem.message


# --------------------------------------------------------------------------- results


def test_a_distributed_map_writes_its_results_to_s3_and_collect_reads_them() -> None:
    """The Map's result never holds the iterations' outputs: ResultWriter writes them under
    the prefix #stage named, and #collect reads the manifest the Map hands on."""
    from compiler.lowering.loop import RESULT_WRITER_RESOURCE

    compiled = compile_workflow(loop_workflow(mode="distributed"))
    assert_valid_asl(compiled)
    states = compiled.definition["States"]
    state = states["L"]
    assert state["ResultWriter"] == {
        "Resource": RESULT_WRITER_RESOURCE,
        "Arguments": {"Bucket": "{% $L_staged.bucket %}", "Prefix": "{% $L_staged.results %}"}}
    assert "Assign" not in state and state["Next"] == "#collect L"
    collect = states["#collect L"]["Arguments"]["collect"]
    assert collect["results"] == "{% $states.input.ResultWriterDetails %}"
    assert "iterations" not in collect
    # each iteration returns its index beside its port objects (result files are unordered)
    body_ends = [s for s in state["ItemProcessor"]["States"].values() if s.get("End")]
    assert all(s["Output"].startswith('{% {"index":$L_batch.index,"ports":[')
               for s in body_ends)
    inline = compile_workflow(loop_workflow()).definition["States"]["L"]
    assert "ResultWriter" not in inline


def test_four_hundred_iterations_of_a_kilobyte_complete(cloud: Any) -> None:
    """400 x ~1 KB of results: more than a state's 256 KiB, so they must not pass through
    the Map's result (the strict layer fails a state output over 256 KiB, as AWS does)."""
    from tests.examples.test_examples import run_compiled

    document = {
        "name": "wide",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Make", "type": "code", "parameters": {
                      "code": "return [{'i': i, 'pad': 'x' * 1000} for i in range(400)]"}},
                  {"name": "L", "type": "forEach",
                   "parameters": {"mode": "distributed", "maxConcurrency": 100}},
                  {"name": "Body", "type": "noOp"},
                  {"name": "Count", "type": "code", "parameters": {
                      "code": "return [{'n': len(items), 'order': [i['i'] for i in items]}]"}}],
        "connections": [{"from": "Start", "to": "Make"}, {"from": "Make", "to": "L"},
                        {"from": "L", "output": "loop", "to": "Body"},
                        {"from": "Body", "to": "L"},
                        {"from": "L", "output": "done", "to": "Count"}],
    }
    report = run_compiled(cloud, compile_workflow(document))
    assert report["status"] == "SUCCEEDED", report["error"]
    (count,) = report["output"]["Count"]
    assert count["n"] == 400 and count["order"] == list(range(400))
