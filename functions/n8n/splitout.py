"""Split Out v1: one output item per element of a list field (several fields zip).

``fieldToSplitOut`` is a comma-separated list (zipped; a shorter list leaves its key out);
an object is split into its values, a scalar into one item; an item without the field
yields nothing. ``include``: ``noOtherFields`` (default: an object or array element
becomes the item itself, spread like ``{...element}``, anything else lands under the
field or ``destinationFieldName``),
``allOtherFields``, ``selectedOtherFields`` (``fieldsToInclude``). A destination path that
reaches ``__proto__``/``constructor``/``prototype`` is ignored (the field name is used),
as n8n's prototype-pollution guard does. The field's own name is written as one flat key
(``a.list`` stays ``"a.list"``); a ``destinationFieldName`` is a path.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
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
        columns: list[tuple[str, list[Any], bool]] = []
        for position, field in enumerate(fields):
            value = get_field(item["json"], field, UNDEFINED)
            if value is UNDEFINED:
                continue
            destination = destinations[position] if position < len(destinations) else ""
            if not destination or any(p in FORBIDDEN_KEYS for p in to_path(destination)):
                destination = ""  # the field's own name, as one flat key
            columns.append((destination or field, _elements(value), bool(destination)))
        if not columns:
            continue
        length = max(len(values) for _, values, _ in columns)
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
            for destination, values, is_path in columns:
                if element_index >= len(values):
                    continue
                element = values[element_index]
                if (
                    include == "noOtherFields"
                    and isinstance(element, (dict, list))
                    and not destinations
                    and len(columns) == 1
                ):
                    spread = element if isinstance(element, dict) else dict(enumerate(element))
                    base = {**base, **{str(k): deep_copy(v) for k, v in spread.items()}}
                elif is_path:
                    set_field(base, destination, deep_copy(element))
                else:
                    base[destination] = deep_copy(element)
            out.append({"json": base, "pairedItem": paired(index)})
    return [out]
