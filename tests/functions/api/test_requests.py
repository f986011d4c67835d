"""Bounded reading of request bodies (``functions.api.requests``): each input that made
Python's ``json`` raise something other than a clean 400 is a typed ``BodyInvalid``."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from functions.api.requests import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    BodyInvalid,
    body_problem,
    hostile_body,
    parse_json,
)


@pytest.mark.parametrize(("text", "code"), [
    ("[" * 100_000 + "]" * 100_000, "too_deep"),  # was a RecursionError
    ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "too_deep"),
    ("9" * 5_000, "number_too_long"),  # int(): over 4,300 digits is a ValueError
    ('{"n": 1' + "0" * MAX_NUMBER_CHARS + "}", "number_too_long"),
    ("1e999", "number_out_of_range"),  # read as inf
    ('{"x": NaN}', "not_json"),
    ("[-Infinity]", "not_json"),
    ('"\\ud800"', "invalid_string"),  # a str that cannot be encoded
    ('{"\\udfff": 1}', "invalid_string"),
    ("{nope", "not_json"),
    (b'{"x": "\xff"}', "not_utf8"),
])
def test_hostile_bodies_are_body_invalid(text: str | bytes, code: str) -> None:
    with pytest.raises(BodyInvalid) as raised:
        parse_json(text)
    assert raised.value.code == code
    assert "Traceback" not in str(raised.value) and "/" not in raised.value.message


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": [1, 2.5, -3e10, "\\u00e9\\ud83d\\ude00", true, null]}',
     {"a": [1, 2.5, -3e10, "é😀", True, None]}),
    ('"[[[[ brackets in a string are not nesting ]]]"', "[[[[ brackets in a string are "
     "not nesting ]]]"),
    ('["\\"[", "\\\\", "{"]', ['"[', "\\", "{"]),
    ("1" * MAX_NUMBER_CHARS, int("1" * MAX_NUMBER_CHARS)),
    ("1.7976931348623157e308", 1.7976931348623157e308),
])
def test_ordinary_bodies_parse_as_json_does(text: str, expected: Any) -> None:
    assert parse_json(text) == expected


def test_nesting_up_to_the_limit_is_accepted() -> None:
    nested: list[Any] = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) == nested


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = '{"s": "' + "[" * 10_000 + '"}'
    assert parse_json(text) == {"s": "[" * 10_000}


@pytest.mark.parametrize(("event", "code"), [
    ({"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True}, "not_utf8"),
    ({"body": "abc", "isBase64Encoded": True}, "bad_base64"),  # incorrect padding
])
def test_body_problem_names_an_unreadable_body(event: dict[str, Any], code: str) -> None:
    problem = body_problem(event)
    assert problem is not None and problem.code == code


@pytest.mark.parametrize("event", [
    {"body": base64.b64encode("{\"é\": 1}".encode()).decode(), "isBase64Encoded": True},
    {"body": "\udcff text passed as text", "isBase64Encoded": False},
    {"body": None, "isBase64Encoded": True},
])
def test_body_problem_is_none_for_a_readable_body(event: dict[str, Any]) -> None:
    assert body_problem(event) is None


@pytest.mark.parametrize(("body", "code"), [
    ("[" * 1_000 + "]" * 1_000, "too_deep"),
    ("9" * 5_000, "number_too_long"),
    ("{nope", None),  # not JSON (a form body, say): not hostile
    ("a=1&b=2", None),
    ('{"ok": true}', None),
])
def test_hostile_body_blames_only_bodies_no_parser_should_read(body: str,
                                                               code: str | None) -> None:
    problem = hostile_body({"body": body, "isBase64Encoded": False})
    assert (problem.code if problem else None) == code
