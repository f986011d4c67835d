"""The manual trigger: turns the execution input into the workflow's first items."""

from __future__ import annotations

import copy
from typing import Any

from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register

ENVELOPE_KEYS = frozenset({"pinned", "mode"})
"""Keys sfnflow adds to an execution input for itself; they are not workflow data."""


def _as_item(value: Any) -> Item:
    return value if isinstance(value, dict) else {"value": value}


def trigger_items(trigger: Any) -> list[Item]:
    """Items from an execution input: ``{"items": [...]}``, one object, a list, or nothing."""
    trigger = copy.deepcopy(trigger)
    if trigger is None:
        return [{}]
    if isinstance(trigger, list):
        return [_as_item(value) for value in trigger]
    if isinstance(trigger, dict):
        if isinstance(trigger.get("items"), list):
            return [_as_item(value) for value in trigger["items"]]
        return [{key: value for key, value in trigger.items() if key not in ENVELOPE_KEYS}]
    return [_as_item(trigger)]


@register
class ManualTrigger(Executor):
    type_name = "manualTrigger"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        return [trigger_items(ctx.extras.get("trigger"))]
