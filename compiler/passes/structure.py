"""Pass 2: Graph -> a structured plan of sequences, parallel blocks and guarded blocks.

Step Functions can only express *structured* concurrency (a Parallel state waits for all of
its branches), so an arbitrary DAG must be cut into nested sequences and parallel blocks.

``structure`` recursively decomposes a set of nodes S (always convex in the DAG):

1. **Series cuts.** In any topological order of S, a prefix A is an *exact series cut* when
   every node of A reaches every node of S \\ A. Then Seq[A, rest] loses nothing: every
   path of A can be extended by every path of the rest, so the critical path of S is
   CP(A) + CP(rest). All exact cuts are found in one sweep with bitset reachability.
2. **Parallel split.** A segment between cuts that falls into several weakly connected
   components becomes a Parallel of those components (makespan = the max).
3. **Non-series-parallel fallback.** A connected segment with no exact cut (an "N" shape)
   is split at the prefix A (in earliest-start order) that minimises CP(A) + CP(rest),
   using unit node weights (or the caller's estimates). This adds a synchronisation point
   that the DAG does not need; it is the only place a plan can be slower than the DAG.

On series-parallel DAGs only steps 1-2 apply, so the plan's makespan equals the critical
path. Every node appears exactly once, after all of its predecessors.

Finally, blocks whose every external input comes from a *branch port* (an IF/Switch output
or a continueErrorOutput error port) are wrapped in a Guard, which skips the block when
those ports carry no items.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from compiler.graph import Graph


@dataclass(frozen=True)
class NodeStep:
    node: int

    @cached_property
    def members(self) -> tuple[int, ...]:
        return (self.node,)


@dataclass(frozen=True)
class Seq:
    steps: tuple[Step, ...]

    @cached_property
    def members(self) -> tuple[int, ...]:
        return tuple(n for step in self.steps for n in step.members)


@dataclass(frozen=True)
class Par:
    branches: tuple[Step, ...]

    @cached_property
    def members(self) -> tuple[int, ...]:
        return tuple(n for step in self.branches for n in step.members)


@dataclass(frozen=True)
class Guard:
    """Run ``body`` only if at least one of ``ports`` (node, output) carries items."""

    ports: tuple[tuple[int, int], ...]
    body: Step

    @cached_property
    def members(self) -> tuple[int, ...]:
        return self.body.members


Step = NodeStep | Seq | Par | Guard

BRANCHING_TYPES = frozenset({"if", "switch"})


def nodes_of(step: Step) -> list[int]:
    """The nodes of ``step`` in plan order (cached on the step)."""
    return list(step.members)


class _Decomposer:
    def __init__(self, graph: Graph, weights: list[float]) -> None:
        self.graph = graph
        self.weights = weights
        self.order = graph.topological_order()
        self.position = {node: k for k, node in enumerate(self.order)}
        self.desc = graph.descendants(self.order)

    def structure(self, members: list[int]) -> Step:
        """``members`` is in topological order."""
        if len(members) == 1:
            return NodeStep(members[0])
        segments = self._series_segments(members)
        if len(segments) > 1:
            return _seq(self._parallel(segment) for segment in segments)
        return self._parallel(members)

    def _series_segments(self, members: list[int]) -> list[list[int]]:
        mask = 0
        for node in members:
            mask |= 1 << node
        segments: list[list[int]] = []
        current: list[int] = []
        reach_all = mask  # nodes reached by every member of the current prefix
        rest = mask
        for node in members[:-1]:
            current.append(node)
            rest &= ~(1 << node)
            reach_all &= self.desc[node]
            if rest & ~reach_all == 0:
                segments.append(current)
                current = []
        current.append(members[-1])
        segments.append(current)
        return segments

    def _parallel(self, members: list[int]) -> Step:
        if len(members) == 1:
            return NodeStep(members[0])
        components = self._components(members)
        if len(components) > 1:
            return Par(tuple(self.structure(component) for component in components))
        return self._split_non_series_parallel(members)

    def _components(self, members: list[int]) -> list[list[int]]:
        inside = set(members)
        parent = {node: node for node in members}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for node in members:
            for succ in self.graph.succs[node]:
                if succ in inside:
                    parent[find(node)] = find(succ)
        groups: dict[int, list[int]] = {}
        for node in members:  # keeps topological order inside every component
            groups.setdefault(find(node), []).append(node)
        return list(groups.values())

    def _split_non_series_parallel(self, members: list[int]) -> Step:
        inside = set(members)
        preds, succs, weights = self.graph.preds, self.graph.succs, self.weights
        start: dict[int, float] = {}
        for node in members:
            start[node] = max(
                (start[p] + weights[p] for p in preds[node] if p in inside), default=0.0
            )
        ordered = sorted(members, key=lambda n: (start[n], self.position[n]))
        finish: dict[int, float] = {}
        prefix_cp = []
        best = 0.0
        for node in ordered:
            finish[node] = weights[node] + max(
                (finish[p] for p in preds[node] if p in inside), default=0.0
            )
            best = max(best, finish[node])
            prefix_cp.append(best)
        tail: dict[int, float] = {}
        suffix_cp = [0.0] * (len(ordered) + 1)
        best = 0.0
        for k in range(len(ordered) - 1, -1, -1):
            node = ordered[k]
            tail[node] = weights[node] + max(
                (tail[s] for s in succs[node] if s in inside), default=0.0
            )
            best = max(best, tail[node])
            suffix_cp[k] = best
        cut = min(
            range(1, len(ordered)),
            key=lambda k: (prefix_cp[k - 1] + suffix_cp[k], abs(len(ordered) - 2 * k)),
        )
        head = sorted(ordered[:cut], key=self.position.__getitem__)
        rest = sorted(ordered[cut:], key=self.position.__getitem__)
        return _seq([self.structure(head), self.structure(rest)])


def _seq(steps: object) -> Step:
    flat: list[Step] = []
    for step in steps:  # type: ignore[attr-defined]
        flat.extend(step.steps if isinstance(step, Seq) else [step])
    return flat[0] if len(flat) == 1 else Seq(tuple(flat))


def _is_branch_port(graph: Graph, node: int, output: int) -> bool:
    if graph.type_of(node) in BRANCHING_TYPES:
        return True
    return graph.nodes[node].onError == "continueErrorOutput"


def _guard_ports(graph: Graph, step: Step) -> frozenset[tuple[int, int]] | None:
    """The branch ports feeding ``step``, or None if any external input is not one.

    Parallel blocks are never guarded themselves: each of their branches is fed by a subset
    of the same ports, so the branches carry the guards.
    """
    if isinstance(step, Par):
        return None
    members = set(nodes_of(step))
    ports = frozenset(
        (edge.source, edge.output)
        for node in members
        for edge in graph.in_edges[node]
        if edge.source not in members
    )
    if ports and all(_is_branch_port(graph, node, output) for node, output in ports):
        return ports
    return None


def add_guards(graph: Graph, step: Step, enclosing: frozenset[tuple[int, int]] = frozenset(),
               guardable: bool = True) -> Step:
    """Guard every sequence element and parallel branch fed only by branch ports.

    A block whose ports equal the enclosing guard's is not guarded again.
    """
    ports = _guard_ports(graph, step) if guardable else None
    inner = ports if ports is not None else enclosing
    if isinstance(step, Seq):
        body: Step = Seq(tuple(add_guards(graph, child, inner) for child in step.steps))
    elif isinstance(step, Par):
        body = Par(tuple(add_guards(graph, branch, inner) for branch in step.branches))
    else:
        body = step
    if ports is None or ports == enclosing:
        return body
    return Guard(tuple(sorted(ports)), body)


def structure(graph: Graph, weights: list[float] | None = None,
              members: set[int] | None = None) -> Step:
    """The structured plan of the workflow, or of the region ``members`` (a loop body, or
    everything outside loop bodies) using only the edges inside it."""
    region = graph if members is None else graph.view(members)
    decomposer = _Decomposer(region, weights or [1.0] * len(graph))
    order = decomposer.order if members is None else [
        n for n in decomposer.order if n in members]
    return add_guards(region, decomposer.structure(order), guardable=False)


def region_plans(graph: Graph, weights: list[float] | None = None) -> dict[int | None, Step]:
    """Plans of every region: ``None`` for the top level, and one per loop node's body.

    A loop node is one step of the region that holds it; its body (minus nested bodies) is
    a region of its own, lowered inside the loop's Map state.
    """
    in_bodies = graph.in_loop_body()
    plans: dict[int | None, Step] = {
        None: structure(graph, weights, set(range(len(graph))) - in_bodies)
    }
    for node, loop in graph.loops.items():
        nested = {n for inner, other in graph.loops.items() if inner in loop.body
                  for n in other.body}
        if loop.body:
            plans[node] = structure(graph, weights, set(loop.body) - nested)
    return plans
