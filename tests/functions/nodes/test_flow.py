import pytest

from functions.errors import ParameterError, StoppedByNode

from .support import run

ITEMS = [{"n": 1}, {"n": 5}, {"n": 10}, {}]


# --- if / filter ---------------------------------------------------------------


def test_if_routes_true_and_false() -> None:
    assert run("if", {"condition": "{% $json.n > 3 %}"}, ITEMS) == [
        [{"n": 5}, {"n": 10}],
        [{"n": 1}, {}],
    ]


@pytest.mark.parametrize(
    ("value", "truthy"),
    [(None, False), (0, False), ("", False), ([], False), ({}, False), (2, True), ("x", True)],
)
def test_conditions_use_jsonata_truthiness(value: object, truthy: bool) -> None:
    [kept] = run("filter", {"condition": "{% $json.v %}"}, [{"v": value}])
    assert kept == ([{"v": value}] if truthy else [])


def test_missing_field_condition_is_false_not_an_error() -> None:
    assert run("if", {"condition": "{% $json.flag %}"}, [{}]) == [[], [{}]]


def test_literal_condition() -> None:
    assert run("filter", {"condition": True}, ITEMS) == [ITEMS]
    assert run("if", {"condition": False}, ITEMS) == [[], ITEMS]


def test_condition_sees_index() -> None:
    assert run("filter", {"condition": "{% $index = 1 %}"}, ITEMS) == [[{"n": 5}]]


def test_template_condition_that_is_not_boolean_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="condition"):
        run("filter", {"condition": "maybe {% $json.n %}"}, ITEMS)


# --- switch ----------------------------------------------------------------------

RULES = [
    {"condition": "{% $json.n < 6 %}", "output": "small"},
    {"condition": "{% $json.n > 4 %}"},
]


def test_switch_first_match_and_dropped_fallback() -> None:
    assert run("switch", {"rules": RULES}, ITEMS) == [[{"n": 1}, {"n": 5}], [{"n": 10}]]


def test_switch_all_matching_outputs_with_fallback() -> None:
    params = {"rules": RULES, "allMatchingOutputs": True, "fallbackOutput": "extra"}
    assert run("switch", params, ITEMS) == [
        [{"n": 1}, {"n": 5}],
        [{"n": 5}, {"n": 10}],
        [{}],
    ]


def test_switch_output_count_without_items() -> None:
    assert run("switch", {"rules": RULES, "fallbackOutput": "extra"}, []) == [[], [], []]


# --- merge -----------------------------------------------------------------------

LEFT = [{"id": 1, "l": "a"}, {"id": 2, "l": "b"}, {"l": "no key"}, {"id": 1, "l": "c"}]
RIGHT = [{"id": 1, "r": "x", "l": "right wins"}, {"id": 3, "r": "y"}, {"id": 1.0, "r": "z"}]


def test_merge_append_in_port_order() -> None:
    params = {"numberInputs": 3}
    assert run("merge", params, [{"a": 1}], [], [{"c": 3}]) == [[{"a": 1}, {"c": 3}]]


def test_merge_pads_missing_ports() -> None:
    assert run("merge", {"numberInputs": 3, "mode": "chooseBranch", "chooseBranch": 2}) == [[]]


def test_merge_choose_branch() -> None:
    params = {"mode": "chooseBranch", "chooseBranch": 1}
    assert run("merge", params, [{"a": 1}], [{"b": 2}]) == [[{"b": 2}]]


def test_merge_choose_branch_out_of_range() -> None:
    with pytest.raises(ParameterError, match="chooseBranch 2"):
        run("merge", {"mode": "chooseBranch", "chooseBranch": 2}, [{"a": 1}], [])


def _combine(join: str) -> list[dict]:
    [out] = run("merge", {"mode": "combineByKey", "key": "id", "join": join}, LEFT, RIGHT)
    return out


def test_merge_combine_inner() -> None:
    assert _combine("inner") == [
        {"id": 1, "l": "right wins", "r": "x"},
        {"id": 1.0, "l": "a", "r": "z"},
        {"id": 1, "l": "right wins", "r": "x"},
        {"id": 1.0, "l": "c", "r": "z"},
    ]


def test_merge_combine_left_keeps_unmatched_left_items() -> None:
    out = _combine("left")
    assert {"id": 2, "l": "b"} in out and {"l": "no key"} in out
    assert len(out) == 6
    assert {"id": 3, "r": "y"} not in out


def test_merge_combine_outer_appends_unmatched_right_items() -> None:
    out = _combine("outer")
    assert len(out) == 7
    assert out[-1] == {"id": 3, "r": "y"}


def test_merge_combine_by_nested_key() -> None:
    params = {"mode": "combineByKey", "key": "k.id"}
    out = run("merge", params, [{"k": {"id": "a"}, "x": 1}], [{"k": {"id": "a"}, "y": 2}])
    assert out == [[{"k": {"id": "a"}, "x": 1, "y": 2}]]


def test_merge_combine_needs_a_key() -> None:
    with pytest.raises(ParameterError, match="needs `key`"):
        run("merge", {"mode": "combineByKey"}, [{"a": 1}], [])


def test_merge_combine_needs_two_inputs() -> None:
    with pytest.raises(ParameterError, match="exactly 2 inputs"):
        run("merge", {"mode": "combineByKey", "key": "id", "numberInputs": 3}, [{"a": 1}], [], [])


# --- stopAndError / wait -----------------------------------------------------------


def test_stop_and_error_raises_typed_error() -> None:
    params = {"message": "bad {% $json.n %}", "errorType": "Custom.Failure"}
    with pytest.raises(StoppedByNode, match="bad 1") as caught:
        run("stopAndError", params, [{"n": 1}])
    assert caught.value.error_type == "Custom.Failure"


def test_stop_and_error_default_type() -> None:
    with pytest.raises(StoppedByNode) as caught:
        run("stopAndError", {}, [{}])
    assert caught.value.error_type == "Sfnflow.StoppedByNode"


def test_wait_passes_items_through() -> None:
    assert run("wait", {"seconds": 5}, ITEMS) == [ITEMS]


def test_merge_combine_by_position_joins() -> None:
    from functions.nodes.merge import combine_by_position

    left = [{"a": 1}, {"a": 2}, {"a": 3}]
    right = [{"b": 1}, {"b": 2, "a": 20}]
    assert combine_by_position([left, right], "inner") == [{"a": 1, "b": 1}, {"a": 20, "b": 2}]
    assert combine_by_position([left, right], "left")[-1] == {"a": 3}
    assert len(combine_by_position([right, left], "outer")) == 3
    assert combine_by_position([right, left], "left") == [{"b": 1, "a": 1}, {"b": 2, "a": 2}]
