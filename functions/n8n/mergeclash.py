"""Merge's clash handling: how the json of matched items from several inputs combine.

``options.clashHandling.values``: ``resolveClash`` preferInput2 (default) | preferInput1 |
addSuffix (every key of input n gets ``_n``), ``mergeMode`` deepMerge (default, lodash
``merge``: objects and arrays merge recursively) | shallowMerge, ``overrideEmpty`` (an
empty preferred value does not hide the other input's value).
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, deep_copy
from functions.n8n.jsvalues import UNDEFINED, is_nullish

Json = dict[str, Any]


def clash_options(call: NodeCall) -> dict[str, Any]:
    options = call.parameter("options", 0, {}) or {}
    return ((options.get("clashHandling") or {}).get("values")) or {}


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


def merged_item(sides: list[Item], clash: dict[str, Any]) -> Item:
    """The merged item; its pairedItem lists the sources (the preferred one last)."""
    pairing = [side["pairedItem"] for side in sides]
    if len(sides) == 2 and clash.get("resolveClash") == "preferInput1":
        pairing.reverse()
    return {"json": merge_json([side["json"] for side in sides], clash), "pairedItem": pairing}
