"""Execution history: estimate how many events one execution records, before it runs.

Step Functions keeps at most 25,000 events in one execution's history; an execution that
needs more fails. The estimate is per *execution scope* — the workflow itself, or the
child executions of a Distributed Map, each of which has a history of its own:

* a node's state records ``NODE_EVENTS`` by its lowering (a Lambda Task: entered,
  scheduled, started, succeeded, exited; a Pass/Choice/Wait: entered, exited), plus
  ``STRUCTURE_EVENTS`` for its share of the Parallel, Choice and helper states around it;
* a node that may meet other branches at a rendezvous (``compiler.lowering.rendezvous``:
  a Flow-eligible node with several predecessors may wait, one with several successors may
  signal) counts ``AWAIT_EVENTS`` / ``SIGNAL_EVENTS`` more: which nodes actually do is
  known only once the plan is built, so the estimate takes the worst case;
* an inline Map (forEach, splitInBatches) records ``MAP_EVENTS`` plus, per iteration,
  ``ITERATION_EVENTS`` and its body; the number of items is not known when compiling, so
  a loop is assumed to run ``ASSUMED_ITERATIONS`` iterations;
* a Distributed Map records ``MAP_EVENTS + MAP_RUN_EVENTS`` in its parent: its iterations
  land in their own child executions;
* a while loop records, per iteration up to ``maxIterations``, its Choice and ``#next``
  Pass (``ITERATION_EVENTS``) and its body.

What the estimate decides: a forEach / splitInBatches in ``mode: auto`` whose assumed
iterations would push its scope over ``HISTORY_BUDGET`` becomes a Distributed Map
(``needs_child_executions``, asked by ``compiler.passes.decide``, which records the answer
and why); a while loop that could do so on its own is rejected (``history_problems``),
naming the iteration cap that fits. Retries are not counted.

The estimate reads what the decisions pass decided (``Lowered``: how each node is lowered,
which loops are distributed) and asks nothing else: it sits below the decisions, which
call it while deciding the loops, innermost first.

At run time the real item count is known when an inline Map starts: ``iteration_limit``
is how many iterations of it fit its scope's budget (the rest of the scope as estimated,
enclosing loops at their assumed or maximum counts), and the Map refuses to start past it
(``compiler.lowering.loop``): the execution fails at once, naming the node, instead of
running until event 25,000.
"""

from __future__ import annotations

from typing import Protocol

from compiler.errors import Problem
from compiler.graph import Graph, per_graph
from compiler.nodetypes import ForEachParams, SplitInBatchesParams, WhileParams
from compiler.passes.structure import flow_eligible

HISTORY_LIMIT = 25_000  # events in one execution's history
HISTORY_BUDGET = 20_000  # what a plan may use: retries and catches need the rest
ASSUMED_ITERATIONS = 100  # iterations of a forEach / splitInBatches, not known statically

NODE_EVENTS = {"task": 5, "subworkflow": 6, "variables": 5, "native": 2, "wait": 2,
               "jump": 2, "loop": 4, "while": 4}
STRUCTURE_EVENTS = 1
MAP_EVENTS = 4  # entered, started, succeeded, exited
MAP_RUN_EVENTS = 2  # map run started, succeeded
ITERATION_EVENTS = 4  # iteration started/succeeded + #batch (Map); Choice + #next (while)
EXECUTION_EVENTS = 2  # execution started, succeeded
AWAIT_EVENTS = 6  # a callback Task: entered, scheduled, started, submitted, succeeded, exited
SIGNAL_EVENTS = 5  # a Lambda Task
STAGE_EVENTS = 5  # a Lambda Task (``compiler.lowering.loop.staged``)


class Lowered(Protocol):
    """What the estimate needs of the decisions (``compiler.passes.decide.Decisions``)."""

    def events_lowering(self, node: int) -> str:
        """The ``NODE_EVENTS`` key of ``node``: its type's lowering, ``task`` for a node
        that could be native but cannot (wherever it stands)."""
        ...

    def distributed(self, node: int) -> bool:
        """Whether loop ``node`` runs its iterations as child executions."""
        ...


@per_graph
def _event_counts(graph: Graph) -> dict[int, int]:
    """node -> ``_node_events``, filled as asked: nested loops ask for their bodies again
    at every level. (A node's events depend only on its type's lowering and whether it can
    be native, both fixed by the graph: one cache per graph serves every ``Lowered``.)"""
    return {}


def _node_events(graph: Graph, node: int, lowered: Lowered) -> int:
    counts = _event_counts(graph)
    if node not in counts:
        lowering = lowered.events_lowering(node)
        counts[node] = NODE_EVENTS[lowering] + STRUCTURE_EVENTS \
            + _rendezvous_events(graph, node, lowering)
    return counts[node]


def _rendezvous_events(graph: Graph, node: int, lowering: str) -> int:
    """(A runner node signals in its own call: ``rendezvous.signals_itself``; this counts
    by the node's lowering wherever it stands, as the loops are decided from it.)"""
    if graph.workflow.settings.rendezvous == "never" or not flow_eligible(graph, node):
        return 0
    waits = AWAIT_EVENTS if len(graph.preds[node]) > 1 else 0
    signals = len(graph.succs[node]) > 1 and not (
        lowering == "task" and graph.nodes[node].onError == "stopWorkflow")
    return waits + (SIGNAL_EVENTS if signals else 0)


def _direct_body(graph: Graph, node: int) -> set[int]:
    """The body of loop ``node`` without the bodies of loops nested in it."""
    body = set(graph.loops[node].body)
    nested = {n for inner in body & graph.loops.keys() for n in graph.loops[inner].body}
    return body - nested


def iteration_events(graph: Graph, node: int, lowered: Lowered) -> int:
    """Events one iteration of loop ``node`` records in the scope that runs it."""
    return ITERATION_EVENTS + scope_events(graph, _direct_body(graph, node), lowered)


def loop_events(graph: Graph, node: int, lowered: Lowered) -> int:
    """Events loop ``node`` records in the scope that holds it (its iterations included
    unless they run as child executions)."""
    params = graph.params[node]
    if isinstance(params, WhileParams):
        return MAP_EVENTS + params.maxIterations * iteration_events(graph, node, lowered)
    if lowered.distributed(node):  # (+ the #stage and #collect Tasks of one through S3:
        return MAP_EVENTS + MAP_RUN_EVENTS + 2 * STAGE_EVENTS  # counted always, an estimate)
    return MAP_EVENTS + ASSUMED_ITERATIONS * iteration_events(graph, node, lowered)


def scope_events(graph: Graph, members: set[int], lowered: Lowered) -> int:
    """Events of ``members`` (the nodes of one scope, nested loop bodies excluded)."""
    total = 0
    for node in members:
        total += loop_events(graph, node, lowered) if node in graph.loops \
            else _node_events(graph, node, lowered)
    return total


def execution_events(graph: Graph, lowered: Lowered) -> int:
    """Estimated events of one execution of the workflow (see the module docstring)."""
    return EXECUTION_EVENTS + scope_events(graph, set(range(len(graph))) - graph.in_loop_body(),
                                           lowered)


def needs_child_executions(graph: Graph, node: int, lowered: Lowered) -> bool:
    """Whether forEach / splitInBatches ``node`` (mode auto, at most 40 at once) must run
    its iterations as child executions to keep its scope's history under budget."""
    params = graph.params[node]
    if not isinstance(params, ForEachParams | SplitInBatchesParams) or not graph.loops[node].body:
        return False
    return EXECUTION_EVENTS + ASSUMED_ITERATIONS * iteration_events(graph, node, lowered) > \
        HISTORY_BUDGET


def history_problems(graph: Graph, lowered: Lowered) -> list[Problem]:
    """While loops that could fill their execution's history on their own."""
    problems: list[Problem] = []
    for node, loop in graph.loops.items():
        params = graph.params[node]
        if not isinstance(params, WhileParams) or not loop.body:
            continue
        per_iteration = iteration_events(graph, node, lowered)
        events = MAP_EVENTS + params.maxIterations * per_iteration
        if EXECUTION_EVENTS + events <= HISTORY_BUDGET:
            continue
        fits = max((HISTORY_BUDGET - EXECUTION_EVENTS - MAP_EVENTS) // per_iteration, 0)
        problems.append(Problem(
            graph.name(node), "parameters.maxIterations",
            f"up to {params.maxIterations:,} iterations of ~{per_iteration} history events "
            f"each could record ~{events:,} events, over the {HISTORY_LIMIT:,}-event history "
            f"of one execution (sfnflow plans for {HISTORY_BUDGET:,}). Lower maxIterations "
            f"to at most {fits:,}, or move the loop (or its body) into a sub-workflow "
            "(executeWorkflow), whose execution has a history of its own", "history"))
    return problems


def _enclosing(graph: Graph, node: int) -> list[int]:
    """The loops whose bodies hold ``node``, innermost first."""
    around = [loop for loop, spec in graph.loops.items() if node in spec.body]
    return sorted(around, key=lambda loop: len(graph.loops[loop].body))


def iteration_limit(graph: Graph, node: int, lowered: Lowered) -> int:
    """How many iterations of the inline loop ``node`` (forEach / splitInBatches) its
    execution's history holds within ``HISTORY_BUDGET``: the scope's other events as
    estimated, every enclosing loop of the same scope at its assumed (or maximum) count."""
    times, scope_root = 1, None
    for loop in _enclosing(graph, node):
        if lowered.distributed(loop):  # a child execution per iteration: its own history
            scope_root = loop
            break
        params = graph.params[loop]
        times *= params.maxIterations if isinstance(params, WhileParams) else ASSUMED_ITERATIONS
    total = execution_events(graph, lowered) if scope_root is None else \
        EXECUTION_EVENTS + iteration_events(graph, scope_root, lowered)
    per_iteration = iteration_events(graph, node, lowered) * times
    others = total - ASSUMED_ITERATIONS * per_iteration
    return max((HISTORY_BUDGET - others) // per_iteration, 0)
