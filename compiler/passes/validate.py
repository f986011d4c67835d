"""Pass 1: document -> Graph, collecting *every* problem (node name + field) on the way.

Guarantees on success: node names are unique; every node type exists and its parameters fit
its model; every expression parses; every connection joins existing ports; the only cycles
go through a loop node (splitInBatches, forEach, while) from its body, and those back edges
are kept apart from the acyclic ``Graph.edges``; there is a trigger, and every node is reachable
from a trigger; try/catch/finally regions are well formed (``compiler.regions``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from compiler.document import value_problems
from compiler.errors import Problem, WorkflowInvalid
from compiler.expressions import syntax_errors
from compiler.graph import Edge, Graph, Loop, strongly_connected_cycles
from compiler.limits import LAMBDA_MAX_SECONDS
from compiler.model import Node, Workflow
from compiler.n8n.catalogue import LOOP_VERSIONS, N8N_DEFAULT_BATCH_SIZE, N8N_TYPES
from compiler.n8n.cycles import contract_cycles
from compiler.n8n.document import N8N_TYPE_PREFIXES
from compiler.n8n.loading import as_workflow_document
from compiler.nodetypes import LOOP_LOWERINGS, NODE_TYPES, NodeType, Params, output_names
from compiler.regions import region_problems

_UNION_LABELS = frozenset({"int", "str", "float", "bool", "none", "list", "dict"})
# Lowerings whose node may run on the node-runner Lambda (a native node falls back to it),
# which Lambda stops after ``LAMBDA_MAX_SECONDS``: a longer Task timeout never fires.
_RUNNER_LOWERINGS = frozenset({"task", "variables", "native"})


def _loc(loc: tuple[Any, ...]) -> str:
    """A field path; pydantic's union-member labels (``literal[...]``, ``int``) are left out."""
    parts = [
        f"[{part}]" if isinstance(part, int) else str(part)
        for part in loc
        if isinstance(part, int) or not ("[" in part or part in _UNION_LABELS)
    ]
    return ".".join(parts).replace(".[", "[")


def parse_document(document: Any) -> Workflow:
    """Check the document's shape; every pydantic error becomes a Problem naming its node."""
    if not isinstance(document, dict):
        raise WorkflowInvalid([Problem(None, "", "a workflow document must be a mapping")])
    problems = value_problems(document)  # JSON values, bounded (whoever parsed them)
    if problems:
        raise WorkflowInvalid(problems)
    try:
        return Workflow.model_validate(document)
    except ValidationError as exc:
        problems = []
        raw_nodes = document.get("nodes")
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = None
            if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
                raw = raw_nodes[loc[1]] if isinstance(raw_nodes, list) else None
                name = raw.get("name") if isinstance(raw, dict) else None
                node = name if isinstance(name, str) else f"#{loc[1]}"
                loc = loc[2:]
            problems.append(Problem(node, _loc(loc), error["msg"], error["type"]))
        raise WorkflowInvalid(problems) from None


def _node_problems(workflow: Workflow, in_cycles: Collection[str] = ()
                   ) -> tuple[list[Problem], list[Params | None]]:
    """Per-node problems; ``in_cycles``: loop nodes of n8n cycles that could not be
    contracted (their problems are reported by ``compiler.n8n.cycles``)."""
    problems: list[Problem] = []
    params: list[Params | None] = []
    seen: set[str] = set()
    for node in workflow.nodes:
        if node.name in seen:
            problems.append(Problem(node.name, "name", "duplicate node name", "duplicate"))
        seen.add(node.name)
        spec = NODE_TYPES.get(node.type)
        if spec is None:
            n8n = node.type.startswith(N8N_TYPE_PREFIXES)
            known = ", ".join(sorted(t for t in NODE_TYPES if t.startswith(N8N_TYPE_PREFIXES)
                                     == n8n))
            what = "n8n node type" if n8n else "node type"
            problems.append(
                Problem(node.name, "type", f"unknown {what} {node.type!r} (known: {known})",
                        "unknown_type")
            )
            params.append(None)
            continue
        if spec.lowering in _RUNNER_LOWERINGS and (node.timeoutSeconds or 0) > LAMBDA_MAX_SECONDS:
            problems.append(Problem(
                node.name, "timeoutSeconds",
                f"timeoutSeconds {node.timeoutSeconds:,} is longer than a {node.type} node can "
                f"run: it runs on the node-runner Lambda, which stops after "
                f"{LAMBDA_MAX_SECONDS} s (Lambda's maximum). Use at most {LAMBDA_MAX_SECONDS}, "
                "or split the work (a loop, or a sub-workflow)", "timeout"))
        if spec.n8n:
            problems += _n8n_problems(node, spec)
        else:
            evaluated = {k: v for k, v in node.parameters.items()
                         if k not in spec.params.raw_fields}
            for path, message in syntax_errors(evaluated):
                problems.append(Problem(node.name, f"parameters.{path}", message, "expression"))
        raw: Any = node.parameters
        if spec.n8n:
            raw = {"typeVersion": node.typeVersion or 1, "parameters": node.parameters}
            if spec.lowering == "loop" and node.name in in_cycles:
                raw = None
            elif spec.lowering == "loop":
                loop, loop_problems = _n8n_loop(node)
                problems += loop_problems
                raw = loop if not loop_problems else None
        if raw is None:
            params.append(None)
            continue
        try:
            params.append(spec.params.model_validate(raw))
        except ValidationError as exc:
            params.append(None)
            for error in exc.errors():
                field = _loc(("parameters", *error["loc"]))
                problems.append(Problem(node.name, field, error["msg"], "parameters"))
    return problems, params


def _member_problems(node: Node) -> list[Problem]:
    """A node inside an n8n loop region is checked as any node would be (its type, version
    and refusals; its parameters are n8n's and the runner reads them)."""
    spec = NODE_TYPES.get(node.type)
    if spec is None or not spec.n8n:
        return []  # compiler.n8n.cycles names it
    return _n8n_problems(node, spec)


def _n8n_problems(node: Node, spec: NodeType) -> list[Problem]:
    """An n8n node's typeVersion must be one sfnflow implements (n8n's default is 1), and
    its parameters none its catalogue entry refuses (``N8nType.refusals``)."""
    version = node.typeVersion or 1
    if version not in spec.versions:
        known = ", ".join(f"{v:g}" for v in sorted(spec.versions))
        return [Problem(node.name, "typeVersion", f"{node.type} version {version:g} is not "
                        f"supported (supported: {known})", "unsupported")]
    return [Problem(node.name, field, why, "unsupported")
            for field, why in N8N_TYPES[node.type].refusals(version, node.parameters)]


def _n8n_loop(node: Node) -> tuple[dict[str, Any], list[Problem]]:
    """Loop Over Items v3 as sfnflow's splitInBatches: its batch size, one batch at a time
    (n8n runs them in order). What a Map cannot do exactly is refused, naming the field."""
    version = node.typeVersion or 1
    if version not in LOOP_VERSIONS:
        return {}, [Problem(node.name, "typeVersion", f"SplitInBatches v{version:g} runs as "
                            "part of a loop (a path from its output back into it), and this "
                            "node is in none: connect its loop, or use Loop Over Items (v3)",
                            "unsupported")]
    size = node.parameters.get("batchSize", N8N_DEFAULT_BATCH_SIZE)
    options = node.parameters.get("options") or {}
    problems = []
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        problems.append(Problem(node.name, "parameters.batchSize", "must be a number of at "
                                "least 1 (an expression is not supported in a loop)",
                                "unsupported"))
    if isinstance(options, dict) and options.get("reset"):
        problems.append(Problem(node.name, "parameters.options.reset", "a loop that resets "
                                "is not supported", "unsupported"))
    return {"batchSize": size, "maxConcurrency": 1, "mode": "inline"}, problems


def _resolve_output(names: list[str], output: int | str) -> int | None:
    if isinstance(output, int):
        return output if 0 <= output < len(names) else None
    if output in names:
        return names.index(output)
    if output.isascii() and output.isdigit() and int(output) < len(names):  # not "²"
        return int(output)
    return None


def validate(document: Any) -> Graph:
    document, problems, notes = as_workflow_document(document)
    try:
        workflow = parse_document(document)
    except WorkflowInvalid as exc:
        raise WorkflowInvalid(problems + exc.problems) from None
    # n8n's SplitInBatches v1/v2 cycles become one node each (compiler.n8n.cycles)
    workflow, cycle_problems, absorbed = contract_cycles(workflow, _member_problems)
    problems += cycle_problems
    node_problems, params = _node_problems(  # a cycle that could not be contracted is here
        workflow, {node.name for node in workflow.nodes} & set(absorbed))
    problems += node_problems
    index = {node.name: i for i, node in enumerate(workflow.nodes)}
    outputs = [
        output_names(node.type, p, node.onError) if p is not None else []
        for node, p in zip(workflow.nodes, params, strict=True)
    ]
    inputs = [
        NODE_TYPES[node.type].inputs(p) if p is not None else 0
        for node, p in zip(workflow.nodes, params, strict=True)
    ]
    edges: list[Edge] = []
    seen_edges: set[Edge] = set()
    # Name-level links (even where ports do not resolve) drive the cycle and reachability
    # checks, so one bad node does not make everything after it "unreachable".
    succs: list[list[int]] = [[] for _ in workflow.nodes]
    linked: set[tuple[int, int]] = set()
    for conn in workflow.connections:
        source, target = index.get(conn.source), index.get(conn.target)
        into_trigger = target is not None and workflow.nodes[target].type in NODE_TYPES and \
            NODE_TYPES[workflow.nodes[target].type].trigger
        if source is not None and target is not None and not into_trigger and \
                (source, target) not in linked:
            linked.add((source, target))
            succs[source].append(target)
    for number, conn in enumerate(workflow.connections):
        where = f"connections[{number}]"
        source, target = index.get(conn.source), index.get(conn.target)
        if source is None:
            problems.append(Problem(None, f"{where}.from", f"unknown node {conn.source!r}",
                                    "dangling"))
        if target is None:
            problems.append(Problem(None, f"{where}.to", f"unknown node {conn.target!r}",
                                    "dangling"))
        if source is None or target is None or params[source] is None or params[target] is None:
            continue
        output = _resolve_output(outputs[source], conn.output)
        if output is None:
            problems.append(Problem(
                conn.source, f"{where}.output",
                f"no output {conn.output!r} (outputs: {', '.join(outputs[source])})", "port"))
            continue
        if conn.input >= inputs[target]:
            message = (
                "a trigger node takes no input" if inputs[target] == 0
                else f"no input {conn.input} (inputs: 0..{inputs[target] - 1})"
            )
            problems.append(Problem(conn.target, f"{where}.input", message, "port"))
            continue
        edge = Edge(source, output, target, conn.input)
        if edge in seen_edges:
            problems.append(Problem(conn.source, where, f"duplicate connection to "
                                    f"{conn.target!r}", "duplicate"))
        seen_edges.add(edge)
        edges.append(edge)

    for name in workflow.pinData:
        if name not in index and name not in absorbed:
            problems.append(Problem(None, f"pinData.{name}", f"unknown node {name!r}", "dangling"))
    if workflow.settings.errorWorkflow == workflow.name:
        problems.append(Problem(None, "settings.errorWorkflow",
                                "a workflow cannot be its own error workflow", "loop"))

    loops, loop_problems = _find_loops(workflow, edges)
    # A loop node with bad parameters has no edges yet: its body and cycle are not checked.
    unchecked_loops = {i for i, node in enumerate(workflow.nodes) if params[i] is None
                       and node.type in NODE_TYPES
                       and NODE_TYPES[node.type].lowering in LOOP_LOWERINGS}
    problems += loop_problems
    if not unchecked_loops:
        problems += _while_problems(workflow, loops)
    back = {(e.source, e.target) for loop in loops.values() for e in loop.back_edges}
    succs = [[t for t in targets if (s, t) not in back] for s, targets in enumerate(succs)]
    edges = [e for e in edges if (e.source, e.target) not in back]
    if workflow.regions:  # catch and finally are reached (and ordered) through their region
        bodies = {n for loop in loops.values() for n in loop.body}
        region_issues, links = region_problems(workflow, edges, bodies, set(loops))
        problems += region_issues
        for source, target in links:
            if target not in succs[source]:
                succs[source].append(target)

    for cycle in strongly_connected_cycles(len(workflow.nodes), succs):
        if unchecked_loops.intersection(cycle):
            continue
        names = ", ".join(workflow.nodes[i].name for i in cycle)
        for i in cycle:
            problems.append(Problem(workflow.nodes[i].name, "connections",
                                    f"part of a cycle: {names}", "cycle"))

    triggers = [i for i, node in enumerate(workflow.nodes)
                if node.type in NODE_TYPES and NODE_TYPES[node.type].trigger]
    if not triggers:
        problems.append(Problem(None, "nodes", "no trigger node (add e.g. a manualTrigger)",
                                "no_trigger"))
    else:
        reached = set(triggers)
        frontier = list(triggers)
        while frontier:
            for j in succs[frontier.pop()]:
                if j not in reached:
                    reached.add(j)
                    frontier.append(j)
        for i, node in enumerate(workflow.nodes):
            if i not in reached:
                problems.append(Problem(node.name, "connections",
                                        "unreachable from any trigger node", "unreachable"))
    if problems:
        raise WorkflowInvalid(problems)
    graph = Graph(workflow, list(workflow.nodes), [p for p in params if p is not None],
                  outputs, inputs, edges, loops, notes=notes)
    from compiler.lowering.while_loop import condition_problems

    problems = condition_problems(graph)
    if problems:
        raise WorkflowInvalid(problems)
    return graph


LOOP_OUTPUT = 1  # the `loop` output of splitInBatches / forEach ("done" is 0)


def _find_loops(workflow: Workflow, edges: list[Edge]) -> tuple[dict[int, Loop], list[Problem]]:
    """Loop bodies: what the `loop` output reaches without passing the loop node.

    A body may only be entered from its loop's `loop` output and may only leave through
    edges back into its loop node; anything else would make "once per iteration" ambiguous.
    """
    succ_edges: dict[int, list[Edge]] = {}
    for edge in edges:
        succ_edges.setdefault(edge.source, []).append(edge)
    loops: dict[int, Loop] = {}
    problems: list[Problem] = []
    for i, node in enumerate(workflow.nodes):
        if node.type not in NODE_TYPES or NODE_TYPES[node.type].lowering not in LOOP_LOWERINGS:
            continue
        body: set[int] = set()
        frontier = [e.target for e in succ_edges.get(i, []) if e.output == LOOP_OUTPUT]
        while frontier:
            n = frontier.pop()
            if n == i or n in body:
                continue
            body.add(n)
            frontier.extend(e.target for e in succ_edges.get(n, []))
        back_edges = tuple(e for e in edges if e.target == i and e.source in body)
        if body and not back_edges:
            problems.append(Problem(node.name, "connections",
                                    "loop body never returns: connect its last node back to "
                                    f"{node.name!r} (its items come out of `done`)", "loop"))
        for edge in edges:
            inside_source, inside_target = edge.source in body, edge.target in body
            if inside_target and not inside_source and not (
                    edge.source == i and edge.output == LOOP_OUTPUT):
                problems.append(Problem(
                    workflow.nodes[edge.target].name, "connections",
                    f"inside the loop of {node.name!r}, so it may only receive items from "
                    f"the loop or other nodes of its body (not from "
                    f"{workflow.nodes[edge.source].name!r})", "loop"))
            if inside_source and not inside_target and edge.target != i:
                problems.append(Problem(
                    workflow.nodes[edge.source].name, "connections",
                    f"inside the loop of {node.name!r}, so it may only send items to its body "
                    f"or back to {node.name!r} (not to {workflow.nodes[edge.target].name!r})",
                    "loop"))
        loops[i] = Loop(i, frozenset(body), back_edges)
    return loops, problems


def _while_problems(workflow: Workflow, loops: dict[int, Loop]) -> list[Problem]:
    """A while loop needs a body; break/continue belong to the body of a while loop (the
    innermost loop around them), where they can jump to its condition or its exit."""
    problems: list[Problem] = []
    for i, loop in loops.items():
        if workflow.nodes[i].type == "while" and not loop.body:
            problems.append(Problem(workflow.nodes[i].name, "connections",
                                    "a while loop needs a body on its `loop` output", "loop"))
    for i, node in enumerate(workflow.nodes):
        if node.type not in ("break", "continue"):
            continue
        around = [loop for loop in loops.values() if i in loop.body]
        innermost = min(around, key=lambda loop: len(loop.body), default=None)
        if innermost is None or workflow.nodes[innermost.node].type != "while":
            where = "outside any loop" if innermost is None else \
                f"in the body of {workflow.nodes[innermost.node].type} " \
                f"{workflow.nodes[innermost.node].name!r}"
            problems.append(Problem(
                node.name, "type", f"{node.type} must be in the body of a while loop (it is "
                f"{where})", "loop"))
    return problems
