"""Trigger nodes: turn the execution input into the workflow's first items (and, in a
sub-workflow execution, enforce the call-depth limit).

Every trigger type reads the same envelope; whoever starts the execution shapes it: the
webhook handler (``{body, headers, query, ...}``), the schedule's input, the event rule's
input transformer, the error router. A workflow may have several triggers: the envelope's
``triggeredBy`` names the node that fired, or ``triggerType`` its type (the error router
knows only that it starts an ``errorTrigger``), and the others emit no items (so nothing
below them runs). Without either (a manual run) every trigger emits the input items.
"""

from __future__ import annotations

import copy
from typing import Any

from compiler.nodetypes import SUBWORKFLOW_MAX_DEPTH
from functions.errors import SubworkflowDepthExceeded
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register

ENVELOPE_KEYS = frozenset({"pinned", "mode", "triggeredBy", "triggerType", "reuse", "skip",
                           "replayOf"})
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


def check_subworkflow_depth(trigger: Any) -> None:
    """A sub-workflow execution (started by an executeWorkflow node) carries its depth and
    the limit in force in ``parent``; enforcing it here costs no extra state transition."""
    parent = trigger.get("parent") if isinstance(trigger, dict) else None
    if not isinstance(parent, dict):
        return
    depth, limit = parent.get("depth"), parent.get("maxDepth", SUBWORKFLOW_MAX_DEPTH)
    if isinstance(depth, int) and isinstance(limit, int) and depth > limit:
        raise SubworkflowDepthExceeded(
            f"sub-workflow depth {depth} exceeds the limit {limit} (started by node "
            f"{parent.get('node')!r} of workflow {parent.get('workflow')!r}, execution "
            f"{parent.get('executionId')})"
        )


def fired(trigger: Any, node_name: str, node_type: str) -> bool:
    """Whether this trigger node is the one that started the execution."""
    if not isinstance(trigger, dict):
        return True
    named, typed = trigger.get("triggeredBy"), trigger.get("triggerType")
    if named is not None:
        return bool(named == node_name)
    return typed is None or typed == node_type


class Trigger(Executor):
    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        trigger = ctx.extras.get("trigger")
        if not fired(trigger, ctx.node_name, ctx.node_type):
            return [[]]
        check_subworkflow_depth(trigger)
        return [trigger_items(trigger)]


for _type_name in ("manualTrigger", "webhook", "scheduleTrigger", "eventTrigger",
                   "workflowTrigger", "errorTrigger"):
    register(type(f"{_type_name[0].upper()}{_type_name[1:]}", (Trigger,),
                  {"type_name": _type_name}))
