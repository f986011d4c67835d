"""n8n's trigger nodes on the node runner: which start fired them, and n8n's items.

A trigger reads the execution's envelope like sfnflow's own triggers
(``functions.nodes.triggers``): the node named by ``triggeredBy`` fires, or every node of
the sfnflow trigger type named by ``triggerType`` (the error router says
``errorTrigger``), or every trigger when neither is given (a manual run, a parent's
sub-workflow call). Which sfnflow trigger an n8n type rides on is
``compiler.n8n.triggers.SFNFLOW_TRIGGER``; the item shapes are ``functions.n8n.triggers``'.
"""

from __future__ import annotations

from typing import Any

from compiler.n8n.triggers import (
    ERROR_TRIGGER,
    EXECUTE_WORKFLOW_TRIGGER,
    SCHEDULE_TRIGGER,
    SFNFLOW_TRIGGER,
)
from functions.n8n import triggers as shapes
from functions.n8n.call import NodeCall
from functions.n8n.items import Item
from functions.nodes.base import NodeContext
from functions.nodes.n8n import as_item
from functions.nodes.triggers import check_subworkflow_depth, fired, trigger_items

TRIGGERS = frozenset(SFNFLOW_TRIGGER)


def _schedule(json: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The schedule's delivery ``{scheduledAt, timezone}`` as n8n's item (a manual run
    without one keeps what it was given)."""
    scheduled = json.get("scheduledAt")
    if not isinstance(scheduled, str):
        return json
    return shapes.schedule_item(scheduled, str(json.get("timezone") or timezone))


def run(type_name: str, call: NodeCall, ctx: NodeContext, timezone: str) -> list[list[Item]]:
    trigger = ctx.extras.get("trigger")
    if not fired(trigger, ctx.node_name, SFNFLOW_TRIGGER[type_name]):
        return [[]]
    check_subworkflow_depth(trigger)
    items = [as_item(item) for item in trigger_items(trigger)]
    if type_name == SCHEDULE_TRIGGER:
        items = [{**item, "json": _schedule(item["json"], timezone)} for item in items]
    elif type_name == ERROR_TRIGGER:
        items = [{**item, "json": shapes.error_item(item["json"])}
                 if isinstance(item["json"].get("execution"), dict) else item
                 for item in items]
    elif type_name == EXECUTE_WORKFLOW_TRIGGER:
        items = shapes.called_items(items, call.type_version, call.parameters)
    return [[{"json": item["json"]} for item in items]]
