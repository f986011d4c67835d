"""Loop nodes (splitInBatches, forEach): one Map state whose iterations run the loop body.

The input items are cut into batches (``$partition``); each iteration starts with a
``#batch`` Pass that binds the batch as the loop node's `loop` output — inside the body the
loop node's variable is ``<var>_batch``, because a Map iteration may read, but never
assign, the variables of the scope around it. The body is lowered like any region; an
iteration outputs the items its back edges return, and the Map state assigns all of them,
in batch order, to the loop node's `done` output.

``maxConcurrency`` becomes the Map's MaxConcurrency (splitInBatches defaults to 1, the
sequential n8n behaviour; forEach to 10). Inline Map's limit is 40 concurrent iterations.

**Distributed Map** (``distributed``): above 40, with ``mode: distributed``, or when the
loop could fill the execution's event history (``compiler.history``), the Map is a
Distributed Map: every iteration is a STANDARD child execution with its own history, and
the first failed iteration fails the Map (``ToleratedFailurePercentage: 0``,
``States.ExceedToleratedFailureThreshold``). A child execution sees neither the parent's
variables nor its context object, so the ItemSelector passes what the body reads — the
execution's id, name, start time and the input fields the runner reads (``execution``),
the enclosing loops' run index, and ``$vars`` — and ``#batch`` binds them in the child:
``<var>_context``; ``emitter.execution`` points the body's lowerings at it. Native nodes
in the body run on the node runner there (their runs are recorded by the runner, not read
from the parent's history, which does not hold the children's events).

**Through S3** (``staged``): a Distributed Map fed by a runner node, whose output may be
too large for a state and travel as an S3 reference, gets its items from ``#stage <loop>``
(the runner writes the batches to the payload bucket; the Map reads them with
``ItemReader``), its iterations return their back edges' port objects (references
included), and ``#collect <loop>`` (the runner again) joins them into ``done``
(``functions.services.loop_items``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata
from compiler.nodetypes import INLINE_MAX_CONCURRENCY, ForEachParams, SplitInBatchesParams

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.passes.emit import Emitter, ScopeOutput


def _label(var: str) -> str:
    """A Map Run label: at most 40 characters of letters, digits, ``-`` and ``_``."""
    return var[:40]


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


def is_distributed(graph: Graph, node: int) -> bool:
    """Whether the loop node ``node`` compiles to a Distributed Map."""
    params = graph.params[node]
    if not isinstance(params, SplitInBatchesParams | ForEachParams) or params.mode == "inline":
        return False
    if params.mode == "distributed" or params.maxConcurrency > INLINE_MAX_CONCURRENCY:
        return True
    from compiler.history import needs_child_executions

    return needs_child_executions(graph, node)


def staged(graph: Graph, node: int) -> bool:
    """Whether loop ``node`` reads its items from S3 (``#stage``, ItemReader): a Distributed
    Map fed by a runner node, whose output may be too large for a state and travel as an
    S3 reference (``functions.services.loop_items``)."""
    from compiler.lowering import runs_on_runner

    return is_distributed(graph, node) and any(
        runs_on_runner(graph, edge.source) for edge in graph.in_edges[node] if edge.input == 0)


def distributed_members(graph: Graph) -> frozenset[int]:
    """Nodes that run inside a Distributed Map's child executions (nested bodies too)."""
    members: set[int] = set()
    for node, loop in graph.loops.items():
        if loop.body and is_distributed(graph, node):
            members |= loop.body
    return frozenset(members)


def _context(emitter: Emitter) -> str:
    """JSONata, evaluated in the parent: what a child execution needs of it."""
    from compiler.lowering.variables import VARS, uses_variables

    execution = emitter.execution
    fields = [
        f'"execution":{{"Id":{execution}.Id,"Name":{execution}.Name,'
        f'"StartTime":{execution}.StartTime,"Input":{{'
        + ",".join(f'"{key}":{execution}.Input.{key}'
                   for key in ("pinned", "reuse", "skip", "mode", "parent"))
        + "}}",
        f'"runIndex":{emitter.run_index() or "0"}',
    ]
    if uses_variables(emitter.graph):
        fields.append(f'"{VARS}":{emitter.variables}')
    return "{" + ",".join(fields) + "}"


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    graph = emitter.graph
    params = graph.params[node]
    assert isinstance(params, SplitInBatchesParams | ForEachParams)
    name, var = graph.nodes[node].name, emitter.var[node]
    distributed = is_distributed(graph, node)
    item_selector = {"batch": jsonata("[$states.context.Map.Item.Value.items]"),
                     "index": jsonata("$states.context.Map.Item.Index")}
    if distributed:
        item_selector["context"] = jsonata(_context(emitter))
    processor = _processor(emitter, node, distributed)
    if staged(graph, node):
        reader, stage = _stage(emitter, node, params.batchSize, name, states)
        states[name] = asl.Map(
            item_reader=reader, item_selector=item_selector, processor=processor,
            max_concurrency=params.maxConcurrency, distributed=True, label=_label(var),
            next=_collect(emitter, node, states, next_name, out))
        return stage
    done = (
        '($d := $reduce($states.result, function($a, $b) { $append($a, $b) }, []); '
        f'{{"ports":[{{"count":$count($d),"items":$d}},{EMPTY_PORT}]}})'
    )
    states[name] = asl.Map(
        items=jsonata(batches(emitter.input_items(node), params.batchSize)),
        item_selector=item_selector,
        processor=processor,
        max_concurrency=params.maxConcurrency,
        distributed=distributed,
        label=_label(var) if distributed else None,
        assign={var: jsonata(done)},
        output=emitter.end_output(next_name, out, {node: done}),
        next=next_name,
    )
    return name


EMPTY_PORT = '{"count":0,"items":[]}'


def _processor(emitter: Emitter, node: int, distributed: bool) -> asl.Branch:
    """The Map's ItemProcessor: ``#batch`` (binding the batch, and in a child execution the
    parent's context), then the body's plan, whose end returns the back edges' items."""
    from compiler.passes.emit import LoopBodyOutput, in_flow_order

    graph = emitter.graph
    name, var = graph.nodes[node].name, emitter.var[node]
    batch_var, context_var = f"{var}_batch", f"{var}_context"
    start = emitter.helper("batch", name)
    plan = emitter.region_plans.get(node)
    body_states: dict[str, asl.State] = {}
    if plan is None:  # a loop with nothing on its `loop` output returns nothing
        body_states[start] = asl.Pass(output=jsonata("[]"))
        return asl.Branch(start, body_states)
    outer = emitter.var[node], emitter.loop_batches, emitter.execution, emitter.variables
    emitter.var[node] = batch_var
    if distributed:  # a child execution: the parent's context comes in its input
        emitter.loop_batches = [f"${context_var}.runIndex"]
        emitter.execution = f"${context_var}.execution"
        emitter.variables = f"${context_var}.vars"
    emitter.loop_batches = [*emitter.loop_batches, f"${batch_var}.index"]
    try:
        body_out = LoopBodyOutput((), back_edges(graph, node), as_ports=staged(graph, node))
        first = emitter.emit(plan, body_states, None, body_out)
    finally:
        (emitter.var[node], emitter.loop_batches, emitter.execution,
         emitter.variables) = outer
    assign: dict[str, object] = {batch_var: jsonata(
        f'{{"ports":[{EMPTY_PORT},{{"count":$count([$states.input.batch]),'
        f'"items":[$states.input.batch]}}],"index":$states.input.index}}')}
    if distributed:
        assign[context_var] = jsonata("$states.input.context")
    body_states[start] = asl.Pass(assign=assign, next=first)
    return asl.Branch(start, in_flow_order(start, body_states))


def back_edges(graph: Graph, node: int) -> tuple[tuple[int, int], ...]:
    """(source, output port) of the connections back into loop ``node``, in order."""
    return tuple(sorted({(e.source, e.output) for e in graph.loops[node].back_edges}))


def _loop_run(emitter: Emitter, node: int) -> dict[str, object]:
    """Which run of loop ``node`` a ``#stage`` or ``#collect`` call is for (its S3 keys)."""
    return {"execution": {"id": jsonata(f"{emitter.execution}.Name")},
            "node": emitter.graph.nodes[node].name,
            "runIndex": jsonata(emitter.run_index() or "0")}


def _collect(emitter: Emitter, node: int, states: dict[str, asl.State],
             next_name: str | None, out: ScopeOutput) -> str:
    """``#collect <loop>``: the runner joins what the iterations returned (port objects,
    perhaps S3 references) into the loop's ``done`` output, inline or as a reference."""
    from compiler.lowering import task

    graph = emitter.graph
    name, var = graph.nodes[node].name, emitter.var[node]
    collect = emitter.helper("collect", name)
    states[collect] = asl.Task(
        resource=task.NODE_RUNNER,
        arguments={"collect": _loop_run(emitter, node) | {
            "ports": [port for _, port in back_edges(graph, node)],
            "iterations": jsonata("$states.input"),
            "outputRefs": task.outputs_may_travel_as_references(emitter, node, port=0)}},
        assign={var: jsonata("$states.result")},
        output=emitter.end_output(next_name, out, {node: "$states.result"}),
        next=next_name,
        retry=task.SERVICE_RETRIERS,
    )
    return collect


def _stage(emitter: Emitter, node: int, batch_size: int, map_name: str,
           states: dict[str, asl.State]) -> tuple[dict[str, object], str]:
    """``#stage <loop>``: the runner writes the batches to S3 (resolving references);
    returns the Map's ItemReader, reading them back, and the stage's name."""
    from compiler.lowering import task

    graph = emitter.graph
    name, var = graph.nodes[node].name, f"{emitter.var[node]}_staged"
    sources = [edge for edge in graph.in_edges[node] if edge.input == 0]
    stage = emitter.helper("stage", name)
    states[stage] = asl.Task(
        resource=task.NODE_RUNNER,
        arguments={"stage": _loop_run(emitter, node) | {
            "batchSize": batch_size,
            "inputs": [[{"from": graph.name(e.source), "output": e.output} for e in sources]],
            "data": {graph.name(e.source): jsonata("$" + emitter.var[e.source])
                     for e in sources}}},
        assign={var: jsonata("$states.result")},
        output=jsonata("$states.input"),
        next=map_name,
        retry=task.SERVICE_RETRIERS,
    )
    reader: dict[str, object] = {"Resource": "arn:aws:states:::s3:getObject",
              "ReaderConfig": {"InputType": "JSON"},
              "Arguments": {"Bucket": jsonata(f"${var}.bucket"),
                            "Key": jsonata(f"${var}.key")}}
    return reader, stage
