"""The wait node: a native Wait state, no Lambda. Its output is its input items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.expressions import is_expression
from compiler.jsonata_text import jsonata, literal
from compiler.nodetypes import WaitParams

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter, ScopeOutput


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    params = emitter.graph.params[node]
    assert isinstance(params, WaitParams)
    items = emitter.input_items(node)
    seconds: int | str = params.seconds
    if isinstance(seconds, str):
        source = seconds[2:-2].strip() if is_expression(seconds) else literal(seconds)
        seconds = jsonata(f"($items := {items}; $json := $items[0]; {source})")
    empty = "".join(',{"count":0,"items":[]}' for _ in emitter.graph.outputs[node][1:])
    result = f'($i := {items}; {{"ports":[{{"count":$count($i),"items":$i}}{empty}]}})'
    name = emitter.graph.nodes[node].name
    states[name] = asl.Wait(
        seconds=seconds,
        assign={emitter.var[node]: jsonata(result)},
        output=emitter.end_output(next_name, out, {node: result}),
        next=next_name,
    )
    return name
