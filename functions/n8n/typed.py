"""n8n's ``validateFieldType`` for node fields that declare a type (Set v3 "Edit Fields").

``convert(value, type)`` returns the value in that type or raises ``FieldTypeError`` with
n8n's message (``'name' expects a number but we got 'abc'``). Set v3 calls it without
strictness: strings parse into numbers, booleans (``"true"``, ``"0"``, ``1``), arrays and
objects (JSON text).
"""

from __future__ import annotations

import json
from typing import Any

from functions.n8n.jsvalues import is_nan, is_nullish, js_number, js_string


class FieldTypeError(ValueError):
    pass


def parse_boolean(value: Any) -> tuple[bool, Any]:
    """n8n's ``tryToParseBoolean``: (ok, value) for ``true``/``"TRUE"``/``"0"``/``1``..."""
    if isinstance(value, bool):
        return True, value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return True, value.lower() == "true"
    if not (isinstance(value, str) and value.strip() == ""):
        number = js_number(value)
        if number == 0 and not is_nan(number):
            return True, False
        if number == 1:
            return True, True
    return False, None


def describe(value: Any) -> str:
    """n8n's ``getValueDescription``."""
    if value is None:
        return "'null'"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return f"'{js_string(value)}'"


def convert(name: str, value: Any, type_: str) -> Any:
    """The value converted to ``type_`` (``None``/``undefined`` pass through as ``None``)."""
    if is_nullish(value):
        return None
    error = FieldTypeError(f"'{name}' expects a {type_} but we got {describe(value)}")
    if type_ == "string":
        return value if isinstance(value, str) else js_string(value)
    if type_ == "number":
        number = js_number(value)
        if is_nan(number):
            raise error
        return number
    if type_ == "boolean":
        ok, parsed = parse_boolean(value)
        if not ok:
            raise error
        return parsed
    if type_ == "array":
        if isinstance(value, list):
            return value
        for text in (js_string(value), js_string(value).replace("'", '"')):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, list):
                return parsed
            break
        raise error
    if type_ == "object":
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(js_string(value))
        except ValueError:
            raise error from None
        if not isinstance(parsed, dict):
            raise error
        return parsed
    return value


__all__ = ["FieldTypeError", "convert", "describe", "parse_boolean"]
