"""Node lowering: one module per way a node can become ASL states.

``NODE_TYPES[type].lowering`` names the lowering (``compiler.lowering.dispatch``); each is
a function ``lower(emitter, node, states, next_name, out) -> first state name`` that adds
the node's state(s) to ``states``. ``emitter`` (``compiler.passes.emit.Emitter``) provides
variable names, helper-state names, the JSONata of a node's input items, the scope's
output, and the decisions (``compiler.passes.decide``) the lowerings read instead of
deciding again.
"""

from __future__ import annotations

from compiler.graph import Graph
from compiler.passes.decide import node_decisions


def runs_on_runner(graph: Graph, node: int) -> bool:
    """Whether ``node`` is lowered to a node-runner Task (which resolves S3 references), as
    decided (``compiler.passes.decide``); for readers outside the compiler."""
    return node_decisions(graph)[0][node].on_runner
