"""Loop nodes (splitInBatches, forEach): one Map state whose iterations run the loop body.

The input items are cut into batches (``$partition``); each iteration starts with a
``#batch`` Pass that binds the batch as the loop node's `loop` output — inside the body the
loop node's variable is ``<var>_batch``, because a Map iteration may read, but never
assign, the variables of the scope around it. The body is lowered like any region; an
iteration outputs the items its back edges return, and the Map state assigns all of them,
in batch order, to the loop node's `done` output.

``maxConcurrency`` becomes the Map's MaxConcurrency (splitInBatches defaults to 1, the
sequential n8n behaviour; forEach to 10). Inline Map's limit is 40 concurrent iterations.

An inline Map records every iteration in its execution's history (25,000 events at most).
The item count is known only when the Map starts, so its ``Items`` expression checks it:
past the loop's ``iteration_limit`` (decided by ``compiler.passes.decide`` from
``compiler.history``'s estimate) it raises ``$error`` and the Map fails with
``States.QueryEvaluationError`` before any iteration, the message naming the loop, the
count and the fixes (``mode: distributed``, a sub-workflow) — where Step Functions would
otherwise fail the execution at event 25,000, after doing most of the work.

**Distributed Map** (decided by ``compiler.passes.decide``): above 40, with ``mode:
distributed``, or when the loop could fill the execution's event history, the Map is a
Distributed Map: every iteration is a STANDARD child execution with its own history, and
the first failed iteration fails the Map (``ToleratedFailurePercentage: 0``,
``States.ExceedToleratedFailureThreshold``). A child execution sees neither the parent's
variables nor its context object, so the ItemSelector passes what the body reads — the
execution's id, name, start time and the input fields the runner reads (``execution``),
the enclosing loops' run index, and ``$vars`` — and ``#batch`` binds them in the child:
``<var>_context``; ``emitter.execution`` points the body's lowerings at it. Native nodes
in the body run on the node runner there (their runs are recorded by the runner, not read
from the parent's history, which does not hold the children's events).

**Through S3** (``staged``): a Distributed Map's items and results both pass through the
payload bucket, so neither the list it reads nor what its iterations return is bounded by
a state's 256 KiB. ``#stage <loop>`` (the runner resolves the input, inline or an S3
reference, and writes the batches) feeds the Map's ``ItemReader``; each iteration returns
its index and its back edges' port objects (references included); the Map's
``ResultWriter`` (``s3:putObject``) writes the child executions' results under the
prefix ``#stage`` named, and the Map's own output is only where: ``{"MapRunArn",
"ResultWriterDetails": {"Bucket", "Key"}}`` (the key of ``manifest.json``). ``#collect
<loop>`` (the runner again) reads the manifest and the result files it lists and joins the
iterations, in index order, into ``done`` (``functions.services.loop_items``). moto writes
no result files: the local runtime does (``local.result_writer``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.history import HISTORY_BUDGET, HISTORY_LIMIT
from compiler.jsonata_text import jsonata, literal
from compiler.naming import VARS, uses_variables
from compiler.nodetypes import ForEachParams, SplitInBatchesParams
from compiler.passes.decide import node_decisions

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.decide import Decisions
    from compiler.passes.emit import Emitter


def _label(var: str) -> str:
    """A Map Run label: at most 40 characters of letters, digits, ``-`` and ``_``."""
    return var[:40]


def batches(items: str, size: int, most: int | None = None, refusal: str = "") -> str:
    """JSONata: ``[{"items": [...]}, ...]``, one object per batch of ``size`` items.

    Batches are objects, and every array is rebuilt with ``[...]``, because JSONata
    unwraps single-element sequences (a one-item batch would otherwise become the item).
    With ``most``, more than ``most`` batches raise ``$error`` (the Map fails with
    ``States.QueryEvaluationError`` before any iteration starts), its message the item
    count followed by ``refusal``.
    """
    check = "" if most is None else (
        f"$count($all) > {most * size} ? $error($string($count($all)) & {literal(refusal)}) "
        ": ")
    return (
        f"($all := {items}; $size := {size}; {check}"
        "[$map([0..$ceil($count($all) / $size) - 1], function($b) "
        "{ {\"items\": [$all[[$b * $size .. ($b + 1) * $size - 1]]]} })])"
    )


def history_refusal(graph: Graph, node: int, most: int, events: int) -> str:
    """Why inline loop ``node`` refuses more than ``most`` iterations of ``events`` history
    events each (after the count)."""
    params = graph.params[node]
    assert isinstance(params, SplitInBatchesParams | ForEachParams)
    size = params.batchSize
    return (
        f" items reached loop {graph.name(node)!r}: more than the {most * size:,} "
        f"({most:,} iterations of ~{events} history events) that fit "
        f"in one execution's history (sfnflow plans for {HISTORY_BUDGET:,} of Step "
        f"Functions' {HISTORY_LIMIT:,} events), so it did not start. Give it mode: "
        "distributed (each iteration then runs as a child execution with a history of its "
        "own), or move the loop into a sub-workflow (executeWorkflow)")


def is_distributed(graph: Graph, node: int) -> bool:
    """Whether the loop node ``node`` compiles to a Distributed Map, as decided
    (``compiler.passes.decide``): for readers outside the compiler."""
    decision = node_decisions(graph)[1].get(node)
    return decision is not None and decision.distributed


def staged(decisions: Decisions, node: int) -> bool:
    """Whether loop ``node`` reads its items from S3 (``#stage``, ItemReader) and writes its
    results there (ResultWriter, ``#collect``): every Distributed Map does — its input may
    be an S3 reference, and its iterations' results may pass a state's 256 KiB together
    (``functions.services.loop_items``)."""
    return decisions.distributed(node)


RESULT_WRITER_RESOURCE = asl.integration("s3:putObject")


def _context(emitter: Emitter) -> str:
    """JSONata, evaluated in the parent: what a child execution needs of it."""
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
    distributed = emitter.decisions.distributed(node)
    item_selector = {"batch": jsonata("[$states.context.Map.Item.Value.items]"),
                     "index": jsonata("$states.context.Map.Item.Index")}
    if distributed:
        item_selector["context"] = jsonata(_context(emitter))
    processor = _processor(emitter, node, distributed)
    if staged(emitter.decisions, node):
        reader, writer, stage = _stage(emitter, node, params.batchSize, name, states)
        states[name] = asl.Map(
            item_reader=reader, result_writer=writer, item_selector=item_selector,
            processor=processor, max_concurrency=params.maxConcurrency, distributed=True,
            label=_label(var), next=_collect(emitter, node, states, next_name, out))
        return stage
    done = (
        '($d := $reduce($states.result, function($a, $b) { $append($a, $b) }, []); '
        f'{{"ports":[{{"count":$count($d),"items":$d}},{EMPTY_PORT}]}})'
    )
    decision = emitter.decisions.loops[node]
    most = decision.iteration_limit  # the real count decides, when the Map starts
    assert most is not None and decision.iteration_events is not None
    states[name] = asl.Map(  # an inline Map: its results are the state's result
        items=jsonata(batches(emitter.input_items(node), params.batchSize, most,
                              history_refusal(graph, node, most, decision.iteration_events))),
        item_selector=item_selector,
        processor=processor,
        max_concurrency=params.maxConcurrency,
        assign={var: jsonata(done)},
        output=emitter.end_output(next_name, out, {node: done}),
        next=next_name,
    )
    return name


EMPTY_PORT = '{"count":0,"items":[]}'


def _processor(emitter: Emitter, node: int, distributed: bool) -> asl.Branch:
    """The Map's ItemProcessor: ``#batch`` (binding the batch, and in a child execution the
    parent's context), then the body's plan, whose end returns the back edges' items."""
    from compiler.lowering.scope import LoopBodyOutput, in_flow_order

    graph = emitter.graph
    name, var = graph.nodes[node].name, emitter.var[node]
    batch_var, context_var = f"{var}_batch", f"{var}_context"
    start = emitter.helper("batch", name)
    plan = emitter.region_plans.get(node)
    body_states: dict[str, asl.State] = {}
    if plan is None:  # a loop with nothing on its `loop` output returns nothing
        body_states[start] = asl.Pass(output=jsonata(
            '{"index":$states.input.index,"ports":[]}' if distributed else "[]"))
        return asl.Branch(start, body_states)
    outer = emitter.var[node], emitter.loop_batches, emitter.execution, emitter.variables
    emitter.var[node] = batch_var
    if distributed:  # a child execution: the parent's context comes in its input
        emitter.loop_batches = [f"${context_var}.runIndex"]
        emitter.execution = f"${context_var}.execution"
        emitter.variables = f"${context_var}.vars"
    emitter.loop_batches = [*emitter.loop_batches, f"${batch_var}.index"]
    try:
        body_out = LoopBodyOutput((), back_edges(graph, node),
                                  as_ports=staged(emitter.decisions, node),
                                  index=f"${batch_var}.index" if distributed else None)
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
            "results": jsonata("$states.input.ResultWriterDetails"),
            "outputRefs": task.outputs_may_travel_as_references(emitter, node, port=0)}},
        assign={var: jsonata("$states.result")},
        output=emitter.end_output(next_name, out, {node: "$states.result"}),
        next=next_name,
        retry=task.SERVICE_RETRIERS,
    )
    return collect


def _stage(emitter: Emitter, node: int, batch_size: int, map_name: str,
           states: dict[str, asl.State]) -> tuple[dict[str, object], dict[str, object], str]:
    """``#stage <loop>``: the runner writes the batches to S3 (resolving references);
    returns the Map's ItemReader, reading them back, its ResultWriter, writing the
    iterations' results under the prefix the stage names, and the stage's name."""
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
    reader: dict[str, object] = {"Resource": asl.integration("s3:getObject"),
              "ReaderConfig": {"InputType": "JSON"},
              "Arguments": {"Bucket": jsonata(f"${var}.bucket"),
                            "Key": jsonata(f"${var}.key")}}
    writer: dict[str, object] = {"Resource": RESULT_WRITER_RESOURCE,
              "Arguments": {"Bucket": jsonata(f"${var}.bucket"),
                            "Prefix": jsonata(f"${var}.results")}}
    return reader, writer, stage
