"""JavaScript value rules the node code relies on (functions.n8n.jsvalues)."""

from __future__ import annotations

import pytest

from functions.n8n.jsvalues import (
    UNDEFINED,
    compare,
    is_nan,
    js_number,
    js_string,
    json_stringify,
    parse_datetime,
    parse_regex_literal,
    regex_test,
    strict_equal,
    truthy,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (None, "null"), (UNDEFINED, "undefined"), (1.0, "1"), (1.5, "1.5"),
     ([1, None, "a"], "1,,a"), ({"a": 1}, "[object Object]")],
)
def test_js_string(value: object, text: str) -> None:
    assert js_string(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [("", 0), (" 12 ", 12), ("3.5", 3.5), (None, 0), (True, 1), ([], 0), (["7"], 7), ("0x10", 16)],
)
def test_js_number(value: object, number: float) -> None:
    assert js_number(value) == number


def test_js_number_nan() -> None:
    assert is_nan(js_number("abc")) and is_nan(js_number(UNDEFINED)) and is_nan(js_number({}))


def test_truthiness_is_javascripts() -> None:
    assert truthy([]) and truthy({}) and truthy("0")
    assert not truthy("") and not truthy(0) and not truthy(float("nan")) and not truthy(UNDEFINED)


def test_strict_equal_and_relational_coercion() -> None:
    assert strict_equal(1, 1.0) and not strict_equal(1, "1") and not strict_equal(True, 1)
    assert compare("10", 9, ">") and not compare("a", 1, "<") and compare("a", "b", "<")


def test_regex_literals_and_json() -> None:
    assert regex_test(parse_regex_literal("/^AB/i"), "abc")
    assert regex_test(parse_regex_literal("^a\\d$"), "a1")
    assert json_stringify({"a": 1.0, "b": [UNDEFINED], "c": UNDEFINED}) == '{"a":1,"b":[null]}'


def test_dates_without_zone_are_utc() -> None:
    assert parse_datetime("2023-10-21").isoformat() == "2023-10-21T00:00:00+00:00"
    assert parse_datetime("2023-10-21T10:00:00.000-05:00").hour == 10
    assert parse_datetime("not a date") is None
