"""Nodes that route items or stop the flow: if, switch, filter, stopAndError, wait.

Conditions follow JSONata truthiness, not pydantic's ``bool`` parsing: an expression that
yields a missing field, ``0``, ``""``, ``[]`` or ``{}`` is false, any other value true (n8n
users write ``{% $json.flag %}`` and expect a missing flag to be false, not an error). To
keep parameters flowing through the node type's model, a whole-expression condition is
rewritten to ``(expr) ? true : false`` before ``ctx.params`` evaluates it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compiler.expressions import is_expression
from compiler.nodetypes import NODE_TYPES
from functions.errors import StoppedByNode
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input


def _as_boolean(condition: Any) -> Any:
    if is_expression(condition):
        return "{% (" + condition[2:-2].strip() + ") ? true : false %}"
    return condition


def truthy_conditions(ctx: NodeContext) -> NodeContext:
    """``ctx`` with every ``condition`` (top level, or in switch ``rules``) made boolean."""
    raw = dict(ctx.raw_params)
    if "condition" in raw:
        raw["condition"] = _as_boolean(raw["condition"])
    if isinstance(raw.get("rules"), list):
        raw["rules"] = [
            {**rule, "condition": _as_boolean(rule.get("condition"))}
            if isinstance(rule, dict) and "condition" in rule
            else rule
            for rule in raw["rules"]
        ]
    return dataclasses.replace(ctx, raw_params=raw)


@register
class If(Executor):
    type_name = "if"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        ctx = truthy_conditions(ctx)
        true: list[Item] = []
        false: list[Item] = []
        for index, item in enumerate(main_input(inputs)):
            (true if ctx.params(item, index).condition else false).append(item)
        return [true, false]


@register
class Filter(Executor):
    type_name = "filter"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        ctx = truthy_conditions(ctx)
        items = main_input(inputs)
        return [[item for index, item in enumerate(items) if ctx.params(item, index).condition]]


@register
class Switch(Executor):
    """Outputs: one per rule, in rule order, then ``fallback`` when fallbackOutput is extra."""

    type_name = "switch"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        ctx = truthy_conditions(ctx)
        shape = ctx.node_params()
        outputs: Ports = [[] for _ in NODE_TYPES[self.type_name].outputs(shape)]
        for index, item in enumerate(main_input(inputs)):
            rules = ctx.params(item, index).rules
            matched = [number for number, rule in enumerate(rules) if rule.condition]
            if not shape.allMatchingOutputs:
                matched = matched[:1]
            for number in matched:
                outputs[number].append(item)
            if not matched and shape.fallbackOutput == "extra":
                outputs[-1].append(item)
        return outputs


@register
class StopAndError(Executor):
    """Raises unconditionally: the runner never calls a node that has no input items."""

    type_name = "stopAndError"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        params = ctx.node_params()
        raise StoppedByNode(params.message, error_type=params.errorType)


@register
class Wait(Executor):
    """Never called in a deployed workflow (wait is a native Wait state); kept so every node
    type has an executor, e.g. for a runner that executes a workflow in-process."""

    type_name = "wait"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        return [main_input(inputs)]
