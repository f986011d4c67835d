"""Bounded reading of request bodies: every body the API parses goes through here.

Python's ``json`` reads anything JSON allows, and then some: nesting as deep as the
interpreter's recursion limit (a ``RecursionError`` — or, with a raised limit, a crashed
thread), integers of any length (over 4,300 digits ``int()`` refuses them with a
``ValueError``), ``NaN`` and ``Infinity`` (not JSON: Step Functions and browsers refuse
them), ``1e999`` (read as infinity) and lone UTF-16 surrogates (``"\\ud800"``: a ``str`` that
cannot be encoded, so DynamoDB, S3 and every later ``encode()`` fail). Each of these turned a
bad request into a 500. ``parse_json`` refuses them all with ``BodyInvalid`` (a 400 naming
the problem), checking the nesting before the parser recurses, so it never recurses deep.

API Gateway hands a body to the Lambda base64-encoded when its media type is binary
(``functions.api.gateway``: every type is); the handlers want UTF-8 text. ``body_problem``
says why a body cannot be read as text, for the error handler that answers it
(``functions.api.errors``). ``hostile_body`` tells that handler, when a route that parsed a
body its own way failed, whether the body was one no parser should be asked to read: then
the failure is the caller's (400), not the server's.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from compiler.errors import SfnflowError

MAX_DEPTH = 64  # nested arrays/objects in a body; documents and inputs need far fewer
MAX_NUMBER_CHARS = 100  # characters of one number literal (a double has 17 significant digits)

# A JSON string literal, or one bracket outside strings: enough to measure nesting without
# parsing (the regex engine walks the strings; Python only sees strings and brackets).
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class BodyInvalid(SfnflowError, ValueError):
    """The request body cannot be read (400): not UTF-8, not JSON, or past a limit."""

    def __init__(self, message: str, code: str = "invalid_body") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _nesting(text: str, limit: int) -> int:
    """The deepest nesting in ``text`` once past ``limit`` (else at most ``limit``)."""
    if text.count("[") + text.count("{") <= limit:
        return 0  # cannot be deeper than it has openers
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _number(literal: str, kind: type[int] | type[float]) -> int | float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise BodyInvalid(f"a number in the body has {len(literal):,} characters; at most "
                          f"{MAX_NUMBER_CHARS} are accepted", "number_too_long")
    value = kind(literal)
    if isinstance(value, float) and not math.isfinite(value):
        raise BodyInvalid(f"the number {literal} is out of range (a double is at most about "
                          "1.8e308)", "number_out_of_range")
    return value


def _constant(name: str) -> Any:
    raise BodyInvalid(f"{name} is not JSON: send numbers only", "not_json")


def _check_strings(value: Any) -> None:
    """Every string (keys too) must encode as UTF-8: no lone surrogates. Iterative: the
    value's depth is already bounded, but a loop costs nothing and holds no stack."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
        elif isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                raise BodyInvalid("a string in the body holds a lone UTF-16 surrogate "
                                  "(\\ud800-\\udfff not in a pair)", "invalid_string") from None


def parse_json(text: str | bytes) -> Any:
    """``text`` as JSON, within the limits above; ``BodyInvalid`` otherwise."""
    if isinstance(text, bytes):
        text = decode_text(text)
    depth = _nesting(text, MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise BodyInvalid(f"the body nests arrays and objects more than {MAX_DEPTH} deep",
                          "too_deep")
    try:
        value = json.loads(text, parse_int=lambda s: _number(s, int),
                           parse_float=lambda s: _number(s, float), parse_constant=_constant)
    except BodyInvalid:
        raise
    except (ValueError, RecursionError) as exc:
        # json's own message names the line and column, nothing of the server
        raise BodyInvalid(f"the body is not valid JSON: {exc}", "not_json") from None
    _check_strings(value)
    return value


def decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyInvalid(f"the body is not UTF-8 text (byte {exc.start} is not)",
                          "not_utf8") from None


def body_problem(event: dict[str, Any]) -> BodyInvalid | None:
    """Why the proxy event's body cannot be read as text (bad base64, not UTF-8), if so."""
    body = event.get("body")
    if not body or not event.get("isBase64Encoded"):
        return None
    try:
        raw = base64.b64decode(str(body).encode(), validate=False)
    except (binascii.Error, ValueError):
        return BodyInvalid("the body is not valid base64 (isBase64Encoded)", "bad_base64")
    try:
        decode_text(raw)
    except BodyInvalid as exc:
        return exc
    return None


# What no parser should be asked to read: a route that failed on such a body failed
# because of it (a plain syntax error is not here: a form body is not JSON, and is fine).
HOSTILE = frozenset({"too_deep", "number_too_long", "number_out_of_range",
                     "invalid_string", "not_utf8", "bad_base64"})


def hostile_body(event: dict[str, Any] | None) -> BodyInvalid | None:
    """The problem of a proxy event's body that is hostile to any parser, if it is."""
    event = event or {}
    problem = body_problem(event)
    if problem is not None or not event.get("body"):
        return problem
    body = str(event["body"])
    text = base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else body
    try:
        parse_json(text)
    except BodyInvalid as exc:
        return exc if exc.code in HOSTILE else None
    return None
