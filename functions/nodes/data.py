"""Nodes that reshape items without routing them: set, noOp, aggregate, splitOut, sort,
limit, removeDuplicates (n8n's "Edit Fields" and "Data transformation" nodes)."""

from __future__ import annotations

import copy
from typing import Any

from functions.errors import ParameterError
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import (
    MISSING,
    canonical,
    delete_path,
    get_path,
    main_input,
    set_path,
    split_path,
)


@register
class Set(Executor):
    """Parameters are evaluated per item, so ``values`` may refer to ``$json``."""

    type_name = "set"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        out: list[Item] = []
        for index, item in enumerate(main_input(inputs)):
            params = ctx.params(item, index)
            new_item: Item = {} if params.keepOnlySet else copy.deepcopy(item)
            for path, value in params.values.items():
                set_path(new_item, path, copy.deepcopy(value))
            out.append(new_item)
        return [out]


@register
class NoOp(Executor):
    type_name = "noOp"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        return [main_input(inputs)]


@register
class Aggregate(Executor):
    """Field lists are keyed by the path as written (``"a.b"`` stays a flat key), so two
    paths that end in the same name cannot collide."""

    type_name = "aggregate"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        if not items:
            return [[]]
        params = ctx.node_params()
        if params.mode == "allItemData":
            return [[{params.destination: copy.deepcopy(items)}]]
        if not params.fields:
            raise ParameterError(f"node {ctx.node_name!r}: individualFields needs `fields`")
        aggregated: Item = {}
        for path in params.fields:
            values = (get_path(item, path) for item in items)
            aggregated[path] = [copy.deepcopy(v) for v in values if v is not MISSING]
        return [[aggregated]]


def _split_one(item: Item, params: Any) -> list[Item]:
    value = get_path(item, params.field)
    if value is MISSING or value is None:
        return []
    elements = value if isinstance(value, list) else [value]
    others: Item = {}
    if params.include == "allOtherFields":
        others = copy.deepcopy(item)
        delete_path(others, params.field)
    name = params.destination or split_path(params.field)[-1]
    out = []
    for element in copy.deepcopy(elements):
        if isinstance(element, dict) and not params.destination:
            out.append({**others, **element})
        else:
            out.append({**others, name: element})
    return out


@register
class SplitOut(Executor):
    """A missing or null field yields nothing for that item; a scalar is a one-element list.
    An explicit ``destination`` always nests the element under that name (as n8n does)."""

    type_name = "splitOut"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        if not items:
            return [[]]
        params = ctx.node_params()
        return [[new for item in items for new in _split_one(item, params)]]


def _sort_key(value: Any) -> tuple[int, Any]:
    """Rank types first so mixed fields sort deterministically instead of raising."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3 if isinstance(value, list) else 4, canonical(value))


@register
class Sort(Executor):
    """Stable; missing and null values go last whatever the order."""

    type_name = "sort"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        if not items:
            return [[]]
        params = ctx.node_params()
        # One stable pass per key, least significant first, gives the multi-key order.
        for key in reversed(params.fields):
            pairs = [(get_path(item, key.field), item) for item in items]
            present = [(v, item) for v, item in pairs if v is not MISSING and v is not None]
            absent = [item for v, item in pairs if v is MISSING or v is None]
            present.sort(key=lambda pair: _sort_key(pair[0]), reverse=key.order == "descending")
            items = [item for _, item in present] + absent
        return [items]


@register
class Limit(Executor):
    type_name = "limit"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        if not items:
            return [[]]
        params = ctx.node_params()
        if params.keep == "first":
            return [items[: params.maxItems]]
        return [items[max(len(items) - params.maxItems, 0) :]]


@register
class RemoveDuplicates(Executor):
    """Items are equal when their JSON is (key order and ``1`` vs ``1.0`` do not matter);
    a missing field differs from a null one."""

    type_name = "removeDuplicates"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        if not items:
            return [[]]
        fields = ctx.node_params().fields
        seen: set[str] = set()
        out: list[Item] = []
        for item in items:
            if fields:
                values = [get_path(item, path) for path in fields]
                key = canonical([[v is not MISSING, None if v is MISSING else v] for v in values])
            else:
                key = canonical(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return [out]
