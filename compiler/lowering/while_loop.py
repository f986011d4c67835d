"""While loops (``while``) and their jumps (``break``, ``continue``): Choice-driven back edges.

A while loop is not a Map: its iterations run one after another in the scope that holds
the loop node, so the body's variables simply persist from one iteration to the next.

* ``#enter W`` (Pass) binds the input items as the loop node's `loop` output and sets the
  iteration counter ``$<var>_iteration`` to 0.
* ``W`` (Choice, the node's own state) checks, before every iteration, the condition over
  the current items: the loop goes on while it holds for at least one item (``doWhile``
  skips the check before the first iteration). An iteration without items ends the loop.
  Ending assigns the current items to `done`. If the loop would go on but
  ``maxIterations`` iterations have run, ``#limit W`` fails the execution with
  ``Sfnflow.LoopLimitExceeded``.
* The body runs (its entry nodes read the loop node's `loop` port), then ``#next W`` (Pass)
  binds the items its back edges return as the next `loop` output, counts the iteration
  and goes back to ``W``: the back edge.
* ``break`` is a Pass that assigns its input items to the loop's `done` and leaves;
  ``continue`` is a Pass that does what ``#next W`` does with its input items. Both must
  be in the body's own scope (never in a Parallel branch), so a body holding one is
  planned as a sequence (``structure.sequential``).

Node runs inside the body get the iteration counter as their run index (nested loops
combined, as for Map iterations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.errors import Problem
from compiler.expressions import is_expression
from compiler.jsonata_text import jsonata
from compiler.nodetypes import WHILE_MAX_ITERATIONS, WhileParams

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

LOOP_LIMIT_EXCEEDED = "Sfnflow.LoopLimitExceeded"
_EMPTY = '{"count":0,"items":[]}'


def condition_problems(graph: Graph) -> list[Problem]:
    """A while condition is evaluated by Step Functions itself, not by the node runner, so
    it must be a whole expression that reads only the items (``native.portable``)."""
    from compiler.native_check import _facts, portable

    problems: list[Problem] = []
    for node, params in enumerate(graph.params):
        if not isinstance(params, WhileParams) or isinstance(params.condition, bool):
            continue
        condition = params.condition
        if not is_expression(condition) or not portable(condition[2:-2],
                                                        _facts(graph).taken):
            problems.append(Problem(
                graph.name(node), "parameters.condition",
                "a while condition must be one '{% ... %}' expression that reads only "
                "$json, $index and $items (Step Functions evaluates it)", "expression"))
    return problems


def iteration_variable(emitter: Emitter, node: int) -> str:
    return f"{emitter.var[node]}_iteration"


def _loop_ports(items: str) -> str:
    return f'($l := {items}; {{"ports":[{_EMPTY},{{"count":$count($l),"items":$l}}]}})'


def _done_ports(items: str) -> str:
    return f'($d := {items}; {{"ports":[{{"count":$count($d),"items":$d}},{_EMPTY}]}})'


def _goes_on(emitter: Emitter, node: int, params: WhileParams) -> str:
    """JSONata: whether another iteration should run over the current `loop` items."""
    from compiler.lowering.native import _condition, _per_item

    condition = _condition(params.condition)
    assert condition is not None  # condition_problems checked
    holds = f"true in {_per_item(condition)}"
    if params.mode == "doWhile":
        holds = f"(${iteration_variable(emitter, node)} = 0 or {holds})"
    return f"($items := [${emitter.var[node]}.ports[1].items]; $count($items) > 0 and {holds})"


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    from compiler.lowering.scope import ScopeOutput

    graph = emitter.graph
    params = graph.params[node]
    assert isinstance(params, WhileParams)
    name, var = graph.nodes[node].name, emitter.var[node]
    counter = iteration_variable(emitter, node)
    loop = graph.loops[node]

    exit_name = next_name
    if exit_name is None:
        exit_name = emitter.helper("exit", name)
        states[exit_name] = asl.Pass(output=out.expression(emitter, {}))
    following = emitter.helper("next", name)
    back = ", ".join(f"${emitter.var[e.source]}.ports[{e.output}].items"
                     for e in loop.back_edges)
    states[following] = asl.Pass(
        assign={var: jsonata(_loop_ports(f"[{back}]")), counter: jsonata(f"${counter} + 1")},
        next=name,
    )
    emitter.while_exits[node] = (exit_name, name)
    emitter.loop_batches.append(f"${counter}")
    try:
        first = emitter.emit(emitter.region_plans[node], states, following, ScopeOutput(()))
    finally:
        emitter.loop_batches.pop()

    limit = emitter.helper("limit", name)
    states[limit] = asl.Fail(
        error=LOOP_LIMIT_EXCEEDED,
        cause=f"while loop {name!r} would run more than {params.maxIterations} iterations; "
              f"raise its maxIterations parameter (at most {WHILE_MAX_ITERATIONS}) if the "
              "loop needs more",
    )
    states[name] = asl.Choice(
        choices=(
            asl.ChoiceRule(jsonata(f"$not({_goes_on(emitter, node, params)})"), exit_name,
                           assign={var: jsonata(_done_ports(f"[${var}.ports[1].items]"))}),
            asl.ChoiceRule(jsonata(f"${counter} >= {params.maxIterations}"), limit),
        ),
        default=first,
    )
    enter = emitter.helper("enter", name)
    states[enter] = asl.Pass(
        assign={var: jsonata(_loop_ports(emitter.input_items(node))), counter: 0},
        next=name,
    )
    return enter


def lower_jump(emitter: Emitter, node: int, states: dict[str, asl.State],
               next_name: str | None, out: ScopeOutput) -> str:
    """``break`` / ``continue``: one Pass that jumps to the loop's exit or condition."""
    from compiler.lowering.native import comment, input_items, run_record, run_variable

    graph = emitter.graph
    around = [loop for loop in graph.loops.values() if node in loop.body]
    loop = min(around, key=lambda inner: len(inner.body))  # validate: the innermost while
    exit_name, condition = emitter.while_exits[loop.node]
    var = emitter.var[loop.node]
    items = input_items(emitter, node)
    record = {run_variable(emitter, node): jsonata(run_record(emitter, node))}
    name = graph.name(node)
    if graph.type_of(node) == "break":
        states[name] = asl.Pass(comment=comment("break"),
                                assign={var: jsonata(_done_ports(items)), **record},
                                next=exit_name)
    else:
        counter = iteration_variable(emitter, loop.node)
        states[name] = asl.Pass(comment=comment("continue"),
                                assign={var: jsonata(_loop_ports(items)),
                                        counter: jsonata(f"${counter} + 1"), **record},
                                next=condition)
    return name
