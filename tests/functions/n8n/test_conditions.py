"""Condition semantics (functions.n8n.conditions): legacy defaults and the filter format."""

from __future__ import annotations

import pytest

from functions.n8n.conditions import (
    FilterOptions,
    FilterTypeError,
    filter_condition,
    filter_options,
    legacy_compare,
    legacy_conditions,
)
from functions.n8n.errors import NodeOperationError


def _cond(left: object, right: object, type_: str, operation: str, **operator: object) -> dict:
    return {"leftValue": left, "rightValue": right,
            "operator": {"type": type_, "operation": operation, **operator}}


def test_legacy_default_operations_per_type() -> None:
    # number defaults to "smaller", dateTime to "after", string/boolean to "equal"
    assert legacy_conditions("IF", {"number": [{"value1": 1, "value2": 2}]}, combine_any=False)
    assert legacy_conditions(
        "IF", {"dateTime": [{"value1": "2024-01-02", "value2": "2024-01-01"}]}, combine_any=False
    )
    assert not legacy_conditions("IF", {"boolean": [{"value1": "true", "value2": True}]}, False)
    assert legacy_conditions("IF", {}, combine_any=False)  # "all" of nothing passes
    assert not legacy_conditions("IF", {}, combine_any=True)


def test_legacy_invalid_dates_are_n8ns_error() -> None:
    with pytest.raises(NodeOperationError, match='The value "soon" is not a valid DateTime.'):
        legacy_compare("IF", "dateTime", "after", "soon", "2024-01-01")


def test_strict_type_error_message() -> None:
    with pytest.raises(FilterTypeError) as caught:
        filter_condition("If", _cond("12", 10, "number", "gt"), FilterOptions(), 0, 3)
    assert caught.value.message == (
        "Wrong type: '12' is a string but was expecting a number [condition 0, item 3]"
    )


def test_loose_conversion_and_its_error() -> None:
    loose = FilterOptions(strict=False)
    assert filter_condition("If", _cond("12", 10, "number", "gt"), loose)
    with pytest.raises(FilterTypeError, match="Conversion error: the string 'x' can't be"):
        filter_condition("If", _cond("x", 10, "number", "gt"), loose)


def test_loose_booleans_depend_on_the_filter_version() -> None:
    condition = _cond("false", "", "boolean", "true", singleValue=True)
    assert filter_condition("If", condition, FilterOptions(strict=False, version=1))
    assert not filter_condition("If", condition, FilterOptions(strict=False, version=2))


def test_case_insensitive_strings_and_arrays() -> None:
    options = FilterOptions(case_sensitive=False)
    assert filter_condition("If", _cond("Hello", "HELLO", "string", "equals"), options)
    assert filter_condition("If", _cond(["a"], "A", "array", "contains", rightType="any"), options)


def test_stored_options_win_over_node_flags() -> None:
    stored = {"caseSensitive": True, "typeValidation": "strict"}
    assert filter_options(stored, ignore_case=True, loose=True) == FilterOptions(True, True, 1)
    assert filter_options({}, ignore_case=True, loose=True) == FilterOptions(False, False, 1)
