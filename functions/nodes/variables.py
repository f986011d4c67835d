"""setVariable: sets workflow variables (``$vars``) and passes its items through.

The values are evaluated once, against the first input item; the runner returns the merged
variables beside the outputs and the state machine assigns them (``compiler.lowering.
variables``).
"""

from __future__ import annotations

from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input


@register
class SetVariable(Executor):
    type_name = "setVariable"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        params = ctx.node_params()
        ctx.extras["setVars"] = {**ctx.scope.variables, **params.values}
        return [main_input(inputs)]
