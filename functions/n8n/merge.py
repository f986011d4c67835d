"""Merge v1-v3: join the items of several inputs.

``call.inputs`` holds one list per input (a missing input is an empty list: in n8n's v1
execution order a Merge still runs when one input got nothing). Every output item's
``pairedItem`` points at its sources with their ``input`` index.

* **v1** ``mode``: ``append`` | ``passThrough`` (``output: input1|input2``) | ``wait`` |
  ``multiplex`` | ``mergeByIndex`` (``join: inner|left|outer``) | ``mergeByKey``
  (``propertyName1/2``, ``overwrite: always|undefined|blank``) | ``keepKeyMatches`` |
  ``removeKeyMatches``.
* **v2 / v2.1** ``mode``: ``append`` (default) | ``combine`` with ``combinationMode``
  ``mergeByFields`` (default; ``joinMode`` keepMatches | keepNonMatches | keepEverything |
  enrichInput1 | enrichInput2, ``outputDataFrom`` both | input1 | input2) |
  ``mergeByPosition`` | ``multiplex`` | ``chooseBranch`` (``output`` input1 | input2 | empty).
* **v3** ``numberInputs`` (default 2), ``mode`` append | combine (``combineBy``
  combineByFields (``fieldsToMatchString``, or ``mergeByFields`` when ``advanced``) |
  combineByPosition | combineAll) | chooseBranch (``useDataOfInput``, or ``output: empty``).

Field joins live in ``mergefields.py``, clash handling in ``mergeclash.py``.
"""

from __future__ import annotations

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, deep_copy, get_path, paired, split_field_list
from functions.n8n.jsvalues import UNDEFINED, js_string
from functions.n8n.mergeclash import clash_options, lodash_merge, merged_item
from functions.n8n.mergefields import combine_by_fields

# ----------------------------------------------------------------------------- helpers


def _annotate(inputs: list[list[Item]]) -> list[list[Item]]:
    """Each input item with pairedItem pointing at itself (input index included)."""
    return [
        [{"json": it["json"], "pairedItem": paired(i, n)} for i, it in enumerate(items)]
        for n, items in enumerate(inputs)
    ]


def _by_position(
    call: NodeCall, inputs: list[list[Item]], include_unpaired: bool
) -> list[Item]:
    clash = clash_options(call)
    lengths = [len(items) for items in inputs]
    count = max(lengths) if include_unpaired else min(lengths)
    out = []
    for index in range(count):
        sides = [items[index] for items in inputs if index < len(items)]
        if len(sides) == 1:
            out.append(sides[0])
            continue
        item = merged_item(sides, clash)
        if call.type_version >= 3:
            # v3 folds the last input in once more: its pairedItem appears twice and, with
            # addSuffix, its fields also appear unsuffixed (measured with n8n 1.123)
            item["pairedItem"] = [side["pairedItem"] for side in sides] + [sides[-1]["pairedItem"]]
            if clash.get("resolveClash") == "addSuffix":
                lodash_merge(item["json"], sides[-1]["json"])
        out.append(item)
    return out


def _all_combinations(call: NodeCall, inputs: list[list[Item]]) -> list[Item]:
    clash = clash_options(call)
    combos: list[list[Item]] = [[]]
    for items in inputs:
        combos = [combo + [it] for combo in combos for it in items]
    return [merged_item(combo, clash) for combo in combos if combo]


def _empty_branch(inputs: list[list[Item]]) -> list[Item]:
    pairing = [it["pairedItem"] for items in inputs for it in items]
    return [{"json": {}, "pairedItem": pairing}]


# ----------------------------------------------------------------------- per version


def _run_v2(call: NodeCall, inputs: list[list[Item]]) -> list[Item]:
    input1, input2 = inputs[0], inputs[1]
    mode = call.parameter("mode", 0, "append")
    if mode == "append":
        return input1 + input2
    if mode == "chooseBranch":
        output = call.parameter("output", 0, "input1")
        if output == "empty":
            return _empty_branch(inputs)
        return input2 if output == "input2" else input1
    if mode != "combine":
        raise call.invalid("mode", f'The mode "{mode}" is not known!')
    combination = call.parameter("combinationMode", 0, "mergeByFields")
    if combination == "mergeByPosition":
        options = call.parameter("options", 0, {}) or {}
        return _by_position(call, [input1, input2], bool(options.get("includeUnpaired")))
    if combination == "multiplex":
        return _all_combinations(call, [input1, input2])
    values = call.parameter("mergeByFields.values", 0, []) or []
    pairs = [(v.get("field1", ""), v.get("field2", "")) for v in values]
    if not pairs:
        raise call.invalid("mergeByFields", "You need to define at least one pair of fields")
    join_mode = call.parameter("joinMode", 0, "keepMatches")
    output_from = call.parameter("outputDataFrom", 0, "both")
    return combine_by_fields(call, (input1, input2), pairs, join_mode, output_from)


def _run_v3(call: NodeCall, inputs: list[list[Item]]) -> list[Item]:
    mode = call.parameter("mode", 0, "append")
    if mode == "append":
        return [it for items in inputs for it in items]
    if mode == "chooseBranch":
        if call.parameter("output", 0, "specifiedInput") == "empty":
            return _empty_branch(inputs)
        chosen = int(call.parameter("useDataOfInput", 0, 1)) - 1
        return inputs[chosen] if 0 <= chosen < len(inputs) else []
    if mode != "combine":
        raise call.invalid("mode", f'The mode "{mode}" is not supported')
    combine_by = call.parameter("combineBy", 0, "combineByFields")
    if combine_by == "combineByPosition":
        options = call.parameter("options", 0, {}) or {}
        return _by_position(call, inputs, bool(options.get("includeUnpaired")))
    if combine_by == "combineAll":
        return _all_combinations(call, inputs[:2])
    if combine_by != "combineByFields":
        raise call.invalid("combineBy", f'"{combine_by}" is not supported here')
    if call.parameter("advanced", 0, False):
        values = call.parameter("mergeByFields.values", 0, []) or []
        pairs = [(v.get("field1", ""), v.get("field2", "")) for v in values]
    else:
        names = split_field_list(call.parameter("fieldsToMatchString", 0, ""))
        pairs = [(name, name) for name in names]
    if not pairs:
        raise call.invalid("fieldsToMatchString", "You need to define at least one field")
    join_mode = call.parameter("joinMode", 0, "keepMatches")
    output_from = call.parameter("outputDataFrom", 0, "both")
    return combine_by_fields(call, (inputs[0], inputs[1]), pairs, join_mode, output_from)


def _run_v1(call: NodeCall, inputs: list[list[Item]]) -> list[Item]:
    input1, input2 = inputs[0], inputs[1]
    mode = call.parameter("mode", 0, "append")
    if mode == "append":
        return input1 + input2
    if mode == "passThrough":
        return input2 if call.parameter("output", 0, "input1") == "input2" else input1
    if mode == "wait":
        return _empty_branch(inputs[:1])
    if mode == "multiplex":
        shallow = {"mergeMode": "shallowMerge"}
        return [
            merged_item([a, b], shallow) for a in input1 for b in input2
        ]
    if mode == "mergeByIndex":
        join = call.parameter("join", 0, "left")
        count = {"inner": min, "outer": max}.get(join, lambda a, b: a)(len(input1), len(input2))
        out = []
        for index in range(count):
            sides = [items[index] for items in (input1, input2) if index < len(items)]
            merged = {}
            for side in sides:
                merged.update(deep_copy(side["json"]))
            pairing = [s["pairedItem"] for s in sides]
            out.append({"json": merged, "pairedItem": pairing if len(pairing) > 1 else pairing[0]})
        return out
    key1 = call.parameter("propertyName1", 0, "")
    key2 = call.parameter("propertyName2", 0, "")
    index2: dict[str, Item] = {}
    for item in input2:
        value = get_path(item["json"], key2, UNDEFINED)
        if value is not UNDEFINED:
            index2.setdefault(js_string(value), item)
    if mode in ("keepKeyMatches", "removeKeyMatches"):
        keep = mode == "keepKeyMatches"
        return [
            it
            for it in input1
            if (js_string(get_path(it["json"], key1, UNDEFINED)) in index2) == keep
        ]
    if mode == "mergeByKey":
        overwrite = call.parameter("overwrite", 0, "always")
        out = []
        for item in input1:
            match = index2.get(js_string(get_path(item["json"], key1, UNDEFINED)))
            data = deep_copy(item["json"])
            if match is not None:
                for key, value in match["json"].items():
                    if key == key1:
                        continue
                    if overwrite == "always" or (
                        overwrite == "undefined" and key not in data
                    ) or (overwrite == "blank" and not data.get(key)):
                        data[key] = deep_copy(value)
            out.append({"json": data, "pairedItem": item["pairedItem"]})
        return out
    raise call.invalid("mode", f'The mode "{mode}" is not known!')


def run(call: NodeCall) -> list[list[Item]]:
    count = int(call.parameter("numberInputs", 0, 2)) if call.type_version >= 3 else 2
    inputs = list(call.inputs) + [[] for _ in range(max(0, count - len(call.inputs)))]
    inputs = _annotate(inputs[:count])
    if call.type_version >= 3:
        return [_run_v3(call, inputs)]
    if call.type_version >= 2:
        return [_run_v2(call, inputs)]
    return [_run_v1(call, inputs)]
