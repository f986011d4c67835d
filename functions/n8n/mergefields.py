"""Merge "combine by matching fields" (v2 ``mergeByFields``, v3 ``combineByFields``).

Items of input 1 and input 2 match when every field pair holds equal values (lodash
``isEqual``; ``options.fuzzyCompare`` compares ``1`` and ``"1"`` as equal; paths use dot
notation unless ``options.disableDotNotation``); ``options.multipleMatches: first`` keeps
only the first match. ``joinMode`` then picks the output:

* ``keepMatches`` (default): merged pairs, or the matched items of ``outputDataFrom``
  input1 / input2;
* ``keepNonMatches``: the unmatched items, tagged ``_source: input1|input2`` when both
  inputs are output;
* ``keepEverything``: merged pairs, then unmatched input-1 and input-2 items;
* ``enrichInput1`` / ``enrichInput2``: every item of that input, merged with its matches
  (merged ones first, then those without a match).

v2 refuses a field that no item of an input has (an empty input included); v2.1+ finds no
match instead, and with one input empty passes the other through (no ``_source`` tags).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, get_path
from functions.n8n.jsvalues import UNDEFINED, is_nullish, js_string
from functions.n8n.mergeclash import clash_options, merged_item

Json = dict[str, Any]
Pairs = list[tuple[str, str]]


def _fuzzy_key(value: Any) -> Any:
    if isinstance(value, bool) or is_nullish(value) or isinstance(value, (int, float)):
        return js_string(value)
    return value if isinstance(value, str) else repr(value)


def _equal(left: Any, right: Any, fuzzy: bool) -> bool:
    if fuzzy:
        return bool(_fuzzy_key(left) == _fuzzy_key(right))
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    if isinstance(left, str) != isinstance(right, str):
        return False
    return bool(left == right)


def _getter(dot: bool) -> Callable[[Json, str], Any]:
    if dot:
        return lambda data, key: get_path(data, key, UNDEFINED)
    return lambda data, key: data.get(key, UNDEFINED)


@dataclass
class _Matching:
    """Which input-1 items matched which input-2 items."""

    matched: list[tuple[Item, list[Item]]] = field(default_factory=list)
    unmatched1: list[Item] = field(default_factory=list)
    matched2: list[Item] = field(default_factory=list)
    unmatched2: list[Item] = field(default_factory=list)


class _Matcher:
    def __init__(self, call: NodeCall, pairs: Pairs) -> None:
        options = call.parameter("options", 0, {}) or {}
        self.get = _getter(not options.get("disableDotNotation", False))
        self.fuzzy = bool(options.get("fuzzyCompare", False))
        self.first_only = options.get("multipleMatches", "all") == "first"
        self.pairs = pairs

    def check_present(self, call: NodeCall, items: list[Item], side: int) -> None:
        for pair in self.pairs:
            name = pair[side]
            if not any(self.get(it["json"], name) is not UNDEFINED for it in items):
                raise NodeOperationError(
                    call.node,
                    f"Field '{name}' is not present in any of items in 'Input {side + 1}'",
                    description="Check that the field name is spelled correctly",
                )

    def matches(self, entry: Item, candidates: list[Item], entry_side: int) -> list[Item]:
        found = []
        for candidate in candidates:
            if all(self._pair_equal(entry, candidate, pair, entry_side) for pair in self.pairs):
                found.append(candidate)
                if self.first_only:
                    break
        return found

    def _pair_equal(self, entry: Item, candidate: Item, pair: tuple[str, str], side: int) -> bool:
        left = self.get(entry["json"], pair[side])
        right = self.get(candidate["json"], pair[1 - side])
        return left is not UNDEFINED and right is not UNDEFINED and _equal(left, right, self.fuzzy)

    def match(self, input1: list[Item], input2: list[Item]) -> _Matching:
        result = _Matching()
        for entry in input1:
            found = self.matches(entry, input2, 0)
            if found:
                result.matched.append((entry, found))
                result.matched2.extend(m for m in found if not _contains(result.matched2, m))
            else:
                result.unmatched1.append(entry)
        result.unmatched2 = [it for it in input2 if not _contains(result.matched2, it)]
        result.matched2 = [it for it in input2 if _contains(result.matched2, it)]
        return result


def _contains(items: list[Item], item: Item) -> bool:
    return any(it is item for it in items)


def _sourced(items: list[Item], source: str) -> list[Item]:
    return [
        {"json": {**it["json"], "_source": source}, "pairedItem": it["pairedItem"]}
        for it in items
    ]


def _enrich_input2_item(match: Item, entry: Item, clash: dict[str, Any]) -> Item:
    """An input-2 item enriched with its input-1 match: the clash option decides as for
    the other join modes (n8n's current tests: Merge/workflow.combine.mergeByFields.json;
    n8n 1.123 let input 1 win regardless). pairedItem lists the input-2 item first,
    except with ``addSuffix``."""
    item = merged_item([match, entry], clash)
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


def combine_by_fields(
    call: NodeCall,
    inputs: tuple[list[Item], list[Item]],
    pairs: Pairs,
    join_mode: str,
    output_from: str,
) -> list[Item]:
    """The output of a field join (items already carry their own pairedItem)."""
    input1, input2 = inputs
    matcher = _Matcher(call, pairs)
    if call.type_version < 2.1:
        matcher.check_present(call, input1, 0)
        matcher.check_present(call, input2, 1)
    elif not input1 or not input2:
        return _one_input_empty(input1, input2, join_mode, output_from)
    clash = clash_options(call)
    matching = matcher.match(input1, input2)
    merged = [merged_item([e, m], clash) for e, found in matching.matched for m in found]
    if join_mode == "keepMatches":
        if output_from == "input1":
            return [entry for entry, _ in matching.matched]
        return matching.matched2 if output_from == "input2" else merged
    if join_mode == "keepNonMatches":
        if output_from in ("input1", "input2"):
            return matching.unmatched1 if output_from == "input1" else matching.unmatched2
        return _sourced(matching.unmatched1, "input1") + _sourced(matching.unmatched2, "input2")
    if join_mode == "keepEverything":
        return merged + matching.unmatched1 + matching.unmatched2
    if join_mode == "enrichInput1":
        return merged + matching.unmatched1
    if join_mode == "enrichInput2":
        enriched: list[Item] = []
        alone: list[Item] = []
        for entry in input2:
            found = matcher.matches(entry, input1, 1)
            enriched.extend(_enrich_input2_item(m, entry, clash) for m in found)
            alone.extend([] if found else [entry])
        return enriched + alone
    raise call.invalid("joinMode", f'The join mode "{join_mode}" is not known!')
