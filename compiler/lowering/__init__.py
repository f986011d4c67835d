"""Node lowering: one module per way a node can become ASL states.

``NODE_TYPES[type].lowering`` names the lowering; each is a function
``lower(emitter, node, states, next_name, out) -> first state name`` that adds the node's
state(s) to ``states``. ``emitter`` (``compiler.passes.emit.Emitter``) provides variable
names, helper-state names, the JSONata of a node's input items and the scope's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from compiler import asl
from compiler.lowering import loop, subworkflow, task, wait
from compiler.nodetypes import NODE_TYPES

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter, ScopeOutput

Lowering = Callable[["Emitter", int, dict[str, asl.State], str | None, "ScopeOutput"], str]

LOWERINGS: dict[str, Lowering] = {
    "task": task.lower,
    "loop": loop.lower,
    "subworkflow": subworkflow.lower,
    "wait": wait.lower,
}


def lower_node(emitter: Emitter, node: int, states: dict[str, asl.State],
               next_name: str | None, out: ScopeOutput) -> str:
    lowering = LOWERINGS[NODE_TYPES[emitter.graph.type_of(node)].lowering]
    return lowering(emitter, node, states, next_name, out)
