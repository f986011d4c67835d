"""n8n's node types on the node runner: one executor per type of ``compiler.n8n.catalogue``.

How items travel: an n8n node reads and writes n8n's own items, ``{"json": {...},
"pairedItem": ...}``, in the runner's ports, so the lineage ``$('X').item`` walks is the
recorded output of every node it passes (the node runs recorded in DynamoDB are n8n's run
data). A plain object arriving from a trigger or an sfnflow node is read as ``{"json":
object}``; sfnflow's own node types are untouched (an sfnflow node placed after an n8n node
sees n8n items). How one run goes is ``functions.nodes.n8n_run``, imported on first use.
"""

from __future__ import annotations

from typing import Any

from compiler.n8n.catalogue import N8N_TYPES
from functions.expressions import Item
from functions.nodes.base import EXECUTORS, Executor, NodeContext, Ports
from functions.nodes.triggers import Trigger

_N8N_ITEM_KEYS = frozenset({"json", "pairedItem", "binary"})
MANUAL_TRIGGER = "n8n-nodes-base.manualTrigger"


def as_item(value: Any) -> Item:
    """An n8n item: kept when it is one, else the object as its ``json``."""
    if isinstance(value, dict) and "json" in value and set(value) <= _N8N_ITEM_KEYS:
        return value
    return {"json": value if isinstance(value, dict) else {"value": value}}


class N8nExecutor(Executor):
    """Runs one n8n node type (``functions.n8n.NODES``, the Code node, Sort's code mode)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name  # type: ignore[misc]

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        from functions.nodes.n8n_run import run_node  # loads the JavaScript engine

        return run_node(self.type_name, inputs, ctx)


class N8nManualTrigger(Trigger):
    """n8n's manual trigger: the execution input's items (one empty item), as n8n items."""

    type_name = MANUAL_TRIGGER

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        return [[as_item(item) for item in port] for port in super().run(inputs, ctx)]


EXECUTORS[MANUAL_TRIGGER] = N8nManualTrigger()
EXECUTORS.update({name: N8nExecutor(name) for name, spec in N8N_TYPES.items()
                  if name != MANUAL_TRIGGER and spec.lowering != "loop"})
