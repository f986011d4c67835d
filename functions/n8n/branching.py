"""IF (v1, v2-v2.2) and Filter (v1, v2-v2.2): route or keep items by their conditions.

IF returns ``[true_items, false_items]``; Filter ``[kept, discarded]`` (n8n keeps the
discarded items on a second port that cannot be connected). v1 of both uses
the legacy conditions (IF's ``combineOperation: all|any``, Filter's ``combineConditions:
AND|OR``); v2+ use the filter format, whose case and type options the node's own
parameters override (``options.ignoreCase``; ``options.looseTypeValidation`` before v2.1,
top-level ``looseTypeValidation`` from v2.1). With ``continueOnFail`` an item whose
conditions raise goes to the false output (v2+; v1 leaves it to ``flags``: the input passes
through), as in n8n.
"""

from __future__ import annotations

from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.conditions import (
    FilterOptions,
    filter_options,
    legacy_conditions,
    run_filter,
)
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, paired


def _pass_through(item: Item, index: int) -> Item:
    return {"json": item["json"], "pairedItem": paired(index)}


def node_filter_options(call: NodeCall, value: dict[str, Any], item_index: int) -> FilterOptions:
    """The filter options of an IF v2+/Filter v2+ node, resolved as n8n's typeOptions do."""
    options = call.parameter("options", item_index, {}) or {}
    ignore_case = options.get("ignoreCase")
    if call.type_version < 2.1:
        loose = options.get("looseTypeValidation")
    else:
        loose = call.parameter("looseTypeValidation", item_index, None)
    version = 2 if call.type_version >= 2.2 else None
    return filter_options(
        value.get("options"),
        ignore_case=None if ignore_case is None else bool(ignore_case),
        loose=None if loose is None else bool(loose),
        version=version,
    )


def item_passes(call: NodeCall, item_index: int, *, filter_node: bool = False) -> bool:
    """Whether item ``item_index`` of input 0 meets the node's conditions (any version)."""
    if call.type_version < 2:
        conditions = call.parameter("conditions", item_index, {}) or {}
        if filter_node:
            combine = call.parameter("combineConditions", item_index, "AND")
            return legacy_conditions(call.node, conditions, combine_any=combine == "OR")
        combine = call.parameter("combineOperation", item_index, "all")
        return legacy_conditions(call.node, conditions, combine_any=combine == "any")
    value = call.parameter("conditions", item_index, {}) or {}
    options = node_filter_options(call, value, item_index)
    return run_filter(call.node, value, options, item_index)


def run_if(call: NodeCall) -> list[list[Item]]:
    true_items: list[Item] = []
    false_items: list[Item] = []
    for index, item in enumerate(call.items):
        try:
            passed = item_passes(call, index)
        except NodeOperationError:
            if not call.continue_on_fail or call.type_version < 2:
                raise  # v1 leaves continueOnFail to the generic pass-through
            passed = False
        (true_items if passed else false_items).append(_pass_through(item, index))
    return [true_items, false_items]


def run_filter_node(call: NodeCall) -> list[list[Item]]:
    kept: list[Item] = []
    discarded: list[Item] = []
    for index, item in enumerate(call.items):
        try:
            passed = item_passes(call, index, filter_node=True)
        except NodeOperationError:
            if not call.continue_on_fail or call.type_version < 2:
                raise
            passed = False
        (kept if passed else discarded).append(_pass_through(item, index))
    return [kept, discarded]
