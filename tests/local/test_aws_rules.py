"""``local.aws_rules``: the static rules AWS applies at CreateStateMachine, on tiny
definitions (the compiled examples are checked by every ASL check in the suite)."""

from __future__ import annotations

from typing import Any

from local.aws_rules import definition_problems, name_problems, variable_scope_problems


def _machine(states: dict[str, Any], start: str = "A") -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": start, "States": states}


def _branch(states: dict[str, Any], start: str) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


def _parallel(*branches: dict[str, Any], assign: dict[str, Any] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Parallel", "Branches": list(branches), "End": True}
    if assign:
        state["Assign"] = assign
    return state


def _pass(assign: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "Assign": assign, "End": True, **fields}


def test_branches_may_read_outer_variables_and_assign_their_own() -> None:
    definition = _machine({
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
        "P": _parallel(_branch({"B": _pass({"y": "{% $x + 1 %}"})}, "B"),
                       assign={"z": "{% $states.result[0] %}"}),
    })
    assert definition_problems(definition) == []


def test_an_inner_scope_may_not_assign_an_outer_name() -> None:
    definition = _machine({"A": _parallel(_branch({"B": _pass({"x": 2})}, "B"),
                                          assign={"x": "{% $states.result %}"})})
    (problem,) = variable_scope_problems(definition)
    assert "'B'" in problem and "$x" in problem and "outer scope" in problem


def test_catchers_and_choice_rules_assign_in_their_states_scope() -> None:
    inner = _branch({"B": {"Type": "Choice", "Default": "C", "Choices": [
        {"Condition": "{% true %}", "Next": "C", "Assign": {"x": 1}}]},
        "C": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D", "Assign": {"y": 1}}]},
        "D": {"Type": "Succeed"}}, "B")
    definition = _machine({"A": _parallel(inner, assign={"x": 0, "y": 0})})
    problems = variable_scope_problems(definition)
    assert len(problems) == 2 and any("$x" in p for p in problems)


def test_sibling_branches_do_not_share_names() -> None:
    definition = _machine({"A": _parallel(_branch({"B": _pass({"x": 1})}, "B"),
                                          _branch({"C": _pass({"x": 2})}, "C"))})
    (problem,) = variable_scope_problems(definition)
    assert "unique across scopes" in problem


def test_map_iterations_are_scopes_and_distributed_children_read_nothing_outer() -> None:
    def map_state(mode: str, states: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "Map", "End": True, "Items": "{% [1, 2] %}", "ItemProcessor": {
            "ProcessorConfig": {"Mode": mode}, "StartAt": "I", "States": states}}

    reads = {"I": {"Type": "Pass", "Output": "{% $x %}", "End": True,
                   "Comment": "not an expression: {% $x %} inside text"}}
    outer = {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"}
    assert variable_scope_problems(_machine({"A": outer, "M": map_state("INLINE", reads)})) == []
    (problem,) = variable_scope_problems(
        _machine({"A": outer, "M": map_state("DISTRIBUTED", reads)}))
    assert "Distributed Map" in problem and "$x" in problem
    # a string that merely contains an expression is not evaluated, so it reads nothing
    text_only = {"I": {"Type": "Pass", "Output": "x is {% $x %}", "End": True}}
    assert variable_scope_problems(
        _machine({"A": outer, "M": map_state("DISTRIBUTED", text_only)})) == []
    assigns = {"I": _pass({"x": 2})}
    assert variable_scope_problems(_machine({"A": outer, "M": map_state("INLINE", assigns)}))


def test_state_and_variable_names_are_at_most_80_characters() -> None:
    long = "s" * 81
    definition = _machine({long: _pass({"v" * 81: 1})}, start=long)
    problems = name_problems(definition)
    assert len(problems) == 2 and all("81 characters" in p for p in problems)
    assert name_problems(_machine({"s" * 80: _pass({"v" * 80: 1})}, start="s" * 80)) == []


def test_names_are_measured_in_utf16_units_as_step_functions_counts_them() -> None:
    rockets = "\N{ROCKET}" * 40  # 40 characters, 80 UTF-16 units: the limit
    assert name_problems(_machine({rockets: _pass({})}, start=rockets)) == []
    over = rockets + "x"  # 41 characters, 81 units
    assert name_problems(_machine({over: _pass({})}, start=over))
