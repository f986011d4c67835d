"""try/catch/finally regions: which nodes form one, whether it is well formed, and the
contracted graph the top-level plan is cut from.

A region is one step of the top-level plan, represented by its *entry* (the only member fed
from outside): outgoing edges of any member leave from the entry, and the entry leads to
the catch node, which leads to the finally node. Those two have no connections in: their
input is the region's own variable, ``{"ports": [error items, finally item]}``.

Rules (every break is a Problem): members, catch and finally exist; catch and finally are
outside every region and every loop body and have no incoming connections; members are in
no other region, are not triggers, loop nodes or loop-body nodes; exactly one member (the
entry) has inputs from outside the region, which makes the region a convex sub-DAG (a path
leaving and re-entering it would need a second entry); the entry is fed by at least one
regular output (a region fed only by IF/Switch/error ports cannot be skipped as one block).
Regions do not nest.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import Problem
from compiler.graph import Edge, Graph
from compiler.model import Workflow
from compiler.nodetypes import NODE_TYPES

REGION_NODE_FAILED = "Sfnflow.RegionNodeFailed"  # a member's error, re-raised with its name
BRANCHING_TYPES = frozenset({"if", "switch"})


@dataclass(frozen=True)
class Region:
    name: str
    members: frozenset[int]
    entry: int
    catch: int
    finally_: int | None


def _entries(members: set[int], edges: list[Edge]) -> set[int]:
    return {e.target for e in edges if e.target in members and e.source not in members}


def region_problems(workflow: Workflow, edges: list[Edge], loop_bodies: set[int],
                    loop_nodes: set[int]) -> tuple[list[Problem], list[tuple[int, int]]]:
    """Every problem of ``workflow.regions``, and the links (entry -> catch -> finally) that
    make catch and finally reachable and ordered after their region."""
    index = {node.name: i for i, node in enumerate(workflow.nodes)}
    problems: list[Problem] = []
    links: list[tuple[int, int]] = []
    owner: dict[str, str] = {}
    handlers = {name for r in workflow.regions for name in (r.catch, r.finally_) if name}
    seen: set[str] = set()
    for number, region in enumerate(workflow.regions):
        where = f"regions[{number}]"
        if region.name in seen:
            problems.append(Problem(None, f"{where}.name", "duplicate region name", "region"))
        seen.add(region.name)
        members: set[int] = set()
        for name in region.nodes:
            if name not in index:
                problems.append(Problem(None, f"{where}.nodes", f"unknown node {name!r}",
                                        "dangling"))
                continue
            i = index[name]
            node = workflow.nodes[i]
            if name in owner:
                problems.append(Problem(name, f"{where}.nodes", f"already in region "
                                        f"{owner[name]!r} (regions do not nest)", "region"))
            elif name in handlers:
                problems.append(Problem(name, f"{where}.nodes",
                                        "a catch or finally node cannot be in a region",
                                        "region"))
            elif node.type in NODE_TYPES and NODE_TYPES[node.type].trigger:
                problems.append(Problem(name, f"{where}.nodes",
                                        "a trigger cannot be in a region", "region"))
            elif i in loop_nodes or i in loop_bodies:
                problems.append(Problem(name, f"{where}.nodes", "loop nodes and loop bodies "
                                        "cannot be in a region", "region"))
            owner[name] = region.name
            members.add(i)
        handler_ids: list[int] = []
        handler_names: list[tuple[str, str | None]] = [("catch", region.catch),
                                                        ("finally", region.finally_)]
        for field, handler in handler_names:
            if handler is None:
                continue
            name = handler
            if name not in index:
                problems.append(Problem(None, f"{where}.{field}", f"unknown node {name!r}",
                                        "dangling"))
                continue
            i = index[name]
            node = workflow.nodes[i]
            if node.type in NODE_TYPES and (NODE_TYPES[node.type].trigger
                                            or NODE_TYPES[node.type].lowering == "loop"):
                problems.append(Problem(name, f"{where}.{field}", "a trigger or loop node "
                                        "cannot be a region's catch or finally", "region"))
            if i in loop_bodies:
                problems.append(Problem(name, f"{where}.{field}", "a region's catch or "
                                        "finally cannot be in a loop body", "region"))
            if any(e.target == i for e in edges):
                problems.append(Problem(name, "connections", f"the {field} node of region "
                                        f"{region.name!r} takes no connections in: its "
                                        "input is the region's", "region"))
            handler_ids.append(i)
        entries = _entries(members, edges)
        if len(entries) != 1:
            names = ", ".join(sorted(workflow.nodes[i].name for i in entries)) or "none"
            problems.append(Problem(None, f"{where}.nodes", "a region needs exactly one "
                                    f"node with inputs from outside it (found: {names})",
                                    "region"))
            continue
        (entry,) = entries
        regular = [e for e in edges if e.target == entry and e.source not in members
                   and not _is_branch_port(workflow, e)]
        if not regular:
            problems.append(Problem(workflow.nodes[entry].name, f"{where}.nodes",
                                    "a region's first node needs an input from a regular "
                                    "output (put a noOp between the IF/Switch and it)",
                                    "region"))
        previous = entry
        for i in handler_ids:
            links.append((previous, i))
            previous = i
    return problems, links


def _is_branch_port(workflow: Workflow, edge: Edge) -> bool:
    node = workflow.nodes[edge.source]
    return node.type in BRANCHING_TYPES or node.onError == "continueErrorOutput"


def resolve_regions(graph: Graph) -> list[Region]:
    """The regions of a validated graph."""
    found: list[Region] = []
    for region in graph.workflow.regions:
        members = {graph.index[name] for name in region.nodes}
        (entry,) = _entries(members, graph.edges)
        found.append(Region(region.name, frozenset(members), entry,
                            graph.index[region.catch],
                            graph.index[region.finally_] if region.finally_ else None))
    return found


def contracted(graph: Graph, regions: list[Region], members: set[int]) -> Graph:
    """``graph`` restricted to ``members`` with every region contracted into its entry, for
    cutting the plan. ``in_edges`` stay the real ones (guards test the real ports)."""
    inner = {n: r.entry for r in regions for n in r.members}
    edges: list[Edge] = []
    for e in graph.edges:
        source = inner.get(e.source, e.source)
        if source in members and e.target in members and source != e.target:
            edges.append(Edge(source, e.output, e.target, e.input))
    for r in regions:
        chain = [r.entry, r.catch] + ([r.finally_] if r.finally_ is not None else [])
        edges += [Edge(a, -1, b, -1) for a, b in zip(chain, chain[1:], strict=False)]
    view = Graph(graph.workflow, graph.nodes, graph.params, graph.outputs, graph.inputs,
                 edges, graph.loops)
    view.in_edges = [[e for e in graph.in_edges[n] if e.target in members]
                     for n in range(len(graph))]
    return view
