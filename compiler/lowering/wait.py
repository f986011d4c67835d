"""The wait node: a native Wait state, no Lambda. Its output is its input items.
With ``resume: webhook`` or ``approval`` it pauses instead (``compiler.lowering.resume``).
n8n's Wait node lowers here too; ``compiler.lowering.n8n_wait`` gives its time and items.

Like the other native nodes it also assigns its run record (``compiler.lowering.native``),
from which the node run is recorded when the execution ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.expressions import is_expression
from compiler.jsonata_text import jsonata, literal
from compiler.lowering import n8n_wait, resume
from compiler.lowering.native import comment, run_record, run_variable
from compiler.n8n.wait_params import N8nWaitParams
from compiler.nodetypes import WaitParams

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    params = emitter.graph.params[node]
    assert isinstance(params, WaitParams)
    if params.resume != "time":
        return resume.lower(emitter, node, states, next_name, out)
    items = emitter.input_items(node)
    seconds: int | str | None = params.seconds
    timestamp = None
    if isinstance(params, N8nWaitParams):  # n8n's Wait (compiler.lowering.n8n_wait)
        seconds, timestamp = n8n_wait.wait_time(emitter, node, params)
        items = n8n_wait.output_items(items)
    elif params.until is not None:
        # Normalised to UTC ("...Z"): the form every Step Functions implementation accepts.
        source = params.until[2:-2].strip() if is_expression(params.until) else literal(
            params.until)
        timestamp = jsonata(
            f"($items := {items}; $json := $items[0]; $fromMillis($toMillis({source})))")
        seconds = None
    elif isinstance(seconds, str):
        source = seconds[2:-2].strip() if is_expression(seconds) else literal(seconds)
        seconds = jsonata(f"($items := {items}; $json := $items[0]; {source})")
    empty = "".join(',{"count":0,"items":[]}' for _ in emitter.graph.outputs[node][1:])
    result = f'($i := {items}; {{"ports":[{{"count":$count($i),"items":$i}}{empty}]}})'
    name = emitter.graph.nodes[node].name
    states[name] = asl.Wait(
        comment=comment("wait"),
        seconds=seconds,
        timestamp=timestamp,
        assign={emitter.var[node]: jsonata(result),
                run_variable(emitter, node): jsonata(run_record(emitter, node))},
        output=emitter.end_output(next_name, out, {node: result}),
        next=next_name,
    )
    return name
