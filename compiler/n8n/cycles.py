"""n8n's SplitInBatches v1/v2/v2.1 loops: each cycle becomes one node that runs it whole.

Why one node: such a loop ends when a node of its body stops sending items back, and which
node that is depends on ``$node["Loop"].context`` (items left, run index) and on n8n's
node-by-node execution order (a stack, children by canvas position in v1). Step Functions'
Choice cannot read a node's context nor order branches that way, and v1/v2 loops nest
inside each other and reset themselves through expressions. So each strongly connected
component through such a node (a *region*) is contracted into one node of type
``REGION_TYPE``: one node-runner Task that interprets n8n's order over the members in
process (``functions.n8n.region``, ``functions.nodes.n8n_region``), records every member's
run with its run index, and hands the items leaving the region to the rest of the
workflow, which is compiled as before. The cost: the whole loop runs inside one Lambda
invocation, bounded by its timeout (and a bound on node runs, for loops that never end).

The region node's parameters carry the members (type, typeVersion, parameters, flags,
canvas position), the links among them, its input ports (``entries``: the members fed
from outside, one port per member input) and output ports (``exits``: one per member
output connected outside), the execution order and the document's connections (which
members' expressions walk). Members must be n8n node types with one input that run on
the node runner, without sfnflow-only policies (retry, cache, timeout, error output).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from compiler.errors import Problem
from compiler.graph import strongly_connected_cycles
from compiler.model import Connection, Node, Workflow, fit_name
from compiler.n8n.catalogue import LOOP_VERSIONS, N8N_TYPES, REGION_TYPE, SPLIT_IN_BATCHES

REGION_SUFFIX = " (n8n loop)"


def _is_cycle_loop(node: Node) -> bool:
    return node.type == SPLIT_IN_BATCHES and (node.typeVersion or 1) not in LOOP_VERSIONS


def _output_index(node: Node, output: int | str) -> int | None:
    if isinstance(output, int):
        return output
    spec = N8N_TYPES.get(node.type)
    names = spec.outputs(node.typeVersion or 1, node.parameters) if spec else []
    if output in names:
        return names.index(output)
    return int(output) if output.isascii() and output.isdigit() else None


def _output_name(node: Node, output: int) -> str:
    names = N8N_TYPES[node.type].outputs(node.typeVersion or 1, node.parameters)
    return names[output] if output < len(names) else str(output)


def _member_problems(node: Node) -> list[Problem]:
    spec = N8N_TYPES.get(node.type)
    why = None
    if spec is None or spec.trigger or spec.name == REGION_TYPE:
        why = "only n8n node types that run on the node runner can be part of an n8n loop"
    elif spec.inputs(node.typeVersion or 1, node.parameters) > 1:
        why = "a node with several inputs cannot be part of an n8n SplitInBatches loop yet"
    elif node.onError == "continueErrorOutput":
        why = "onError continueErrorOutput is not supported inside an n8n loop yet"
    elif node.retry is not None or node.cache is not None or node.timeoutSeconds:
        why = ("retry, cache and timeoutSeconds apply to the whole loop, which runs as one "
               "node: set them on no node inside it")
    return [] if why is None else [Problem(node.name, "connections", why, "unsupported")]


def _region_name(head: str, taken: set[str]) -> str:
    base = fit_name(head, 80 - len(REGION_SUFFIX) - 4) + REGION_SUFFIX
    name, number = base, 2
    while name in taken:
        name, number = f"{base} {number}", number + 1
    taken.add(name)
    return name


def n8n_connections(workflow: Workflow) -> dict[str, Any]:
    """The document's connections in n8n's shape (``{Source: {main: [[{node, index}]]}}``)."""
    by_name = {node.name: node for node in workflow.nodes}
    shaped: dict[str, dict[str, list[list[dict[str, Any]]]]] = {}
    for conn in workflow.connections:
        source = by_name.get(conn.source)
        output = _output_index(source, conn.output) if source is not None else None
        if output is None:
            continue
        ports = shaped.setdefault(conn.source, {"main": []})["main"]
        while len(ports) <= output:
            ports.append([])
        ports[output].append({"node": conn.target, "type": "main", "index": conn.input})
    return shaped


def _member_json(node: Node) -> dict[str, Any]:
    spec = N8N_TYPES[node.type]
    version = node.typeVersion or 1
    position = (node.editor or {}).get("position")
    return {
        "name": node.name, "type": node.type, "typeVersion": version,
        "parameters": node.parameters, "onError": node.onError,
        "alwaysOutputData": node.alwaysOutputData, "executeOnce": node.executeOnce,
        "disabled": node.disabled, "outputs": spec.outputs(version, node.parameters),
        "position": list(position) if isinstance(position, list) else [0, 0],
    }


def contract_cycles(workflow: Workflow, check: Callable[[Node], list[Problem]]
                    ) -> tuple[Workflow, list[Problem], dict[str, str]]:
    """``workflow`` with each n8n SplitInBatches v1/v2 cycle contracted into one region
    node, the problems only a region has, and which region each member went into. When a
    member has problems (these, or ``check``'s: the validator's per-node checks, which it
    reports itself) nothing is contracted."""
    nodes = workflow.nodes
    reserved = [Problem(node.name, "type", f"{REGION_TYPE} is the compiler's own node type "
                        "(an n8n loop it contracted), not one a document may use", "unknown_type")
                for node in nodes if node.type == REGION_TYPE]
    if reserved:
        return workflow, reserved, {}
    index = {node.name: i for i, node in enumerate(nodes)}
    succs: list[list[int]] = [[] for _ in nodes]
    for conn in workflow.connections:
        source, target = index.get(conn.source), index.get(conn.target)
        if source is not None and target is not None and target not in succs[source]:
            succs[source].append(target)
    cycles = [c for c in strongly_connected_cycles(len(nodes), succs)
              if any(_is_cycle_loop(nodes[i]) for i in c)]
    if not cycles:
        return workflow, [], {}
    problems: list[Problem] = []
    checked = False  # a member the validator refuses: it reports it on the document as is
    taken = {node.name for node in nodes}
    owner: dict[str, str] = {}
    for cycle in cycles:
        head = next(nodes[i].name for i in cycle if _is_cycle_loop(nodes[i]))
        region = _region_name(head, taken)
        for i in cycle:
            owner[nodes[i].name] = region
            checked = checked or bool(check(nodes[i]))
            problems += _member_problems(nodes[i])
    if problems or checked:
        return workflow, problems, owner
    return _contracted(workflow, owner), [], owner


def _contracted(workflow: Workflow, owner: Mapping[str, str]) -> Workflow:
    by_name = {node.name: node for node in workflow.nodes}
    entries: dict[str, list[tuple[str, int]]] = {}
    exits: dict[str, list[tuple[str, int]]] = {}
    links: dict[str, list[dict[str, Any]]] = {}
    rewired: list[tuple[Connection, str, int | str, str, int]] = []
    for conn in workflow.connections:
        output = _output_index(by_name[conn.source], conn.output) \
            if conn.source in by_name else None
        source_region, target_region = owner.get(conn.source), owner.get(conn.target)
        if source_region is not None and source_region == target_region:
            links.setdefault(source_region, []).append(
                {"from": conn.source, "output": output, "to": conn.target,
                 "input": conn.input})
            continue
        source, out = conn.source, conn.output
        if source_region is not None and output is not None:
            ports = exits.setdefault(source_region, [])
            if (conn.source, output) not in ports:
                ports.append((conn.source, output))
            source, out = source_region, ports.index((conn.source, output))
        target, into = conn.target, conn.input
        if target_region is not None:
            ports = entries.setdefault(target_region, [])
            if (conn.target, conn.input) not in ports:
                ports.append((conn.target, conn.input))
            target, into = target_region, ports.index((conn.target, conn.input))
        rewired.append((conn, source, out, target, into))
    connections = n8n_connections(workflow)
    order = workflow.settings.executionOrder or "v0"
    kept: list[Node] = []
    placed: set[str] = set()
    for node in workflow.nodes:
        region = owner.get(node.name)
        if region is None:
            kept.append(node)
            continue
        if region in placed:
            continue
        placed.add(region)
        members = [n for n in workflow.nodes if owner.get(n.name) == region]
        kept.append(Node(name=region, type=REGION_TYPE, typeVersion=1, parameters={
            "nodes": [_member_json(member) for member in members],
            "links": links.get(region, []),
            "entries": [{"node": n, "input": i} for n, i in entries.get(region, [])],
            "exits": [{"node": n, "output": o, "name": f"{n}:{_output_name(by_name[n], o)}"}
                      for n, o in exits.get(region, [])],
            "executionOrder": order,
            "connections": connections,
        }))
    new_connections = [Connection(source=source, target=target, output=out, input=into)
                       for _conn, source, out, target, into in rewired]
    return workflow.model_copy(update={"nodes": kept, "connections": new_connections})
