"""passes/validate.py: whatever validates compiles to a definition AWS accepts (issue 11,
"Validated, then failed"); what cannot is a problem naming node and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.model import NAME_MAX
from tests.compiler.test_emit import check_definition
from tests.support.asl_validator import validate_asl


def fan_out(*names: str, **extra: Any) -> dict[str, Any]:
    """A trigger feeding one set node per name: the set nodes are Parallel branches."""
    return {
        "name": "fan-out",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  *({"name": name, "type": "set", "parameters": {"values": {"n": i}}, **extra}
                    for i, name in enumerate(names))],
        "connections": [{"from": "Start", "to": name} for name in names],
    }


def _problems(document: dict[str, Any]) -> list[Any]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(document)
    return caught.value.problems


def test_nodes_named_jsonata_keywords_compile_to_paths_that_read_their_outputs() -> None:
    """``$states.result[0].true`` is the boolean true in JSONata, not the field "true": the
    branches' outputs were lost (States.QueryEvaluationError at run time)."""
    compiled = compile_workflow(fan_out("true", "false", "null", "and", "or", "in"))
    check_definition(compiled)
    assert validate_asl({"fan-out": compiled}) == {"fan-out": []}
    text = json.dumps(compiled.definition)
    for keyword in ("true", "false", "null", "and", "or", "in"):
        assert f"].{keyword} " not in text and f"].{keyword}," not in text
        assert compiled.manifest["nodes"][keyword]["variable"] != keyword


@pytest.mark.parametrize("name", ["line\nbreak", "tab\there", "nul\x00", "sep\u2028arator",
                                  "del\x7f"])
def test_a_node_name_with_a_control_character_is_a_problem(name: str) -> None:
    (problem,) = _problems(fan_out(name))
    assert problem.field == "name" and "control character" in problem.message


def test_a_node_name_is_measured_as_step_functions_counts_it() -> None:
    """80 emoji are 160 UTF-16 code units: asl-validator and AWS refuse the state."""
    (problem,) = _problems(fan_out("\U0001f600" * 41))
    assert problem.field == "name" and f"the limit is {NAME_MAX}" in problem.message


def test_names_of_80_units_with_wide_characters_compile_to_valid_asl() -> None:
    names = ["\U0001f600" * 40, "\u00b2" * 80, "x" * 80]
    compiled = compile_workflow(fan_out(*names))
    check_definition(compiled)
    assert validate_asl({"wide": compiled}) == {"wide": []}


def test_a_region_name_with_a_newline_is_a_problem() -> None:
    document = fan_out("A")
    document["regions"] = [{"name": "r\n1", "nodes": ["A"], "catch": "A"}]
    assert any(p.field == "regions[0].name" and "control character" in p.message
               for p in _problems(document))


def test_an_output_port_named_superscript_two_is_a_problem_not_a_crash() -> None:
    document = fan_out("A")
    document["connections"][0]["output"] = "\u00b2"
    (problem,) = _problems(document)
    assert (problem.node, problem.field) == ("Start", "connections[0].output")
    assert "no output '\u00b2'" in problem.message


def test_an_expression_3000_brackets_deep_is_a_problem() -> None:
    deep = "{% " + "[" * 3000 + "1" + "]" * 3000 + " %}"
    document = fan_out("A")
    document["nodes"][1]["parameters"]["values"]["n"] = deep
    (problem,) = _problems(document)
    assert (problem.node, problem.field) == ("A", "parameters.values.n")
    assert "nest more than" in problem.message


def test_an_expression_within_the_bracket_limit_still_compiles() -> None:
    document = fan_out("A")
    document["nodes"][1]["parameters"]["values"]["n"] = "{% " + "[" * 20 + "1" + "]" * 20 + " %}"
    check_definition(compile_workflow(document))


def test_parameters_nested_deeper_than_the_limit_are_a_problem() -> None:
    value: Any = 1
    for _ in range(900):
        value = {"a": value}
    document = fan_out("A")
    document["nodes"][1]["parameters"]["values"]["n"] = value
    (problem,) = _problems(document)
    assert problem.node == "A" and "nested more than" in problem.message


def test_line_separators_in_native_values_and_expressions_compile_to_valid_asl() -> None:
    """JSON leaves U+2028/U+2029 raw; asl-validator's ``{%.*%}`` (like any JavaScript ``.``)
    does not match across them, so the Pass state's fields were refused."""
    document = fan_out("A", "B")
    document["nodes"][1]["parameters"]["values"]["n"] = "line\u2028separator\u2029"
    document["nodes"][2]["parameters"]["values"]["n"] = "{% 'a\u2028b' & $json.x %}"
    compiled = compile_workflow(document)
    assert validate_asl({"separators": compiled}) == {"separators": []}
