"""lodash-style paths and pairedItem helpers (functions.n8n.items)."""

from __future__ import annotations

import pytest

from functions.n8n.items import (
    get_path,
    has_path,
    paired,
    set_path,
    split_field_list,
    to_path,
    unset_path,
)


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a.b.c", ["a", "b", "c"]),
        ("list[2].x", ["list", "2", "x"]),
        ('a["b.c"].d', ["a", "b.c", "d"]),
        ("a['q']", ["a", "q"]),
    ],
)
def test_to_path_splits_like_lodash(path: str, parts: list[str]) -> None:
    assert to_path(path) == parts


def test_set_creates_arrays_for_index_keys_and_objects_otherwise() -> None:
    data: dict = {}
    set_path(data, "list[1]", "b")
    set_path(data, "nested.key", 1)
    assert data == {"list": [None, "b"], "nested": {"key": 1}}


def test_set_refuses_prototype_keys() -> None:
    data: dict = {}
    set_path(data, "__proto__.polluted", True)
    assert data == {}


def test_get_has_and_unset() -> None:
    data = {"a": {"b": [10, {"c": 3}]}}
    assert get_path(data, "a.b[1].c") == 3
    assert get_path(data, "a.x", "default") == "default"
    assert has_path(data, "a.b[0]") and not has_path(data, "a.b[5]")
    assert unset_path(data, "a.b[1].c") and data == {"a": {"b": [10, {}]}}


def test_paired_omits_input_zero() -> None:
    assert paired(3) == {"item": 3}
    assert paired(3, 1) == {"item": 3, "input": 1}


def test_field_lists_accept_text_or_arrays() -> None:
    assert split_field_list("a, b ,,c") == ["a", "b", "c"]
    assert split_field_list(["a", " b "]) == ["a", "b"]
    assert split_field_list(None) == []
