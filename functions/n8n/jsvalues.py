"""The few JavaScript value rules n8n's node code relies on, in Python.

n8n's nodes are TypeScript: ``String(x)``, ``Number(x)``, truthiness, ``===`` (where ``1``
equals ``1.0``), ``JSON.stringify`` and ``new RegExp`` decide their results. Python's
``str``/``float``/``bool`` differ (``str(True) == "True"``, ``bool([]) is False``), so each
node family calls these instead. ``UNDEFINED`` stands for a JavaScript ``undefined`` where a
node has to tell it from ``null`` (``None``).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any


class _Undefined:
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
NAN = float("nan")


def is_nullish(value: Any) -> bool:
    return value is None or value is UNDEFINED


def typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def number_to_string(value: float | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            sign = "-" if exponent.startswith("-") else "+"
            return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
        return text
    return str(value)


def js_string(value: Any) -> str:
    """``String(value)``."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if is_nullish(v) else js_string(v) for v in value)
    return "[object Object]"


def json_stringify(value: Any) -> str:
    """``JSON.stringify(value)`` (compact, as n8n writes it)."""
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        return int(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else _jsonable(v) for v in value]
    return value


_NUMBER_LITERAL = re.compile(r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$")


def js_number(value: Any) -> float | int:
    """``Number(value)``; NaN as ``float('nan')``. Integral results stay ``int``."""
    if value is None:
        return 0
    if value is UNDEFINED:
        return NAN
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0
        if _NUMBER_LITERAL.match(text):
            number = float(text)
            return int(number) if number.is_integer() and "e" not in text.lower() else number
        lowered = text.lower()
        if re.match(r"^0x[0-9a-f]+$", lowered):
            return int(lowered, 16)
        if re.match(r"^0o[0-7]+$", lowered):
            return int(lowered[2:], 8)
        if re.match(r"^0b[01]+$", lowered):
            return int(lowered[2:], 2)
        if text in ("Infinity", "+Infinity"):
            return math.inf
        if text == "-Infinity":
            return -math.inf
        return NAN
    if isinstance(value, list):
        if not value:
            return 0
        if len(value) == 1:
            return js_number(js_string(value[0]))
        return NAN
    return NAN


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def truthy(value: Any) -> bool:
    """JavaScript truthiness (``[]`` and ``{}`` are true, ``NaN`` and ``""`` false)."""
    if value is None or value is UNDEFINED or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or is_nan(value))
    if isinstance(value, str):
        return value != ""
    return True


def strict_equal(left: Any, right: Any) -> bool:
    """``===``: same type and value; objects compare by identity (never equal here)."""
    if typeof(left) != typeof(right):
        return False
    if left is None or right is None:
        return left is right
    if isinstance(left, (dict, list)):
        return left is right
    return bool(left == right)


def compare(left: Any, right: Any, op: str) -> bool:
    """The relational operators ``< <= > >=`` on primitives, with JavaScript's coercions."""
    if isinstance(left, str) and isinstance(right, str):
        a: Any = left
        b: Any = right
    else:
        a = js_number(left if not isinstance(left, (dict, list)) else js_string(left))
        b = js_number(right if not isinstance(right, (dict, list)) else js_string(right))
        if is_nan(a) or is_nan(b):
            return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


_JS_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def js_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """``new RegExp(pattern, flags)`` for the syntax JavaScript and Python share."""
    value = 0
    for flag in flags:
        value |= _JS_FLAGS.get(flag, 0)
    translated = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern)
    translated = translated.replace("\\d", "[0-9]")
    return re.compile(translated, value)


def parse_regex_literal(text: str) -> re.Pattern[str]:
    """n8n's "regex" values: ``/pattern/flags`` or a bare pattern."""
    match = re.match(r"^/(.*?)/([gimusy]*)$", text or "", re.DOTALL)
    if match:
        return js_regex(match.group(1), match.group(2))
    return js_regex(text or "")


def regex_test(pattern: re.Pattern[str], value: Any) -> bool:
    """``regex.test(value)`` (``value`` is stringified as JavaScript does)."""
    return pattern.search(js_string(value)) is not None


def parse_datetime(value: Any) -> datetime | None:
    """A timestamp for date comparisons (ISO 8601 first, as luxon's ``fromISO``).

    Zone-less values are read as UTC: the node runner runs in UTC, as n8n's test suite does.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or value is None or value is UNDEFINED:
        return None
    if isinstance(value, (int, float)):
        if is_nan(value):
            return None
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).strip()
    if not text:
        return None
    candidate = text.replace("z", "Z")
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        parsed = None
    if parsed is None:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def millis(value: datetime) -> float:
    return value.timestamp() * 1000
