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
  A match field that no item of an input has is an error (v2 also when an input is empty;
  v2.1+ finds no matches instead). keepNonMatches rows say where they came from
  (``_source``), except when one input is empty (v2.1+ then passes the other through).
* **v3** ``numberInputs`` (default 2), ``mode`` append | combine (``combineBy``
  combineByFields | combineByPosition | combineAll) | chooseBranch (``useDataOfInput``).

Clashes (``options.clashHandling.values``): ``resolveClash`` preferInput2 (default) |
preferInput1 | addSuffix (every key gets ``_1``/``_2``...), ``mergeMode`` deepMerge
(default, lodash ``merge``) | shallowMerge, ``overrideEmpty``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, deep_copy, get_path, paired, split_field_list
from functions.n8n.jsvalues import UNDEFINED, is_nullish, js_string

Json = dict[str, Any]


# ----------------------------------------------------------------------------- helpers


def _annotate(inputs: list[list[Item]]) -> list[list[Item]]:
    """Each input item with pairedItem pointing at itself (input index included)."""
    return [
        [{"json": it["json"], "pairedItem": paired(i, n)} for i, it in enumerate(items)]
        for n, items in enumerate(inputs)
    ]


def lodash_merge(target: Any, source: Any, keep_empty_target: bool = False) -> Any:
    """lodash ``merge``: plain objects and arrays merge recursively; ``undefined`` is skipped."""
    if isinstance(target, dict) and isinstance(source, dict):
        for key, value in source.items():
            if value is UNDEFINED:
                continue
            if keep_empty_target and (value is None or value == "") and key in target:
                continue
            if key in target and isinstance(value, (dict, list)):
                target[key] = lodash_merge(target[key], value, keep_empty_target)
            else:
                target[key] = deep_copy(value)
        return target
    if isinstance(target, list) and isinstance(source, list):
        for index, value in enumerate(source):
            if index < len(target) and isinstance(value, (dict, list)):
                target[index] = lodash_merge(target[index], value, keep_empty_target)
            elif index < len(target):
                target[index] = deep_copy(value)
            else:
                target.append(deep_copy(value))
        return target
    return deep_copy(source)


def _suffixed(data: Json, suffix: str) -> Json:
    return {f"{key}_{suffix}": value for key, value in data.items()}


def merge_json(sides: list[Json], clash: dict[str, Any]) -> Json:
    """Merge the json of several sides (input order) with n8n's clash handling."""
    resolve = clash.get("resolveClash", "preferInput2")
    if resolve == "addSuffix":
        merged: Json = {}
        for number, data in enumerate(sides, start=1):
            merged.update(deep_copy(_suffixed(data, str(number))))
        return merged
    ordered = list(sides)
    if resolve.startswith("preferInput"):
        preferred = int(resolve.removeprefix("preferInput") or 2) - 1
        if 0 <= preferred < len(ordered):
            ordered.append(ordered.pop(preferred))
    override_empty = bool(clash.get("overrideEmpty", False))
    if clash.get("mergeMode", "deepMerge") == "shallowMerge":
        merged = {}
        for data in ordered:
            for key, value in data.items():
                if override_empty and (is_nullish(value) or value == "") and key in merged:
                    continue
                merged[key] = deep_copy(value)
        return merged
    merged = {}
    for data in ordered:
        lodash_merge(merged, data, keep_empty_target=override_empty)
    return merged


def _clash(call: NodeCall) -> dict[str, Any]:
    options = call.parameter("options", 0, {}) or {}
    return ((options.get("clashHandling") or {}).get("values")) or {}


def _merged_item(sides: list[Item], clash: dict[str, Any]) -> Item:
    """The merged item; its pairedItem lists the sources (the preferred one last)."""
    pairing = [side["pairedItem"] for side in sides]
    if len(sides) == 2 and clash.get("resolveClash") == "preferInput1":
        pairing.reverse()
    return {"json": merge_json([side["json"] for side in sides], clash), "pairedItem": pairing}


# ------------------------------------------------------------------- combine by fields


def _fuzzy_key(value: Any) -> Any:
    if isinstance(value, bool) or is_nullish(value):
        return js_string(value)
    if isinstance(value, (int, float)):
        return js_string(value)
    if isinstance(value, str):
        return value
    return repr(value)


def _equal(left: Any, right: Any, fuzzy: bool) -> bool:
    if fuzzy:
        return _fuzzy_key(left) == _fuzzy_key(right)
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right) and type(left) in (type(right), int, float)


def _getter(dot: bool) -> Callable[[Json, str], Any]:
    if dot:
        return lambda data, key: get_path(data, key, UNDEFINED)
    return lambda data, key: data.get(key, UNDEFINED)


def _check_fields(call: NodeCall, items: list[Item], fields: list[str], dot: bool, label: str):  # type: ignore[no-untyped-def]
    get = _getter(dot)
    for field in fields:
        if not any(get(it["json"], field) is not UNDEFINED for it in items):
            raise NodeOperationError(
                call.node,
                f"Field '{field}' is not present in any of items in '{label}'",
                description="Check that the field name is spelled correctly",
            )


def _combine_by_fields(
    call: NodeCall,
    input1: list[Item],
    input2: list[Item],
    pairs: list[tuple[str, str]],
    join_mode: str,
    output_from: str,
) -> list[Item]:
    options = call.parameter("options", 0, {}) or {}
    dot = not options.get("disableDotNotation", False)
    fuzzy = bool(options.get("fuzzyCompare", False))
    first_only = options.get("multipleMatches", "all") == "first"
    clash = _clash(call)
    get = _getter(dot)
    if call.type_version < 2.1:
        _check_fields(call, input1, [p[0] for p in pairs], dot, "Input 1")
        _check_fields(call, input2, [p[1] for p in pairs], dot, "Input 2")
    elif not input1 or not input2:
        return _one_input_empty(input1, input2, join_mode, output_from)

    def matches_of(entry: Item, candidates: list[Item], left_first: bool) -> list[Item]:
        found = []
        for candidate in candidates:
            ok = True
            for f1, f2 in pairs:
                a = get(entry["json"], f1 if left_first else f2)
                b = get(candidate["json"], f2 if left_first else f1)
                if a is UNDEFINED or b is UNDEFINED or not _equal(a, b, fuzzy):
                    ok = False
                    break
            if ok:
                found.append(candidate)
                if first_only:
                    break
        return found

    matched1: list[tuple[Item, list[Item]]] = []
    unmatched1: list[Item] = []
    matched2_ids: list[int] = []
    for entry in input1:
        found = matches_of(entry, input2, True)
        if found:
            matched1.append((entry, found))
            for m in found:
                if id(m) not in matched2_ids:
                    matched2_ids.append(id(m))
        else:
            unmatched1.append(entry)
    unmatched2 = [it for it in input2 if id(it) not in matched2_ids]

    if join_mode == "keepMatches":
        if output_from == "input1":
            return [entry for entry, _ in matched1]
        if output_from == "input2":
            return [it for it in input2 if id(it) in matched2_ids]
        return [_merged_item([entry, m], clash) for entry, found in matched1 for m in found]
    if join_mode == "keepNonMatches":

        def sourced(items: list[Item], source: str) -> list[Item]:
            return [
                {"json": {**it["json"], "_source": source}, "pairedItem": it["pairedItem"]}
                for it in items
            ]

        if output_from == "input1":
            return unmatched1
        if output_from == "input2":
            return unmatched2
        return sourced(unmatched1, "input1") + sourced(unmatched2, "input2")
    if join_mode == "keepEverything":
        merged = [_merged_item([entry, m], clash) for entry, found in matched1 for m in found]
        return merged + unmatched1 + unmatched2
    if join_mode == "enrichInput1":
        merged = [_merged_item([entry, m], clash) for entry, found in matched1 for m in found]
        return merged + unmatched1
    if join_mode == "enrichInput2":
        merged, alone = [], []
        for entry in input2:
            found = matches_of(entry, input1, False)
            for m in found:
                merged.append(_enrich_input2_item(m, entry, clash))
            if not found:
                alone.append(entry)
        return merged + alone
    raise call.invalid("joinMode", f'The join mode "{join_mode}" is not known!')


def _enrich_input2_item(match: Item, entry: Item, clash: dict[str, Any]) -> Item:
    """An input-2 item enriched with its input-1 match: the clash option decides as for
    the other join modes (n8n's current tests: Merge/workflow.combine.mergeByFields.json;
    n8n 1.123 let input 1 win regardless). pairedItem lists the input-2 item first,
    except with ``addSuffix``."""
    item = _merged_item([match, entry], clash)
    if clash.get("resolveClash") != "addSuffix":
        item["pairedItem"] = [entry["pairedItem"], match["pairedItem"]]
    return item


def _one_input_empty(
    input1: list[Item], input2: list[Item], join_mode: str, output_from: str
) -> list[Item]:
    """v2.1+: with one input empty nothing matches, and rows are not tagged with _source."""
    if join_mode == "keepMatches":
        return []
    if join_mode == "keepNonMatches" and output_from in ("input1", "input2"):
        return input1 if output_from == "input1" else input2
    if join_mode == "enrichInput1":
        return input1
    if join_mode == "enrichInput2":
        return input2
    return input1 + input2


def _by_position(
    call: NodeCall, inputs: list[list[Item]], include_unpaired: bool
) -> list[Item]:
    clash = _clash(call)
    lengths = [len(items) for items in inputs]
    count = max(lengths) if include_unpaired else min(lengths)
    out = []
    for index in range(count):
        sides = [items[index] for items in inputs if index < len(items)]
        if len(sides) == 1:
            out.append(sides[0])
            continue
        item = _merged_item(sides, clash)
        if call.type_version >= 3:
            # v3 folds the last input in once more: its pairedItem appears twice and, with
            # addSuffix, its fields also appear unsuffixed (measured with n8n 1.123)
            item["pairedItem"] = [side["pairedItem"] for side in sides] + [sides[-1]["pairedItem"]]
            if clash.get("resolveClash") == "addSuffix":
                lodash_merge(item["json"], sides[-1]["json"])
        out.append(item)
    return out


def _all_combinations(call: NodeCall, inputs: list[list[Item]]) -> list[Item]:
    clash = _clash(call)
    combos: list[list[Item]] = [[]]
    for items in inputs:
        combos = [combo + [it] for combo in combos for it in items]
    return [_merged_item(combo, clash) for combo in combos if combo]


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
    return _combine_by_fields(call, input1, input2, pairs, join_mode, output_from)


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
    return _combine_by_fields(call, inputs[0], inputs[1], pairs, join_mode, output_from)


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
            _merged_item([a, b], shallow) for a in input1 for b in input2
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
