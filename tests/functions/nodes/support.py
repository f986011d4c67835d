"""Build a NodeContext the way the runner does, without the runner."""

from __future__ import annotations

from typing import Any

from functions.expressions import Item, Scope
from functions.nodes import get_executor
from functions.nodes.base import NodeContext, Ports


def context(
    node_type: str,
    params: dict[str, Any] | None = None,
    items: list[Item] | None = None,
    **kwargs: Any,
) -> NodeContext:
    scope = Scope(
        items=items or [],
        node_output=lambda _name: [],
        execution={"id": "exec-1"},
        workflow={"name": "wf"},
        now="2024-01-01T00:00:00Z",
    )
    return NodeContext("Node", node_type, params or {}, scope, **kwargs)


def run(node_type: str, params: dict[str, Any] | None, *ports: list[Item], **kwargs: Any) -> Ports:
    """Run ``node_type`` over ``ports`` (one list of items per input port)."""
    items = [item for port in ports for item in port]
    return get_executor(node_type).run(list(ports), context(node_type, params, items, **kwargs))
