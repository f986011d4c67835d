"""Which lowering turns a node into states: ``NODE_TYPES[type].lowering`` names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from compiler import asl
from compiler.lowering import (
    loop,
    n8n_native,
    native,
    subworkflow,
    task,
    variables,
    wait,
    while_loop,
)
from compiler.nodetypes import NODE_TYPES

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

Lowering = Callable[["Emitter", int, dict[str, asl.State], str | None, "ScopeOutput"], str]

def _native(emitter: Emitter, node: int, states: dict[str, asl.State],
            next_name: str | None, out: ScopeOutput) -> str:
    """A node whose type lowers natively: as decided (``compiler.passes.decide``), native
    states (sfnflow's data nodes, or n8n's) or the node runner's Task."""
    if not emitter.decisions.native(node):
        return task.lower(emitter, node, states, next_name, out)
    if NODE_TYPES[emitter.graph.type_of(node)].n8n:
        return n8n_native.lower(emitter, node, states, next_name, out)
    return native.lower(emitter, node, states, next_name, out)


LOWERINGS: dict[str, Lowering] = {
    "task": task.lower,
    "loop": loop.lower,
    "subworkflow": subworkflow.lower,
    "wait": wait.lower,
    "native": _native,
    "variables": variables.lower,
    "while": while_loop.lower,
    "jump": while_loop.lower_jump,
}


def lower_node(emitter: Emitter, node: int, states: dict[str, asl.State],
               next_name: str | None, out: ScopeOutput) -> str:
    lowering = LOWERINGS[NODE_TYPES[emitter.graph.type_of(node)].lowering]
    return lowering(emitter, node, states, next_name, out)
