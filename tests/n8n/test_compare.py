"""Jest's toEqual as n8n's harness applies it, and the difference a verdict reports."""

from __future__ import annotations

from typing import Any

import pytest

from tests.n8n.compare import first_difference, strip_paired, to_equal


@pytest.mark.parametrize(("actual", "expected"), [
    ({"a": 1, "b": [1, {"c": None}]}, {"b": [1, {"c": None}], "a": 1}),  # key order ignored
    (1, 1.0),
    ({}, {}),
    ([], []),
])
def test_equal(actual: Any, expected: Any) -> None:
    assert to_equal(actual, expected)
    assert first_difference(actual, expected) is None


@pytest.mark.parametrize(("actual", "expected", "difference"), [
    ("0", 0, '(top): got "0", expected 0'),
    (True, 1, "(top): got true, expected 1"),
    (0, False, "(top): got 0, expected false"),
    ([1, 2], [2, 1], "[0]: got 1, expected 2"),
    ({"a": 1, "b": 2}, {"a": 1}, "(top): keys differ (unexpected ['b'])"),
    ({"a": {}}, {"a": {"x": None}}, ".a: keys differ (missing ['x'])"),
    ({"a": []}, {"a": {}}, ".a: got [], expected an object"),
    ([{"json": {"a": [1]}}], [{"json": {"a": [1, 2]}}], "[0].json.a: 1 entries, expected 2"),
    (None, [], "(top): got null, expected a list"),
])
def test_not_equal(actual: Any, expected: Any, difference: str) -> None:
    assert not to_equal(actual, expected)
    assert first_difference(actual, expected) == difference


def test_a_long_value_is_cut_in_the_difference() -> None:
    difference = first_difference("x" * 500, "y")
    assert difference is not None and len(difference) < 200 and "…" in difference


def test_strip_paired_deletes_what_n8n_deletes() -> None:
    items = [{"json": {"pairedItem": 1}, "pairedItem": {"item": 0}, "binary": {"f": {}}}]
    assert strip_paired(items) == [{"json": {"pairedItem": 1}}]
