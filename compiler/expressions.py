"""Expressions: JSONata inside ``{% ... %}``, the delimiter ASL itself uses.

A parameter string is either a whole expression (``"{% $json.id %}"``, evaluated to any JSON
value) or a template with embedded expressions (``"Hello {% $json.name %}!"``, always a
string). Anything else is a literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jsonata

from compiler.jsonata_compat import compile_expression

OPEN, CLOSE = "{%", "%}"
_SEGMENT = re.compile(r"\{%(.*?)%\}", re.DOTALL)

MAX_EXPRESSION_DEPTH = 100
"""Brackets (``( [ {``) nest at most 100 deep in one expression. Hand-written JSONata rarely
goes past 10; the parsers that read it (Python's jsonata here, the JavaScript one in
asl-validator, Step Functions' own) are recursive descent, and a 3,000-deep expression that
one of them accepts another refuses, so a deep one would validate here and fail at deploy."""
_BRACKETS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|/\*.*?\*/"
                       r"|[\[\](){}]", re.DOTALL)


def nesting(source: str) -> int:
    """How deep brackets nest in JSONata ``source`` (outside string literals and comments)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(source):
        token = match.group()
        if token in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in ")]}":
            depth -= 1
    return deepest


def is_expression(value: object) -> bool:
    """True for a string that is exactly one ``{% ... %}`` expression."""
    return (
        isinstance(value, str)
        and value.startswith(OPEN)
        and value.endswith(CLOSE)
        and value.count(OPEN) == 1
    )


def has_expression(value: object) -> bool:
    return isinstance(value, str) and _SEGMENT.search(value) is not None


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (objects' values and arrays' items, depth first)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def segments(value: str) -> Iterator[str]:
    """The JSONata source of every embedded expression in ``value``."""
    for match in _SEGMENT.finditer(value):
        yield match.group(1).strip()


_NAME = r"(?!(?:and|or|in|true|false|null|function)\b)[A-Za-z_][A-Za-z0-9_]*"
_OPERAND = (rf"(?:\$(?:json|index)?(?:\.{_NAME})*|'[^'\\\n]*'|\"[^\"\\\n]*\""
            r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?|true|false|null)")
_SIMPLE = re.compile(
    rf"{_OPERAND}(?:\s*(?:[-+*/&%=<>]|!=|<=|>=|\s(?:and|or)\s)\s*{_OPERAND})*")


def is_simple(source: str) -> bool:
    """Whether ``source`` is a chain of operands (``$json`` paths, ``$index``, literals)
    joined by binary operators: valid JSONata without running its parser, which takes
    most of a 10,000-node compile otherwise."""
    return _SIMPLE.fullmatch(source) is not None


@lru_cache(maxsize=8192)
def parse(source: str) -> jsonata.Jsonata:
    """Parse JSONata once; raises ``ValueError`` with the parser's message on bad syntax."""
    try:
        return compile_expression(source)  # agrees with Step Functions' JSONata
    except Exception as exc:
        raise ValueError(f"invalid expression {source!r}: {exc}") from exc


def syntax_errors(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(field path, message)`` for every expression in ``value`` that does not parse."""
    if isinstance(value, str):
        if value.count(OPEN) != value.count(CLOSE):
            yield path, "unbalanced '{%' / '%}' in expression"
            return
        for source in segments(value):
            if not source:
                yield path, "empty expression '{% %}'"
                continue
            if is_simple(source):
                continue
            if nesting(source) > MAX_EXPRESSION_DEPTH:
                yield path, (f"brackets nest more than {MAX_EXPRESSION_DEPTH} deep in "
                             "expression: split it (e.g. into several set fields)")
                continue
            try:
                parse(source)
            except ValueError as exc:
                yield path, str(exc)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from syntax_errors(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from syntax_errors(item, f"{path}[{index}]")
