"""Evaluate a structured plan as a schedule: how long it takes, and when each node runs.

A plan is the tree ``compiler.passes.structure`` builds. With a duration per node:
``Seq`` runs its steps one after another (durations add up), ``Par`` starts every branch at
once and ends with the slowest one (the max), a ``Guard`` costs what its body costs (the
worst case: the body runs), a ``Flow`` starts each node when the node before it in its
chain and the nodes it waits for have finished (rendezvous are free). This is the time
Step Functions needs for the plan if every Task takes its weight and transitions are free,
so it can be compared with the DAG's critical path, the best any schedule could do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from compiler.passes.structure import Flow, Guard, NodeStep, Par, Seq, Step

Weights = Sequence[float] | Mapping[int, float]


def node_times(plan: Step, weights: Weights, start: float = 0.0) -> dict[int, tuple[float, float]]:
    """``{node: (start, finish)}`` for every node of ``plan`` started at ``start``."""
    times: dict[int, tuple[float, float]] = {}
    _schedule(plan, weights, start, times)
    return times


def makespan(plan: Step, weights: Weights) -> float:
    """When the last node of ``plan`` finishes, the plan starting at 0."""
    return _schedule(plan, weights, 0.0, {})


def _schedule(step: Step, weights: Weights, start: float,
              times: dict[int, tuple[float, float]]) -> float:
    """Record the times of ``step``'s nodes; return when ``step`` finishes."""
    if isinstance(step, NodeStep):
        if step.node in times:
            raise ValueError(f"node {step.node} appears twice in the plan")
        finish = start + weights[step.node]
        times[step.node] = (start, finish)
        return finish
    if isinstance(step, Guard):
        return _schedule(step.body, weights, start, times)
    if isinstance(step, Seq):
        finish = start
        for child in step.steps:
            finish = _schedule(child, weights, finish, times)
        return finish
    if isinstance(step, Par):
        return max(
            (_schedule(branch, weights, start, times) for branch in step.branches), default=start
        )
    if isinstance(step, Flow):
        return _schedule_flow(step, weights, start, times)
    raise TypeError(f"not a plan step: {step!r}")


def _schedule_flow(flow: Flow, weights: Weights, start: float,
                   times: dict[int, tuple[float, float]]) -> float:
    chain_end = [start] * len(flow.chains)
    chain_of = {node: k for k, chain in enumerate(flow.chains) for node in chain}
    if sorted(chain_of) != sorted(flow.order) or len(chain_of) != len(flow.order):
        raise ValueError(f"the chains of {flow!r} do not cover its nodes once")
    waits = dict(flow.waits)
    position = {node: k for k, node in enumerate(flow.order)}
    for chain in flow.chains:  # chains run in topological order
        if [position[n] for n in chain] != sorted(position[n] for n in chain):
            raise ValueError(f"chain {chain} is out of order")
    for node in flow.order:
        if node in times:
            raise ValueError(f"node {node} appears twice in the plan")
        begin = max([chain_end[chain_of[node]], *(times[p][1] for p in waits.get(node, ()))])
        times[node] = (begin, begin + weights[node])
        chain_end[chain_of[node]] = begin + weights[node]
    return max(chain_end, default=start)


def critical_path(succs: Sequence[Sequence[int]], weights: Weights) -> float:
    """The longest weighted path of a DAG given as successor lists (nodes ``0..n-1``)."""
    size = len(succs)
    indegree = [0] * size
    for targets in succs:
        for target in targets:
            indegree[target] += 1
    ready = [node for node in range(size) if indegree[node] == 0]
    finish = [0.0] * size
    earliest = [0.0] * size
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        finish[node] = earliest[node] + weights[node]
        for target in succs[node]:
            earliest[target] = max(earliest[target], finish[node])
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    if seen != size:
        raise ValueError("the graph has a cycle")
    return max(finish, default=0.0)
