"""Aggregate v1: many items into one (or one per group).

* ``aggregateIndividualFields`` (default): ``fieldsToAggregate.fieldToAggregate[
  {fieldToAggregate, renameField, outputFieldName}]`` each become a list of that field's
  values, named after the field's last path segment unless renamed; missing/null values
  are skipped unless ``options.keepMissing`` (then ``null``);
  ``options.mergeLists`` flattens list values.
* ``aggregateAllItemData``: the items' json under ``destinationFieldName`` (default
  ``data``), filtered by ``include`` (allFields | specifiedFields ``fieldsToInclude`` |
  allFieldsExcept ``fieldsToExclude``).
* ``options.groupByFields`` (``"a, b"``): one output item per distinct group, in order of
  first appearance, carrying the group's values.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import (
    Item,
    deep_copy,
    field_getter,
    paired,
    split_field_list,
)
from functions.n8n.jsvalues import UNDEFINED, is_nullish, json_stringify


def _individual(call: NodeCall, members: list[Item], dot: bool) -> dict[str, Any]:
    get_field, set_field = field_getter(dot)
    options = call.parameter("options", 0, {}) or {}
    out: dict[str, Any] = {}
    for spec in call.parameter("fieldsToAggregate.fieldToAggregate", 0, []) or []:
        field = spec.get("fieldToAggregate", "")
        if spec.get("renameField"):
            name = spec.get("outputFieldName", field)
        else:
            name = field.split(".")[-1] if dot else field
        values: list[Any] = []
        for member in members:
            value = get_field(member["json"], field, UNDEFINED)
            if is_nullish(value):
                if options.get("keepMissing"):
                    values.append(None)
                continue
            if options.get("mergeLists") and isinstance(value, list):
                values.extend(deep_copy(value))
            else:
                values.append(deep_copy(value))
        out[name] = values
    return out


def _all_data(call: NodeCall, members: list[Item], dot: bool) -> dict[str, Any]:
    get_field, set_field = field_getter(dot)
    include = call.parameter("include", 0, "allFields")
    destination = call.parameter("destinationFieldName", 0, "data")
    rows = []
    for member in members:
        data = member["json"]
        if include == "specifiedFields":
            row: dict[str, Any] = {}
            for name in split_field_list(call.parameter("fieldsToInclude", 0, "")):
                if name in data:  # top-level keys only, as n8n picks them
                    row[name] = deep_copy(data[name])
        elif include == "allFieldsExcept":
            excluded = split_field_list(call.parameter("fieldsToExclude", 0, ""))
            row = {k: deep_copy(v) for k, v in data.items() if k not in excluded}
        else:
            row = deep_copy(data)
        rows.append(row)
    return {destination: rows}


def run(call: NodeCall) -> list[list[Item]]:
    items = call.items
    options = call.parameter("options", 0, {}) or {}
    dot = not options.get("disableDotNotation", False)
    get_field, set_field = field_getter(dot)
    group_fields = split_field_list(options.get("groupByFields", ""))
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        key = json_stringify([get_field(item["json"], f, None) for f in group_fields])
        groups.setdefault(key, []).append(index)
    if not items:
        groups = {"[]": []}
    mode = call.parameter("aggregate", 0, "aggregateIndividualFields")
    out: list[Item] = []
    for indexes in groups.values():
        members = [items[i] for i in indexes]
        data: dict[str, Any] = {}
        for field in group_fields:
            set_field(data, field, deep_copy(get_field(members[0]["json"], field, None)))
        if mode == "aggregateAllItemData":
            data.update(_all_data(call, members, dot))
        else:
            data.update(_individual(call, members, dot))
        out.append({"json": data, "pairedItem": [paired(i) for i in indexes]})
    return [out]
