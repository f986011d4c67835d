"""The validated workflow as a graph: resolved ports, adjacency, order and reachability.

Reachability sets are Python ints used as bitsets (bit ``i`` = node ``i``), which keeps the
structural passes fast on workflows of thousands of nodes.
"""

from __future__ import annotations

import functools
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from compiler.errors import Problem
from compiler.model import Node, Workflow
from compiler.nodetypes import NODE_TYPES, Params


@dataclass(frozen=True)
class Edge:
    source: int
    output: int
    target: int
    input: int


@dataclass(frozen=True)
class Loop:
    """A loop node (splitInBatches, forEach, while) and its body.

    The body is every node reachable from the loop's ``loop`` output without passing the
    loop node; ``back_edges`` return items from the body to the loop node. Back edges are
    the only cycles a workflow may have, and they are kept out of ``Graph.edges``.
    """

    node: int
    body: frozenset[int]
    back_edges: tuple[Edge, ...]


@dataclass
class Graph:
    workflow: Workflow
    nodes: list[Node]
    params: list[Params]
    outputs: list[list[str]]  # output port names per node
    inputs: list[int]  # input port count per node
    edges: list[Edge]  # without loop back edges: always acyclic
    loops: dict[int, Loop] = field(default_factory=dict)
    #: what an imported n8n document lost without changing behaviour (``compiler.n8n``)
    notes: list[Problem] = field(default_factory=list)
    index: dict[str, int] = field(init=False)
    preds: list[list[int]] = field(init=False)
    succs: list[list[int]] = field(init=False)
    in_edges: list[list[Edge]] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {node.name: i for i, node in enumerate(self.nodes)}
        size = len(self.nodes)
        self.preds = [[] for _ in range(size)]
        self.succs = [[] for _ in range(size)]
        self.in_edges = [[] for _ in range(size)]
        linked: set[tuple[int, int]] = set()
        for edge in self.edges:
            if (edge.source, edge.target) not in linked:
                linked.add((edge.source, edge.target))
                self.succs[edge.source].append(edge.target)
                self.preds[edge.target].append(edge.source)
            self.in_edges[edge.target].append(edge)

    @cached_property
    def node_types(self) -> frozenset[str]:
        """Every node type the workflow uses (asked once per lowered node: keep it O(1))."""
        return frozenset(node.type for node in self.nodes)

    def view(self, members: set[int]) -> Graph:
        """The same nodes with only the edges inside ``members`` (for structuring a region)."""
        edges = [e for e in self.edges if e.source in members and e.target in members]
        return Graph(self.workflow, self.nodes, self.params, self.outputs, self.inputs, edges,
                     self.loops)

    def in_loop_body(self) -> set[int]:
        return {n for loop in self.loops.values() for n in loop.body}

    def back_edge_sources(self) -> set[int]:
        return {e.source for loop in self.loops.values() for e in loop.back_edges}

    def __len__(self) -> int:
        return len(self.nodes)

    def name(self, i: int) -> str:
        return self.nodes[i].name

    def type_of(self, i: int) -> str:
        return self.nodes[i].type

    def is_trigger(self, i: int) -> bool:
        return NODE_TYPES[self.nodes[i].type].trigger

    def topological_order(self) -> list[int]:
        """Kahn's algorithm, ties broken by document order (stable, deterministic)."""
        indegree = [len(p) for p in self.preds]
        ready = deque(i for i in range(len(self)) if indegree[i] == 0)
        order: list[int] = []
        while ready:
            i = ready.popleft()
            order.append(i)
            for j in self.succs[i]:
                indegree[j] -= 1
                if indegree[j] == 0:
                    ready.append(j)
        return order

    def descendants(self, order: list[int]) -> list[int]:
        """Bitset of strict descendants of every node (``order`` is a topological order)."""
        desc = [0] * len(self)
        for i in reversed(order):
            mask = 0
            for j in self.succs[i]:
                mask |= desc[j] | (1 << j)
            desc[i] = mask
        return desc


def strongly_connected_cycles(size: int, succs: list[list[int]]) -> list[list[int]]:
    """Every cycle-forming strongly connected component (iterative Tarjan)."""
    index_of = [-1] * size
    low = [0] * size
    on_stack = [False] * size
    stack: list[int] = []
    cycles: list[list[int]] = []
    counter = 0
    for root in range(size):
        if index_of[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, child = work.pop()
            if child == 0:
                index_of[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            recurse = False
            for k in range(child, len(succs[v])):
                w = succs[v][k]
                if index_of[w] == -1:
                    work.append((v, k + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index_of[w])
            if recurse:
                continue
            if low[v] == index_of[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in succs[v]:
                    cycles.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return cycles


_T = TypeVar("_T")


def per_graph(build: Callable[[Graph], _T]) -> Callable[[Graph], _T]:
    """``build(graph)``, computed once per Graph object (a validated graph never changes;
    the entry goes with the graph). For facts several passes ask of every node."""
    cache: dict[int, tuple[weakref.ref[Graph], _T]] = {}

    @functools.wraps(build)
    def cached(graph: Graph) -> _T:
        key = id(graph)
        hit = cache.get(key)
        if hit is not None and hit[0]() is graph:
            return hit[1]
        value = build(graph)
        cache[key] = (weakref.ref(graph, lambda _ref: cache.pop(key, None)), value)
        return value

    return cached
