"""No Operation v1: its input items, unchanged, on its one output."""

from __future__ import annotations

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, paired


def run(call: NodeCall) -> list[list[Item]]:
    return [[{"json": it["json"], "pairedItem": paired(i)} for i, it in enumerate(call.items)]]
