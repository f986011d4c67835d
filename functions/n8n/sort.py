"""Sort v1: ``simple`` (by fields), ``random`` or ``code`` (a comparator).

* simple: ``sortFieldsUi.sortField[{fieldName, order: ascending|descending}]``; strings
  compare case-insensitively; the first field that differs decides (lodash ``isEqual`` /
  ``lt``); ``options.disableDotNotation`` reads flat keys. Stable, like ``Array.sort``.
* random: a shuffle; pass ``rng`` (a ``random.Random``) to make it reproducible.
* code: n8n runs the node's ``code`` as a JavaScript comparator of ``a``/``b`` items; this
  package runs no JavaScript, so the caller passes ``comparator(a, b) -> number``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, field_getter, paired
from functions.n8n.jsvalues import UNDEFINED, compare

Comparator = Callable[[Item, Item], float]


def _key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _simple_compare(fields: list[dict[str, Any]], dot: bool) -> Comparator:
    get_field, _ = field_getter(dot)

    def cmp(a: Item, b: Item) -> float:
        for field in fields:
            name = field.get("fieldName", "")
            left = _key(get_field(a["json"], name, UNDEFINED))
            right = _key(get_field(b["json"], name, UNDEFINED))
            if left == right and type(left) is type(right):
                continue
            less = compare(left, right, "<")
            ascending = field.get("order", "ascending") == "ascending"
            return (-1 if less else 1) if ascending else (1 if less else -1)
        return 0

    return cmp


def _as_int(comparator: Comparator) -> Callable[[Item, Item], int]:
    """``Array.sort`` reads only the sign of a comparator's result (NaN counts as 0)."""

    def sign(a: Item, b: Item) -> int:
        result = comparator(a, b)
        return 0 if result != result or result == 0 else (1 if result > 0 else -1)

    return sign


def run(
    call: NodeCall,
    *,
    rng: random.Random | None = None,
    comparator: Comparator | None = None,
) -> list[list[Item]]:
    items = [{"json": it["json"], "pairedItem": paired(i)} for i, it in enumerate(call.items)]
    kind = call.parameter("type", 0, "simple")
    if kind == "random":
        (rng or random.Random()).shuffle(items)
        return [items]
    if kind == "code":
        if comparator is None:
            raise call.invalid("code", "a code sort needs the caller's JavaScript comparator")
        return [sorted(items, key=functools.cmp_to_key(_as_int(comparator)))]
    fields = call.parameter("sortFieldsUi.sortField", 0, []) or []
    options = call.parameter("options", 0, {}) or {}
    cmp = _simple_compare(fields, not options.get("disableDotNotation", False))
    return [sorted(items, key=functools.cmp_to_key(_as_int(cmp)))]
