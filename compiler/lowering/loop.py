"""Loop nodes (splitInBatches, forEach): one Map state whose iterations run the loop body.

The input items are cut into batches (``$partition``); each iteration starts with a
``#batch`` Pass that binds the batch as the loop node's `loop` output — inside the body the
loop node's variable is ``<var>_batch``, because a Map iteration may read, but never
assign, the variables of the scope around it. The body is lowered like any region; an
iteration outputs the items its back edges return, and the Map state assigns all of them,
in batch order, to the loop node's `done` output.

``maxConcurrency`` becomes the Map's MaxConcurrency (splitInBatches defaults to 1, the
sequential n8n behaviour; forEach to 10). Inline Map's limit is 40 concurrent iterations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata
from compiler.nodetypes import ForEachParams, SplitInBatchesParams

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter, ScopeOutput


def batches(items: str, size: int) -> str:
    """JSONata: ``[{"items": [...]}, ...]``, one object per batch of ``size`` items.

    Batches are objects, and every array is rebuilt with ``[...]``, because JSONata
    unwraps single-element sequences (a one-item batch would otherwise become the item).
    """
    return (
        f"($all := {items}; $size := {size}; "
        "[$map([0..$ceil($count($all) / $size) - 1], function($b) "
        "{ {\"items\": [$all[[$b * $size .. ($b + 1) * $size - 1]]]} })])"
    )


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    from compiler.passes.emit import LoopBodyOutput, in_flow_order

    graph = emitter.graph
    params = graph.params[node]
    assert isinstance(params, SplitInBatchesParams | ForEachParams)
    name, var = graph.nodes[node].name, emitter.var[node]
    loop = graph.loops[node]
    empty = '{"count":0,"items":[]}'

    body_states: dict[str, asl.State] = {}
    batch_var = f"{var}_batch"
    start = emitter.helper("batch", name)
    plan = emitter.region_plans.get(node)
    if plan is None:  # a loop with nothing on its `loop` output returns nothing
        body_states[start] = asl.Pass(output=jsonata("[]"))
    else:
        outer_var, emitter.var[node] = emitter.var[node], batch_var
        emitter.loop_batches.append(f"${batch_var}.index")
        try:
            body_out = LoopBodyOutput(
                (), tuple(sorted({(e.source, e.output) for e in loop.back_edges})))
            first = emitter.emit(plan, body_states, None, body_out)
        finally:
            emitter.var[node] = outer_var
            emitter.loop_batches.pop()
        body_states[start] = asl.Pass(
            assign={batch_var: jsonata(
                f'{{"ports":[{empty},{{"count":$count([$states.input.batch]),'
                f'"items":[$states.input.batch]}}],"index":$states.input.index}}')},
            next=first,
        )
    done = (
        '($d := $reduce($states.result, function($a, $b) { $append($a, $b) }, []); '
        f'{{"ports":[{{"count":$count($d),"items":$d}},{empty}]}})'
    )
    states[name] = asl.Map(
        items=jsonata(batches(emitter.input_items(node), params.batchSize)),
        item_selector={"batch": jsonata("[$states.context.Map.Item.Value.items]"),
                       "index": jsonata("$states.context.Map.Item.Index")},
        processor=asl.Branch(start, in_flow_order(start, body_states)),
        max_concurrency=params.maxConcurrency,
        assign={var: jsonata(done)},
        output=emitter.end_output(next_name, out, {node: done}),
        next=next_name,
    )
    return name
