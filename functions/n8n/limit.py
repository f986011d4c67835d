"""Limit v1: keep the first (default) or last ``maxItems`` (default 1) items."""

from __future__ import annotations

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, paired


def run(call: NodeCall) -> list[list[Item]]:
    items = [{"json": it["json"], "pairedItem": paired(i)} for i, it in enumerate(call.items)]
    max_items = int(call.parameter("maxItems", 0, 1))
    if max_items >= len(items):
        return [items]
    if call.parameter("keep", 0, "firstItems") == "lastItems":
        return [items[len(items) - max_items :]]
    return [items[:max_items]]
