"""Partial execution: which nodes of a workflow run, which replay, which stay silent.

Running part of a workflow needs no second state machine. Given ``startNodes`` and/or a
``destinationNode``, ``partial_plan`` splits the nodes in three:

* **run** — the start nodes, everything below them, cut at the destination (every node
  the destination depends on when there are no start nodes);
* **reuse** — every node above the run set: it replays the output it recorded in an
  earlier execution (nodes on the node runner) or recomputes it from replayed inputs
  (pure nodes lowered to native states);
* **skip** — everything else: it outputs no items, so nothing below it runs.

The execution input carries ``reuse`` and ``skip`` and the runner honours them. Start
nodes must not sit inside a loop body (a loop runs as a whole), and the destination must
be reachable from the start nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import Problem, WorkflowInvalid
from compiler.graph import Graph


@dataclass(frozen=True)
class PartialPlan:
    run: list[str]
    reuse: list[str]
    skip: list[str]


def _closure(graph: Graph, seeds: set[int], step: list[list[int]]) -> set[int]:
    found, pending = set(seeds), list(seeds)
    while pending:
        for other in step[pending.pop()]:
            if other not in found:
                found.add(other)
                pending.append(other)
    return found


def _with_loops(graph: Graph, nodes: set[int]) -> set[int]:
    """A loop node runs its body; a body node needs its loop node."""
    grown = set(nodes)
    for loop in graph.loops.values():
        if loop.node in grown or grown & loop.body:
            grown |= loop.body | {loop.node}
    return grown


def partial_plan(graph: Graph, start_nodes: list[str],
                 destination: str | None = None) -> PartialPlan:
    """Split the nodes for a partial run; raises ``WorkflowInvalid`` naming bad nodes."""
    problems = [
        Problem(name, "startNodes", f"no node named {name!r}", "unknown_node")
        for name in start_nodes if name not in graph.index
    ]
    if destination is not None and destination not in graph.index:
        problems.append(Problem(destination, "destinationNode",
                                f"no node named {destination!r}", "unknown_node"))
    in_body = graph.in_loop_body()
    problems += [
        Problem(name, "startNodes", "a start node may not be inside a loop body: start at "
                "the loop node", "start_in_loop")
        for name in start_nodes if graph.index.get(name) in in_body
    ]
    if problems:
        raise WorkflowInvalid(problems)
    starts = {graph.index[name] for name in start_nodes}
    everything = set(range(len(graph)))
    below = _closure(graph, starts, graph.succs) if starts else everything
    if destination is not None:
        target = graph.index[destination]
        above_destination = _closure(graph, {target}, graph.preds)
        if starts and target not in below:
            raise WorkflowInvalid([Problem(destination, "destinationNode",
                                           "is not reachable from the start nodes",
                                           "unreachable")])
        run = below & above_destination
    else:
        run = below
    run = _with_loops(graph, run)
    above = _with_loops(graph, _closure(graph, run, graph.preds)) - run
    skip = everything - run - above

    def names(nodes: set[int]) -> list[str]:
        return [graph.nodes[i].name for i in sorted(nodes)]

    return PartialPlan(run=names(run), reuse=names(above), skip=names(skip))
