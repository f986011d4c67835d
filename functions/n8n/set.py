"""Set / Edit Fields, every typeVersion.

* **v1, v2** (``values: {boolean, number, string: [{name, value}]}``): booleans, then
  numbers, then strings are written with lodash ``set`` (or flat keys when
  ``options.dotNotation`` is false), onto a copy of the item unless ``keepOnlySet``.
  Missing names are ``propertyName``; missing values the type's default (``false``, ``0``,
  ``""``). v1 writes an expression's number result as it came (a string stays a string);
  v2 turns a numeric string into a number. No input item at all still yields one item.
* **v3-v3.2** (``fields.values: [{name, type, stringValue|numberValue|...}]``) and
  **v3.3+** (``assignments.assignments: [{name, type, value}]``): each value is converted
  to its declared type (n8n's ``validateFieldType``): a failure is an error unless
  ``options.ignoreConversionErrors`` (then the value is kept as it was). Fields are
  written into (a copy of) the item with lodash ``set``, so ``a.b`` merges into ``a``.
  v3.0 stringifies a null string value (``"null"``); later versions keep ``null``. Which input
  fields are kept: ``include`` (all | none | selected | except) before v3.3; from v3.3
  ``includeOtherFields`` (default false) gates ``include``. ``mode: raw`` merges the
  ``jsonOutput`` object instead. With ``continueOnFail`` a failing item becomes
  ``{"error": message, "pairedItem": ...}`` (n8n 1.123 copies pairedItem into the json).
"""

from __future__ import annotations

import json
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import (
    Item,
    deep_copy,
    field_getter,
    paired,
    split_field_list,
    unset_path,
)
from functions.n8n.jsvalues import is_nan, js_number, js_string, json_stringify, truthy
from functions.n8n.typed import FieldTypeError, convert

_V1_DEFAULTS = (("boolean", False), ("number", 0), ("string", ""))


def _run_v1(call: NodeCall) -> list[list[Item]]:
    items = call.items or [{"json": {}}]
    out: list[Item] = []
    for index, item in enumerate(items):
        keep_only_set = call.parameter("keepOnlySet", index, False)
        options = call.parameter("options", index, {}) or {}
        _, set_field = field_getter(options.get("dotNotation") is not False)
        json_out = {} if keep_only_set else deep_copy(item["json"])
        for kind, default in _V1_DEFAULTS:
            for entry in call.parameter(f"values.{kind}", index, []) or []:
                name = entry.get("name", "propertyName")
                value = entry.get("value", default)
                if kind == "boolean":
                    value = truthy(value)
                elif kind == "number" and call.type_version >= 2 and isinstance(value, str):
                    number = js_number(value)
                    value = value if is_nan(number) else number
                set_field(json_out, name, value)
        out.append({"json": json_out, "pairedItem": paired(index)})
    return [out]


_V3_TYPES = {
    "stringValue": "string",
    "numberValue": "number",
    "booleanValue": "boolean",
    "arrayValue": "array",
    "objectValue": "object",
}


def _entries(call: NodeCall, index: int) -> list[tuple[str, str, Any]]:
    """(name, type, value) of every field to set, in order, for one item."""
    if call.type_version >= 3.3:
        assignments = call.parameter("assignments.assignments", index, []) or []
        return [
            (a.get("name", ""), a.get("type", "string"), a.get("value")) for a in assignments
        ]
    fields = call.parameter("fields.values", index, []) or []
    result = []
    for field in fields:
        key = field.get("type", "stringValue")
        default = {"stringValue": "", "numberValue": 0, "booleanValue": True}.get(key, "")
        value = field.get(key, default)
        result.append((field.get("name", ""), _V3_TYPES.get(key, "string"), value))
    return result


def _typed_value(
    call: NodeCall, name: str, type_: str, value: Any, index: int, ignore_errors: bool
) -> Any:
    if type_ == "string" and (value is not None or call.type_version < 3.1):
        value = json_stringify(value) if isinstance(value, (dict, list)) else js_string(value)
    try:
        return convert(name, value, type_)
    except FieldTypeError as exc:
        if ignore_errors:
            return value
        raise NodeOperationError(call.node, f"{exc} [item {index}]", item_index=index) from None


def _include_mode(call: NodeCall, index: int) -> str:
    if call.type_version >= 3.3:
        if not call.parameter("includeOtherFields", index, False):
            return "none"
        return str(call.parameter("include", index, "all"))
    return str(call.parameter("include", index, "all"))


def _base_json(call: NodeCall, item: Item, index: int, dot: bool) -> dict[str, Any]:
    get_field, set_field = field_getter(dot)
    mode = _include_mode(call, index)
    if mode == "all":
        return dict(deep_copy(item["json"]))
    if mode == "none":
        return {}
    if mode == "selected":
        out: dict[str, Any] = {}
        for key in split_field_list(call.parameter("includeFields", index, "")):
            target = key.split(".")[-1] if dot and "." in key else key
            set_field(out, target, deep_copy(get_field(item["json"], key)))
        return out
    if mode == "except":
        data: dict[str, Any] = dict(deep_copy(item["json"]))
        for key in split_field_list(call.parameter("excludeFields", index, "")):
            if dot:
                unset_path(data, key)
            else:
                data.pop(key, None)
        return data
    raise call.invalid("include", f'The include option "{mode}" is not known!', index)


def _run_v3(call: NodeCall) -> list[list[Item]]:
    out: list[Item] = []
    mode = call.parameter("mode", 0, "manual")
    for index, item in enumerate(call.items):
        try:
            out.append(_v3_item(call, mode, item, index))
        except NodeOperationError as exc:
            if not call.continue_on_fail:
                raise
            # n8n 1.123 also copies the pairedItem into the error item's json
            error = {"error": exc.message, "pairedItem": paired(index)}
            out.append({"json": error, "pairedItem": paired(index)})
    return [out]


def _raw_fields(call: NodeCall, index: int) -> dict[str, Any]:
    """``mode: raw``: the ``jsonOutput`` parameter, which must be one JSON object."""
    raw = call.parameter("jsonOutput", index, "{}")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise NodeOperationError(
            call.node, f"The item {index + 1} contains invalid JSON", item_index=index
        ) from None
    if not isinstance(parsed, dict):
        raise NodeOperationError(
            call.node,
            f"'JSON Output' in item {index + 1} is not a valid JSON object",
            item_index=index,
        )
    return parsed


def _v3_item(call: NodeCall, mode: str, item: Item, index: int) -> Item:
    options = call.parameter("options", index, {}) or {}
    dot = options.get("dotNotation") is not False
    _, set_field = field_getter(dot)
    json_out = _base_json(call, item, index, dot)
    if mode == "raw":
        for key, value in _raw_fields(call, index).items():
            set_field(json_out, key, value)
    else:
        ignore = bool(options.get("ignoreConversionErrors", False))
        for name, type_, value in _entries(call, index):
            set_field(json_out, name, _typed_value(call, name, type_, value, index, ignore))
    return {"json": json_out, "pairedItem": paired(index)}


def run(call: NodeCall) -> list[list[Item]]:
    if call.type_version < 3:
        return _run_v1(call)
    return _run_v3(call)
