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
from compiler.lowering import loop, native, subworkflow, task, variables, wait, while_loop
from compiler.nodetypes import NODE_TYPES

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.passes.emit import Emitter, ScopeOutput

Lowering = Callable[["Emitter", int, dict[str, asl.State], str | None, "ScopeOutput"], str]

LOWERINGS: dict[str, Lowering] = {
    "task": task.lower,
    "loop": loop.lower,
    "subworkflow": subworkflow.lower,
    "wait": wait.lower,
    "native": native.lower,
    "variables": variables.lower,
    "while": while_loop.lower,
    "jump": while_loop.lower_jump,
}


def runs_on_runner(graph: Graph, node: int) -> bool:
    """Whether ``node`` is lowered to a node-runner Task (which resolves S3 references)."""
    lowering = NODE_TYPES[graph.type_of(node)].lowering
    if lowering == "native":
        from compiler.lowering import native

        falls_back = getattr(native, "falls_back_to_runner", None)
        return bool(falls_back(graph, node)) if falls_back else False
    return lowering in ("task", "variables")


def lower_node(emitter: Emitter, node: int, states: dict[str, asl.State],
               next_name: str | None, out: ScopeOutput) -> str:
    lowering = LOWERINGS[NODE_TYPES[emitter.graph.type_of(node)].lowering]
    return lowering(emitter, node, states, next_name, out)
