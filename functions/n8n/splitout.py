"""Split Out v1: one output item per element of a list field (several fields zip).

``fieldToSplitOut`` is a comma-separated list; an object is split into its values, a
scalar into one item. ``include``: ``noOtherFields`` (default: an object element becomes
the item itself, anything else lands under the field or ``destinationFieldName``),
``allOtherFields``, ``selectedOtherFields`` (``fieldsToInclude``). A destination path that
reaches ``__proto__``/``constructor``/``prototype`` is ignored (the field name is used),
as n8n's prototype-pollution guard does.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import (
    FORBIDDEN_KEYS,
    Item,
    deep_copy,
    field_getter,
    paired,
    split_field_list,
    to_path,
    unset_path,
)
from functions.n8n.jsvalues import UNDEFINED


def _elements(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def run(call: NodeCall) -> list[list[Item]]:
    out: list[Item] = []
    items = call.items
    for index, item in enumerate(items):
        fields = split_field_list(call.parameter("fieldToSplitOut", index, ""))
        options = call.parameter("options", index, {}) or {}
        dot = not options.get("disableDotNotation", False)
        get_field, set_field = field_getter(dot)
        destinations = split_field_list(options.get("destinationFieldName", ""))
        include = call.parameter("include", index, "noOtherFields")
        columns: list[tuple[str, list[Any]]] = []
        for position, field in enumerate(fields):
            value = get_field(item["json"], field, UNDEFINED)
            if value is UNDEFINED:
                present = (get_field(it["json"], field, UNDEFINED) for it in items)
                if all(value is UNDEFINED for value in present):
                    raise NodeOperationError(
                        call.node,
                        f"The field '{field}' wasn't found in any input item",
                        item_index=index,
                        description="Make sure the field name is spelled correctly",
                    )
                continue
            destination = destinations[position] if position < len(destinations) else field
            if any(part in FORBIDDEN_KEYS for part in to_path(destination)):
                destination = field
            columns.append((destination, _elements(value)))
        if not columns:
            continue
        length = max(len(values) for _, values in columns)
        for element_index in range(length):
            if include == "allOtherFields":
                base = deep_copy(item["json"])
                for field in fields:
                    if dot:
                        unset_path(base, field)
                    else:
                        base.pop(field, None)
            elif include == "selectedOtherFields":
                base = {}
                for name in split_field_list(call.parameter("fieldsToInclude", index, "")):
                    value = get_field(item["json"], name, UNDEFINED)
                    if value is not UNDEFINED:
                        set_field(base, name, deep_copy(value))
            else:
                base = {}
            for destination, values in columns:
                element = values[element_index] if element_index < len(values) else None
                if (
                    include == "noOtherFields"
                    and isinstance(element, dict)
                    and not destinations
                    and len(columns) == 1
                ):
                    base = {**base, **deep_copy(element)}
                else:
                    set_field(base, destination, deep_copy(element))
            out.append({"json": base, "pairedItem": paired(index)})
    return [out]
