import pytest

from functions.errors import ParameterError
from functions.nodes.items import MISSING, canonical, get_path, set_path

from .support import run

PEOPLE = [
    {"name": "b", "age": 30, "tags": ["x", "y"]},
    {"name": "a", "age": 25},
    {"name": "c", "age": 30, "tags": []},
]


# --- dot paths ---------------------------------------------------------------


def test_get_path_reads_dicts_and_list_indexes() -> None:
    item = {"a": {"b": [{"c": 1}]}, "n": None}
    assert get_path(item, "a.b.0.c") == 1
    assert get_path(item, "n") is None
    assert get_path(item, "a.x") is MISSING
    assert get_path(item, "a.b.5") is MISSING
    assert get_path(item, "n.deeper") is MISSING


def test_set_path_replaces_non_dicts_on_the_way() -> None:
    item = {"a": 1}
    set_path(item, "a.b.c", 2)
    assert item == {"a": {"b": {"c": 2}}}


def test_canonical_ignores_key_order_and_number_spelling() -> None:
    assert canonical({"a": 1, "b": [1.0]}) == canonical({"b": [1], "a": 1.0})
    assert canonical(1) != canonical(True)


# --- set / noOp --------------------------------------------------------------


def test_set_evaluates_per_item_and_sets_dot_paths() -> None:
    items = [{"id": 1, "keep": True}, {"id": 2, "keep": True}]
    params = {"values": {"user.id": "{% $json.id * 10 %}", "pos": "{% $index %}", "k": "v"}}
    assert run("set", params, items) == [
        [
            {"id": 1, "keep": True, "user": {"id": 10}, "pos": 0, "k": "v"},
            {"id": 2, "keep": True, "user": {"id": 20}, "pos": 1, "k": "v"},
        ]
    ]


def test_set_keep_only_set_and_does_not_mutate_input() -> None:
    items = [{"a": {"b": 1}, "c": 3}]
    assert run("set", {"values": {"a.x": 2}, "keepOnlySet": True}, items) == [[{"a": {"x": 2}}]]
    [[out]] = run("set", {"values": {"a.x": 2}}, items)
    assert out == {"a": {"b": 1, "x": 2}, "c": 3}
    assert items == [{"a": {"b": 1}, "c": 3}]


def test_set_rejects_values_that_evaluate_to_the_wrong_type() -> None:
    with pytest.raises(ParameterError, match="values"):
        run("set", {"values": "{% 5 %}"}, [{}])


def test_no_op_passes_items_through() -> None:
    assert run("noOp", {}, PEOPLE) == [PEOPLE]


# --- aggregate ---------------------------------------------------------------


def test_aggregate_all_item_data() -> None:
    assert run("aggregate", {"destination": "all"}, PEOPLE) == [[{"all": PEOPLE}]]


def test_aggregate_individual_fields_skips_missing_values() -> None:
    items = [{"a": 1, "b": {"c": None}}, {"a": 2}, {"b": {"c": 3}}]
    params = {"mode": "individualFields", "fields": ["a", "b.c", "zzz"]}
    assert run("aggregate", params, items) == [[{"a": [1, 2], "b.c": [None, 3], "zzz": []}]]


def test_aggregate_without_items_outputs_nothing() -> None:
    assert run("aggregate", {}, []) == [[]]


def test_aggregate_individual_fields_needs_fields() -> None:
    with pytest.raises(ParameterError, match="fields"):
        run("aggregate", {"mode": "individualFields"}, [{"a": 1}])


# --- splitOut ----------------------------------------------------------------


def test_split_out_objects_and_scalars() -> None:
    items = [{"id": 1, "rows": [{"x": 1}, 7]}, {"id": 2}, {"id": 3, "rows": "solo"}]
    assert run("splitOut", {"field": "rows"}, items) == [[{"x": 1}, {"rows": 7}, {"rows": "solo"}]]


def test_split_out_dot_path_with_other_fields_and_destination() -> None:
    items = [{"id": 1, "d": {"list": [1, 2], "other": True}}]
    params = {"field": "d.list", "destination": "n", "include": "allOtherFields"}
    assert run("splitOut", params, items) == [
        [{"id": 1, "d": {"other": True}, "n": 1}, {"id": 1, "d": {"other": True}, "n": 2}]
    ]


def test_split_out_objects_merge_over_other_fields() -> None:
    items = [{"id": 1, "name": "old", "rows": [{"name": "new"}]}]
    params = {"field": "rows", "include": "allOtherFields"}
    assert run("splitOut", params, items) == [[{"id": 1, "name": "new"}]]


def test_split_out_destination_nests_objects_too() -> None:
    params = {"field": "rows", "destination": "row"}
    assert run("splitOut", params, [{"rows": [{"a": 1}]}]) == [[{"row": {"a": 1}}]]


def test_split_out_null_and_empty_lists_yield_nothing() -> None:
    assert run("splitOut", {"field": "rows"}, [{"rows": None}, {"rows": []}]) == [[]]


# --- sort --------------------------------------------------------------------


def test_sort_multi_key_and_stable() -> None:
    items = [
        {"k": 1, "n": "b", "i": 0},
        {"k": 2, "n": "a", "i": 1},
        {"k": 1, "n": "a", "i": 2},
        {"k": 2, "n": "a", "i": 3},
    ]
    params = {"fields": [{"field": "k", "order": "descending"}, {"field": "n"}]}
    [out] = run("sort", params, items)
    assert [item["i"] for item in out] == [1, 3, 2, 0]


def test_sort_puts_missing_and_null_last_in_both_orders() -> None:
    items = [{"i": 0}, {"v": 2, "i": 1}, {"v": None, "i": 2}, {"v": 1, "i": 3}]
    for order, expected in [("ascending", [3, 1, 0, 2]), ("descending", [1, 3, 0, 2])]:
        [out] = run("sort", {"fields": [{"field": "v", "order": order}]}, items)
        assert [item["i"] for item in out] == expected


def test_sort_mixed_types_does_not_crash() -> None:
    items = [{"v": "b"}, {"v": 2}, {"v": {"x": 1}}, {"v": True}, {"v": [1]}, {"v": 1.5}]
    [out] = run("sort", {"fields": [{"field": "v"}]}, items)
    assert [item["v"] for item in out] == [True, 1.5, 2, "b", [1], {"x": 1}]


def test_sort_by_nested_field() -> None:
    items = [{"a": {"b": 2}}, {"a": {"b": 1}}]
    assert run("sort", {"fields": [{"field": "a.b"}]}, items) == [
        [{"a": {"b": 1}}, {"a": {"b": 2}}]
    ]


# --- limit / removeDuplicates ------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"maxItems": 2}, [0, 1]),
        ({"maxItems": 2, "keep": "last"}, [2, 3]),
        ({"maxItems": 0, "keep": "last"}, []),
        ({"maxItems": 0}, []),
        ({"maxItems": 9, "keep": "last"}, [0, 1, 2, 3]),
    ],
)
def test_limit(params: dict, expected: list[int]) -> None:
    [out] = run("limit", params, [{"i": i} for i in range(4)])
    assert [item["i"] for item in out] == expected


def test_remove_duplicates_whole_items() -> None:
    items = [{"a": 1, "b": 2}, {"b": 2, "a": 1.0}, {"a": 1}, {"a": 1, "b": 2, "c": 3}]
    assert run("removeDuplicates", {}, items) == [[items[0], items[2], items[3]]]


def test_remove_duplicates_by_fields_keeps_first() -> None:
    items = [
        {"u": {"id": 1}, "i": 0},
        {"u": {"id": 1}, "i": 1},
        {"u": {"id": None}, "i": 2},
        {"u": {}, "i": 3},
        {"u": {}, "i": 4},
        {"u": {"id": 2}, "i": 5},
    ]
    [out] = run("removeDuplicates", {"fields": ["u.id"]}, items)
    assert [item["i"] for item in out] == [0, 2, 3, 5]
