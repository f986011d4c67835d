"""Remove Duplicates v1: keep the first of items equal on the compared fields.

``compare``: ``allFields`` (default), ``allFieldsExcept`` (``fieldsToExclude``) or
``selectedFields`` (``fieldsToCompare``); lists are ``"a, b"`` strings or arrays. A
compared field missing from an item, or of different JavaScript types across items, is
n8n's error. Equality
is deep (lodash ``isEqual``; ``1`` equals ``1.0``). ``options.removeOtherFields`` outputs
only the compared fields; ``options.disableDotNotation`` reads flat keys.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, deep_copy, field_getter, paired, split_field_list
from functions.n8n.jsvalues import UNDEFINED, typeof

_NO_FIELDS = "No fields specified. Please add a field "


def _fields(call: NodeCall, items: list[Item]) -> list[str]:
    compare = call.parameter("compare", 0, "allFields")
    all_keys: list[str] = []
    for item in items:
        for key in item["json"]:
            if key not in all_keys:
                all_keys.append(key)
    if compare == "allFields":
        return all_keys
    if compare == "allFieldsExcept":
        excluded = split_field_list(call.parameter("fieldsToExclude", 0, ""))
        if not excluded:
            raise call.invalid("fieldsToExclude", _NO_FIELDS + "to exclude from comparison")
        return [key for key in all_keys if key not in excluded]
    if compare == "selectedFields":
        selected = split_field_list(call.parameter("fieldsToCompare", 0, ""))
        if not selected:
            raise call.invalid("fieldsToCompare", _NO_FIELDS + "to compare on")
        return selected
    raise call.invalid("compare", f'The compare option "{compare}" is not known!')


def run(call: NodeCall) -> list[list[Item]]:
    items = call.items
    options = call.parameter("options", 0, {}) or {}
    get_field, set_field = field_getter(not options.get("disableDotNotation", False))
    fields = _fields(call, items)
    for field in fields:
        kinds = set()
        for item in items:
            value = get_field(item["json"], field, UNDEFINED)
            if value is UNDEFINED:
                raise NodeOperationError(
                    call.node, f"'{field}' field is missing from some input items"
                )
            kinds.add(typeof(value))
        if len(kinds) > 1:
            raise NodeOperationError(
                call.node,
                f"'{field}' isn't always the same type",
                description="The type of this field varies between items",
            )
    seen: list[list[Any]] = []
    out: list[Item] = []
    for index, item in enumerate(items):
        values = [get_field(item["json"], field, UNDEFINED) for field in fields]
        if any(values == other for other in seen):
            continue
        seen.append(values)
        if options.get("removeOtherFields"):
            data: dict[str, Any] = {}
            for field, value in zip(fields, values, strict=True):
                if value is not UNDEFINED:
                    set_field(data, field, deep_copy(value))
        else:
            data = item["json"]
        out.append({"json": data, "pairedItem": paired(index)})
    return [out]
