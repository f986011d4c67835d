"""Summarize v1 / v1.1: pivot-table aggregations, optionally split by fields.

``fieldsToSummarize.values[{aggregation, field, separateBy, customSeparator,
includeEmpty}]``: ``count`` (default) -> ``count_<f>``, ``countUnique`` ->
``unique_count_<f>``, ``sum``/``average``/``min``/``max`` -> ``<agg>_<f>``, ``append`` ->
``appended_<f>``, ``concatenate`` -> ``concatenated_<f>`` (dots in ``f`` become ``_``).
Null, undefined and ``""`` are left out unless ``includeEmpty``.

``fieldsToSplitBy`` (``"a, b"``) groups items hierarchically: by the first field in order
of first appearance, then by the next within each group. ``options.outputFormat``:
``separateItems`` (default,
one item per group with the split values) or ``singleItem`` (the nested object itself).
v1 turns split values into strings (``0`` -> ``"0"``, ``null`` -> ``"null"``); v1.1 keeps
them. ``sum``/``average`` use the numbers only; ``min``/``max`` compare every non-empty
value as JavaScript does. ``options.disableDotNotation`` reads flat keys; a field no item
is v1's error (unless ``options.continueIfFieldNotFound``); v1.1 just counts nothing.
Object split values show as JSON text; an absent split value is left out; a dotted
split field is named with underscores (``d.x`` -> ``d_x``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, deep_copy, field_getter, paired, split_field_list
from functions.n8n.jsvalues import UNDEFINED, compare, is_nullish, js_string, json_stringify

_PREFIX = {
    "count": "count",
    "countUnique": "unique_count",
    "sum": "sum",
    "average": "average",
    "min": "min",
    "max": "max",
    "append": "appended",
    "concatenate": "concatenated",
}


def _empty(value: Any) -> bool:
    return is_nullish(value) or value == ""


def _numbers(values: list[Any]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _aggregate(spec: dict[str, Any], values: list[Any]) -> Any:
    kind = spec.get("aggregation", "count")
    if not spec.get("includeEmpty"):
        values = [v for v in values if not _empty(v)]
    if kind == "count":
        return len(values)
    if kind == "countUnique":
        unique: list[str] = []
        for value in values:
            key = "undefined" if value is UNDEFINED else json_stringify(value)
            if key not in unique:
                unique.append(key)
        return len(unique)
    if kind == "append":
        return [None if v is UNDEFINED else deep_copy(v) for v in values]
    if kind == "concatenate":
        separator = spec.get("separateBy", ",")
        if separator == "other":
            separator = spec.get("customSeparator", "")
        return separator.join(
            json_stringify(v) if isinstance(v, (dict, list)) else js_string(v) for v in values
        )
    numbers = _numbers(values)
    if kind == "sum":
        return sum(numbers)
    if kind == "average":
        return sum(numbers) / len(numbers) if numbers else None
    present = [v for v in values if not _empty(v)]
    if not present:
        return None
    best = present[0]
    for value in present[1:]:
        if compare(value, best, "<" if kind == "min" else ">"):
            best = value
    return best


Getter = Callable[..., Any]
Groups = list[tuple[list[Any], list[int]]]


def _check_fields(call: NodeCall, specs: list[dict[str, Any]], get_field: Getter) -> None:
    """v1 refuses a summarized field that no item has."""
    for spec in specs:
        field = spec.get("field", "")
        values = (get_field(it["json"], field, UNDEFINED) for it in call.items)
        if call.items and all(value is UNDEFINED for value in values):
            raise NodeOperationError(
                call.node,
                f"The field '{field}' does not exist in any items",
                description="To continue anyway, set 'Continue if Field Not Found'",
            )


def _summary(
    items: list[Item], indexes: list[int], specs: list[dict[str, Any]], get_field: Getter
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for spec in specs:
        field = spec.get("field", "")
        values = [get_field(items[i]["json"], field, UNDEFINED) for i in indexes]
        name = f"{_PREFIX[spec.get('aggregation', 'count')]}_{field.replace('.', '_')}"
        result[name] = _aggregate(spec, values)
    return result


def _groups(
    call: NodeCall, indexes: list[int], split_by: list[str], get_field: Getter
) -> Groups:
    """(split values, member indexes) per group, nested by field in first-seen order."""
    if not split_by:
        return [([], indexes)]
    buckets: dict[str, tuple[Any, list[int]]] = {}
    for i in indexes:
        value = get_field(call.items[i]["json"], split_by[0], UNDEFINED)
        key = json_stringify(value) if isinstance(value, (dict, list)) else js_string(value)
        buckets.setdefault(key, (value, []))[1].append(i)
    result: Groups = []
    for key, (value, members) in buckets.items():
        as_text = call.type_version < 1.1 or isinstance(value, (dict, list))
        shown = key if as_text else value
        for rest, leaf in _groups(call, members, split_by[1:], get_field):
            result.append(([shown, *rest], leaf))
    return result


def run(call: NodeCall) -> list[list[Item]]:
    items = call.items
    options = call.parameter("options", 0, {}) or {}
    get_field, _ = field_getter(not options.get("disableDotNotation", False))
    specs = call.parameter("fieldsToSummarize.values", 0, []) or []
    for spec in specs:
        if spec.get("aggregation", "count") not in _PREFIX:
            raise call.invalid("fieldsToSummarize", f"unknown aggregation {spec['aggregation']!r}")
    if call.type_version < 1.1 and not options.get("continueIfFieldNotFound"):
        _check_fields(call, specs, get_field)
    split_by = split_field_list(call.parameter("fieldsToSplitBy", 0, ""))
    everything = list(range(len(items)))
    if not split_by:
        data = _summary(items, everything, specs, get_field)
        return [[{"json": data, "pairedItem": [paired(i) for i in everything]}]]
    groups = _groups(call, everything, split_by, get_field)
    if options.get("outputFormat", "separateItems") == "singleItem":
        nested: dict[str, Any] = {}
        for values, members in groups:
            node = nested
            for value in values[:-1]:
                node = node.setdefault(js_string(value), {})
            node[js_string(values[-1])] = _summary(items, members, specs, get_field)
        return [[{"json": nested, "pairedItem": [paired(i) for i in everything]}]]
    out = []
    for values, members in groups:
        data = {
            field.replace(".", "_"): value
            for field, value in zip(split_by, values, strict=True)
            if value is not UNDEFINED
        }
        data.update(_summary(items, members, specs, get_field))
        out.append({"json": data, "pairedItem": [paired(i) for i in members]})
    return [out]
