"""Executors of every node type, registered by importing their modules.

``get_executor`` is the only lookup the runner needs; ``EXECUTORS`` is exposed for tests
and tooling that check the registry covers ``compiler.nodetypes.NODE_TYPES``.
"""

from __future__ import annotations

from functions.errors import ParameterError
from functions.nodes import agent, code, data, flow, http, merge, n8n, tool, triggers, variables
from functions.nodes.base import EXECUTORS, Executor, NodeContext, Ports
from functions.nodes.databases import dynamodb, postgres, sql_items

__all__ = ["EXECUTORS", "Executor", "NodeContext", "Ports", "get_executor"]

_MODULES = (code, data, flow, http, merge, n8n, triggers, variables,
            dynamodb, postgres, sql_items, agent, tool)  # imported for their @register


def get_executor(type_name: str) -> Executor:
    try:
        return EXECUTORS[type_name]
    except KeyError:
        known = ", ".join(sorted(EXECUTORS))
        raise ParameterError(f"no executor for node type {type_name!r}; known: {known}") from None
