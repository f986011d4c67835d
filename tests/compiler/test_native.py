"""Native lowering (compiler/lowering/native.py): the states each pure-data node type
compiles to, what their JSONata computes, and every rule that sends a node to the runner.

The JSONata is evaluated here with the same evaluator the local runtime binds into moto
(``local.moto_patches._evaluate``), against the variables the state would see.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.lowering import native
from local.moto_patches import _evaluate
from tests.compiler.test_emit import check_definition, states_of

Json = Any
START = {"name": "Start", "type": "manualTrigger"}


def workflow(node: dict[str, Any], *, last: bool = False, **extra: Any) -> dict[str, Any]:
    """Start -> N (-> After, a runner node, unless ``last``)."""
    nodes = [START, {"name": "N", **node}]
    connections = [{"from": "Start", "to": "N"}]
    if not last:
        nodes.append({"name": "After", "type": "code", "parameters": {"code": "return items"}})
        connections.append({"from": "N", "to": "After"})
    return {"name": "native", "nodes": nodes, "connections": connections, **extra}


def evaluate(field: str, variables: dict[str, Any]) -> Any:
    assert field.startswith("{% ") and field.endswith(" %}")
    return _evaluate(field[3:-3], variables)


def start(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Start": {"ports": [{"count": len(items), "items": items}]}}


def run_pass(node: dict[str, Any], items: list[dict[str, Any]]) -> list[list[Json]]:
    """The output ports the node's Pass state assigns for ``items``."""
    compiled = compile_workflow(workflow(node))
    check_definition(compiled)
    state = states_of(compiled)["N"]
    assert state["Type"] == "Pass"
    ports = evaluate(state["Assign"]["N"], start(items))["ports"]
    assert [port["count"] for port in ports] == [len(port["items"]) for port in ports]
    return [port["items"] for port in ports]


ITEMS = [{"id": 1, "ok": True, "name": "ada"}, {"id": 2, "ok": 0}, {"id": 3, "tags": ["x"]}]


# --------------------------------------------------------------------------- states


def test_a_native_node_is_one_pass_with_its_outputs_and_run_record() -> None:
    compiled = compile_workflow(workflow({"type": "noOp"}))
    state = states_of(compiled)["N"]
    assert set(state) == {"Type", "Comment", "Assign", "Next"}
    assert state["Comment"] == "sfnflow native node: noOp" and state["Next"] == "After"
    record = evaluate(state["Assign"]["N_run"], start(ITEMS))
    assert record == {"sfnflowRun": True, "node": "N", "type": "noOp", "variable": "N",
                      "inputs": [3], "runIndex": 0}
    assert "N" not in json.dumps(states_of(compiled)["After"].get("Retry", []))


def test_last_in_its_scope_the_pass_also_outputs_the_sinks() -> None:
    state = states_of(compile_workflow(workflow({"type": "noOp"}, last=True)))["N"]
    assert state["End"] is True
    output = evaluate(state["Output"], start(ITEMS))
    assert output == {"N": {"ports": [{"count": 3, "items": ITEMS}]}}


@pytest.mark.parametrize("items", [[], ITEMS[:1], ITEMS], ids=["0", "1", "3"])
def test_items_stay_arrays_whatever_their_number(items: list[dict[str, Any]]) -> None:
    assert run_pass({"type": "noOp"}, items) == [items]
    assert run_pass({"type": "filter", "parameters": {"condition": True}}, items) == [items]
    assert run_pass({"type": "limit", "parameters": {"maxItems": 5}}, items) == [items]


def test_set_merges_per_item_values_like_the_runner() -> None:
    values = {"n": "{% $index %}", "twice": "{% $json.id * 2 %}", "missing": "{% $json.no %}",
              "text": "Hi {% $json.name %} ({% $json.no %}) of {% $count($items) %}",
              "nested": {"tags": "{% $json.tags %}", "list": [1, "a"]}, "ok": "replaced"}
    out = run_pass({"type": "set", "parameters": {"values": values}}, ITEMS)
    assert out[0][0] == {"id": 1, "ok": "replaced", "name": "ada", "n": 0, "twice": 2,
                         "missing": None, "text": "Hi ada () of 3",
                         "nested": {"tags": None, "list": [1, "a"]}}
    assert out[0][2]["nested"]["tags"] == ["x"]  # a one-element array stays an array
    assert out[0][1]["text"] == "Hi  () of 3"


def test_set_keep_only_set() -> None:
    out = run_pass({"type": "set", "parameters": {"values": {"id": "{% $json.id %}"},
                                                  "keepOnlySet": True}}, ITEMS)
    assert out == [[{"id": 1}, {"id": 2}, {"id": 3}]]


def test_conditions_use_jsonata_truthiness() -> None:
    condition = {"condition": "{% $json.ok %}"}
    assert run_pass({"type": "filter", "parameters": condition}, ITEMS) == [ITEMS[:1]]
    assert run_pass({"type": "if", "parameters": condition}, ITEMS) == [ITEMS[:1], ITEMS[1:]]


def test_switch_first_match_all_matches_and_fallback() -> None:
    rules = [{"condition": "{% $json.id >= 2 %}"}, {"condition": "{% $json.id = 3 %}"}]
    first = run_pass({"type": "switch", "parameters": {"rules": rules,
                                                       "fallbackOutput": "extra"}}, ITEMS)
    assert first == [ITEMS[1:], [], ITEMS[:1]]
    every = run_pass({"type": "switch", "parameters": {"rules": rules,
                                                       "allMatchingOutputs": True}}, ITEMS)
    assert every == [ITEMS[1:], ITEMS[2:]]


def test_limit_keeps_first_or_last() -> None:
    assert run_pass({"type": "limit", "parameters": {"maxItems": 2}}, ITEMS) == [ITEMS[:2]]
    assert run_pass({"type": "limit", "parameters": {"maxItems": 2, "keep": "last"}},
                    ITEMS) == [ITEMS[1:]]
    assert run_pass({"type": "limit", "parameters": {"maxItems": 0}}, ITEMS) == [[]]


def test_merge_appends_input_ports_in_order() -> None:
    document = {
        "name": "merge", "nodes": [
            START, {"name": "A", "type": "code", "parameters": {"code": "return items"}},
            {"name": "M", "type": "merge", "parameters": {"numberInputs": 3}}],
        "connections": [{"from": "A", "to": "M", "input": 1}, {"from": "Start", "to": "A"},
                        {"from": "Start", "to": "M", "input": 0}],
    }
    compiled = compile_workflow(document)
    check_definition(compiled)
    state = states_of(compiled)["M"]
    variables = {**start([{"s": 1}]), "A": {"ports": [{"count": 1, "items": [{"a": 1}]}]}}
    assert evaluate(state["Assign"]["M"], variables)["ports"][0]["items"] == [{"s": 1}, {"a": 1}]
    assert evaluate(state["Assign"]["M_run"], variables)["inputs"] == [1, 1, 0]


def test_stop_and_error_is_a_fail_behind_an_any_items_choice() -> None:
    compiled = compile_workflow(workflow({"type": "stopAndError", "parameters": {
        "message": "bad {% $json.id %} of {% $count($items) %}", "errorType": "Ops.Halt"}}))
    check_definition(compiled)
    states = states_of(compiled)
    fail, check = states["N"], states["#stop? N"]
    assert fail["Type"] == "Fail" and fail["Error"] == "Ops.Halt"
    assert evaluate(fail["Cause"], start(ITEMS)) == "bad 1 of 3"
    (rule,) = check["Choices"]
    assert rule["Next"] == "N" and check["Default"] == "After"
    assert evaluate(rule["Condition"], start(ITEMS)) is True
    assert evaluate(rule["Condition"], start([])) is False
    assert check["Assign"] == {"N": {"ports": [{"count": 0, "items": []}]}}
    record = evaluate(rule["Assign"]["N_run"], start(ITEMS))
    assert record["error"] == {"type": "Ops.Halt", "message": "bad 1 of 3"}


def test_run_variable_never_collides_with_a_node_variable() -> None:
    document = workflow({"type": "noOp"})
    document["nodes"].append({"name": "N_run", "type": "noOp"})
    document["connections"].append({"from": "After", "to": "N_run"})
    states = states_of(compile_workflow(document))
    assert set(states["N"]["Assign"]) == {"N", "N_run_2"}
    assert set(states["N_run"]["Assign"]) == {"N_run", "N_run_run"}


def test_strings_are_single_line_and_cannot_close_the_field() -> None:
    values = {"k%}": "100%", "text": "{% $json.id %}%\nline two",
              "multi": "{% $json.id\n  + 1 %}", "q": "{% 'a\nb' %}"}
    compiled = compile_workflow(workflow({"type": "set", "parameters": {"values": values}}))
    field = states_of(compiled)["N"]["Assign"]["N"]
    assert "\n" not in field and "%}" not in field[:-2]
    (item,) = evaluate(field, start([{"id": 1}]))["ports"][0]["items"]
    assert item == {"id": 1, "k%}": "100%", "text": "1%\nline two", "multi": 2, "q": "a\nb"}


def test_native_definitions_pass_the_asl_validators() -> None:
    from tests.support.asl_validator import assert_valid_asl

    rules = [{"condition": "{% $json.id = 1 %}"}, {"condition": False}]
    document = {
        "name": "all-native", "nodes": [
            START,
            {"name": "Set", "type": "set", "parameters": {"values": {"t": "x {% $json.id %}"}}},
            {"name": "If", "type": "if", "parameters": {"condition": "{% $json.ok %}"}},
            {"name": "Switch", "type": "switch", "parameters": {"rules": rules}},
            {"name": "Filter", "type": "filter", "parameters": {"condition": True}},
            {"name": "Limit", "type": "limit", "parameters": {"maxItems": 1}},
            {"name": "Merge", "type": "merge"},
            {"name": "Stop", "type": "stopAndError", "parameters": {"message": "m\nx"}},
            {"name": "Nop", "type": "noOp"},
        ],
        "connections": [
            {"from": "Start", "to": "Set"}, {"from": "Set", "to": "If"},
            {"from": "If", "to": "Switch"}, {"from": "If", "to": "Filter", "output": "false"},
            {"from": "Switch", "to": "Merge"}, {"from": "Filter", "to": "Limit"},
            {"from": "Limit", "to": "Merge", "input": 1}, {"from": "Merge", "to": "Stop"},
            {"from": "Switch", "to": "Nop", "output": 1},
        ],
    }
    compiled = compile_workflow(document)
    check_definition(compiled)
    kinds = {name: state["Type"] for name, state in states_of(compiled).items()
             if not name.startswith("#")}
    assert kinds == {"Start": "Task", "Set": "Pass", "If": "Pass", "Switch": "Pass",
                     "Filter": "Pass", "Limit": "Pass", "Merge": "Pass", "Stop": "Fail",
                     "Nop": "Pass"}
    assert_valid_asl(compiled)


# --------------------------------------------------------------------------- fallbacks


def reason(node: dict[str, Any], **extra: Any) -> str | None:
    compiled = compile_workflow(workflow(node, **extra))
    check_definition(compiled)
    found = native.fallback_reason(compiled.graph, compiled.graph.index["N"])
    assert (states_of(compiled)["N"]["Type"] == "Task") == (found is not None)
    return found


SET = {"type": "set", "parameters": {"values": {"a": "{% $json.a %}"}}}


def test_a_plain_native_node_does_not_fall_back() -> None:
    assert reason(SET) is None


@pytest.mark.parametrize(("change", "expected"), [
    ({"retry": {"maxAttempts": 1}}, "retry"),
    ({"onError": "continueRegularOutput"}, "onError continueRegularOutput"),
    ({"disabled": True}, "disabled"),
    ({"parameters": {"values": {"a.b": 1}}}, "set with a dot-path key"),
    ({"parameters": {"values": {"l": ["{% $json.a %}"]}}}, "set with an expression inside"),
    ({"parameters": {"values": {"a": "{% $node('Start') %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $execution.id %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $workflow.name %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $now %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $vars.x %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $Start %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $states.input %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $uuid() %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $random() %}"}}}, "not portable"),
    ({"parameters": {"values": {"a": "{% $$.x %}"}}}, "not portable"),
    ({"parameters": {"values": {"big": 2**60}}}, "integer JSONata cannot hold"),
])
def test_set_falls_back(change: dict[str, Any], expected: str) -> None:
    found = reason({**SET, **change})
    assert found is not None and expected in found


def test_pinned_node_falls_back() -> None:
    assert reason(SET, pinData={"N": [{"a": 1}]}) == "pinned"


def test_a_node_read_by_dollar_node_falls_back() -> None:
    document = workflow(SET)
    document["nodes"][2] = {"name": "After", "type": "set",
                            "parameters": {"values": {"n": "{% $count($node(\"N\")) %}"}}}
    compiled = compile_workflow(document)
    graph = compiled.graph
    assert native.fallback_reason(graph, graph.index["N"]) == "read by $node()"
    assert "not portable" in str(native.fallback_reason(graph, graph.index["After"]))


def test_a_computed_dollar_node_name_sends_every_node_to_the_runner() -> None:
    document = workflow(SET)
    document["nodes"][2] = {"name": "After", "type": "code", "parameters": {"code": "x"}}
    document["nodes"].append({"name": "Z", "type": "noOp",
                              "parameters": {}})
    document["connections"].append({"from": "After", "to": "Z"})
    document["nodes"][1] = {**SET, "name": "N",
                            "parameters": {"values": {"a": "{% $node($json.src) %}"}}}
    graph = compile_workflow(document).graph
    assert native.fallback_reason(graph, graph.index["Z"]) == (
        "$node() with a computed name in the workflow")


@pytest.mark.parametrize(("node", "expected"), [
    ({"type": "if", "parameters": {"condition": "x {% $json.a %}"}}, "a template condition"),
    ({"type": "switch", "parameters": {"rules": [{"condition": "{% 1 %} "}]}},
     "a template condition"),
    ({"type": "merge", "parameters": {"mode": "chooseBranch"}}, "merge mode chooseBranch"),
    ({"type": "merge", "parameters": {"key": "{% 'id' %}"}},
     "an expression in merge parameters"),
    ({"type": "stopAndError", "parameters": {"message": "{% $json.m %}"}},
     "a whole-expression message"),
    ({"type": "filter", "parameters": {"condition": "{% $match($json.a, /a\nb/) %}"}},
     "not portable"),
])
def test_shapes_native_states_cannot_reproduce_fall_back(node: dict[str, Any],
                                                          expected: str) -> None:
    found = reason(node)
    assert found is not None and expected in found


@pytest.mark.parametrize("source", [
    "$json.a", "$items[0].a + $index", "$map($json.l, function($v) { $v * 2 })",
    "($x := $json.a; $x + 1)", "$json.l[$ > 1]", "$sum($json.l#$i[$i > 0])",
    "$string($json)",
])
def test_portable_expressions(source: str) -> None:
    assert native.portable(source)


@pytest.mark.parametrize("source", [
    "$node('A')", "$execution.id", "$y + 1", "$parse('1')", "$millis()", "$shuffle($items)",
    "$eval('1')", "$$.a", "'{%'",
])
def test_non_portable_expressions(source: str) -> None:
    assert not native.portable(source)


def test_one_line() -> None:
    assert native.one_line("$a\n+ 'x\ny' /* c\nd */") == "$a + 'x\\ny'  "
    assert native.one_line("$a / 2\n") is None
    assert native.one_line("`a\nb`") is None
    assert native.one_line("$a") == "$a"
