"""Writing JSONata source text for ASL fields."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any


def jsonata(source: str) -> str:
    """An ASL JSONata field value: ``{% source %}``."""
    return "{% " + source + " %}"


def literal(value: object) -> str:
    """A JSON value as JSONata source (JSON is valid JSONata)."""
    return json.dumps(value, separators=(",", ":"))


# JSON escapes what JSONata fields may not hold raw: ``%`` (``%}`` ends a field) and the
# line terminators JSON leaves alone (asl-validator's ``{%.*%}`` does not match across
# U+2028/U+2029, like every JavaScript ``.``).
_LITERAL_ESCAPES = str.maketrans({"%": "\\u0025", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_LINE_BREAKS = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_literal(value: Any) -> str:
    """A JSON value as a JSONata literal on one line, with no ``{%``/``%}``."""
    return json.dumps(value, ensure_ascii=False).translate(_LITERAL_ESCAPES)


@lru_cache(maxsize=65_536)
def text(value: str) -> str:
    """A JSONata string literal on one line, with no ``{%``/``%}`` (which end a field)."""
    return json_literal(value)


def one_line(source: str) -> str | None:
    """``source`` without line breaks (asl-validator rejects them in JSONata fields): inside
    string literals they become escapes, elsewhere spaces. None if that is not safe."""
    if not any(char in source for char in _LINE_BREAKS):
        return source
    out: list[str] = []
    quote = ""
    position = 0
    while position < len(source):
        char = source[position]
        if quote:
            if char == "\\":
                out.append(source[position:position + 2])
                position += 2
                continue
            if char == quote:
                quote = ""
            out.append(_LINE_BREAKS.get(char, char) if quote != "`" else char)
            if quote == "`" and char in _LINE_BREAKS:
                return None
        elif source.startswith("/*", position):
            end = source.find("*/", position + 2)
            if end < 0:
                return None
            out.append(" ")
            position = end + 2
            continue
        elif char == "/":
            return None  # division or a regex literal: cannot tell where strings are
        elif char in "\"'`":
            quote = char
            out.append(char)
        else:
            out.append(" " if char in _LINE_BREAKS else char)
        position += 1
    return "".join(out)
