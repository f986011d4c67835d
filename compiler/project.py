"""Compiling workflows together: the static call graph of ``executeWorkflow`` nodes.

A node names the workflow it runs statically (its state machine ARN is a deploy-time
substitution), so once the workflows are compiled together the whole call graph is known.
``compile_project`` reports, with every other problem of every workflow: a call to an
unknown workflow, a recursive call chain (A runs B runs A; recursion can never end, since
there are no dynamic names), and a chain deeper than its depth limit. The child's trigger
enforces the depth limit again at run time, for workflows compiled and deployed apart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compiler.errors import Problem, WorkflowInvalid
from compiler.graph import strongly_connected_cycles
from compiler.loader import load_file
from compiler.nodetypes import SUBWORKFLOW_MAX_DEPTH
from compiler.pipeline import CompiledWorkflow, compile_workflow, sub_workflows, tool_workflows

WORKFLOW_SUFFIXES = (".yaml", ".yml", ".json")
_FIELD = "parameters.workflow"


@dataclass(frozen=True)
class Call:
    """One executeWorkflow node: ``workflow``'s node ``node`` runs ``child``."""

    workflow: str
    node: str
    child: str
    max_depth: int | None
    by_tool: bool = False  # a sub-workflow tool's: started only when asked (no static chain)


def calls_of(compiled: CompiledWorkflow) -> list[Call]:
    graph = compiled.graph
    nodes = [(node, params) for node, params in zip(graph.nodes, graph.params, strict=True)
             if not node.disabled]
    return [
        *(Call(compiled.name, node.name, child, max_depth)
          for node, params in nodes for child, max_depth in sub_workflows(params)),
        *(Call(compiled.name, node.name, child, None, by_tool=True)
          for node, params in nodes for child in tool_workflows(params)),
    ]


def compile_project(documents: Iterable[Any]) -> dict[str, CompiledWorkflow]:
    """Compile workflow documents together, by name; raises ``WorkflowInvalid`` listing
    every problem of every workflow (each naming its workflow) and of the call graph."""
    compiled: dict[str, CompiledWorkflow] = {}
    problems: list[Problem] = []
    invalid: set[str] = set()
    for document in documents:
        name = document.get("name") if isinstance(document, dict) else None
        try:
            workflow = compile_workflow(document)
        except WorkflowInvalid as exc:
            problems += [replace(p, workflow=p.workflow or name) for p in exc.problems]
            if isinstance(name, str):
                invalid.add(name)
            continue
        if workflow.name in compiled:
            problems.append(Problem(None, "name", f"two workflows are named {workflow.name!r}",
                                    "duplicate", workflow.name))
            continue
        compiled[workflow.name] = workflow
    problems += call_graph_problems(compiled, known=set(compiled) | invalid)
    if problems:
        raise WorkflowInvalid(problems)
    return compiled


def call_graph_problems(compiled: dict[str, CompiledWorkflow],
                        known: set[str] | None = None) -> list[Problem]:
    """Unknown children, recursive calls and chains deeper than their limit."""
    known = set(compiled) if known is None else known
    calls = [call for workflow in compiled.values() for call in calls_of(workflow)]
    problems = [
        Problem(call.node, _FIELD, f"runs unknown workflow {call.child!r} (known: "
                f"{', '.join(sorted(known)) or 'none'})", "unknown_workflow", call.workflow)
        for call in calls if call.child not in known
    ]
    calls = [call for call in calls if call.child in compiled and not call.by_tool]
    cyclic = _cyclic_calls(sorted(compiled), calls)
    for call, chain in cyclic.items():
        problems.append(Problem(call.node, _FIELD, "recursive sub-workflow call: "
                                + " -> ".join(chain), "recursion", call.workflow))
    problems += _depth_problems(sorted(compiled), [c for c in calls if c not in cyclic])
    return problems


def _cyclic_calls(names: list[str], calls: list[Call]) -> dict[Call, list[str]]:
    """Every call inside a cycle of the call graph, with one chain back to its caller."""
    index = {name: i for i, name in enumerate(names)}
    succs: list[list[int]] = [[] for _ in names]
    for call in calls:
        if index[call.child] not in succs[index[call.workflow]]:
            succs[index[call.workflow]].append(index[call.child])
    found: dict[Call, list[str]] = {}
    for component in strongly_connected_cycles(len(names), succs):
        members = {names[i] for i in component}
        for call in calls:
            if call.workflow in members and call.child in members:
                found[call] = [call.workflow, *_path(call.child, call.workflow, calls, members)]
    return found


def _path(start: str, goal: str, calls: list[Call], members: set[str]) -> list[str]:
    """Shortest chain of workflow names from ``start`` to ``goal`` inside ``members``."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        if name == goal:
            break
        for call in calls:
            if call.workflow == name and call.child in members and call.child not in previous:
                previous[call.child] = name
                queue.append(call.child)
    chain: list[str] = []
    step: str | None = goal
    while step is not None:
        chain.append(step)
        step = previous.get(step)
    return chain[::-1]


def _depth_problems(names: list[str], calls: list[Call]) -> list[Problem]:
    """Walk every call chain from every workflow (as a root, depth 0) and report each call
    that would start a child deeper than the limit in force (the default, tightened by
    every ``maxDepth`` on the chain: a node's limit counts levels below its workflow)."""
    by_caller: dict[str, list[Call]] = {}
    for call in calls:
        by_caller.setdefault(call.workflow, []).append(call)
    problems: dict[tuple[str, str], Problem] = {}
    seen: set[tuple[str, int, int]] = set()
    stack: list[tuple[str, int, int, tuple[str, ...]]] = [
        (name, 0, SUBWORKFLOW_MAX_DEPTH, (name,)) for name in reversed(names)]
    while stack:
        workflow, depth, limit, chain = stack.pop()
        if (workflow, depth, limit) in seen:
            continue
        seen.add((workflow, depth, limit))
        for call in by_caller.get(workflow, []):
            child_limit = limit if call.max_depth is None else min(limit,
                                                                   depth + call.max_depth)
            if depth + 1 > child_limit:
                problems.setdefault((call.workflow, call.node), Problem(
                    call.node, _FIELD,
                    f"runs {call.child!r} at depth {depth + 1}, beyond the depth limit "
                    f"{child_limit} (chain: {' -> '.join((*chain, call.child))})",
                    "depth", call.workflow))
            else:
                stack.append((call.child, depth + 1, child_limit, (*chain, call.child)))
    return list(problems.values())


def load_project(path: str | Path, directory: str | Path | None = None) -> list[Any]:
    """The document at ``path`` and every workflow it needs (transitively), found by
    ``name`` among the ``*.yaml``/``*.yml``/``*.json`` files of ``directory`` (default:
    the file's own). Files that do not parse are skipped; a needed name found in two files
    is reported by ``compile_project`` as a duplicate."""
    path = Path(path)
    root = load_file(path)
    folder = Path(directory) if directory is not None else path.parent
    by_name: dict[str, list[Any]] = {}
    for candidate in sorted(folder.iterdir()):
        if candidate.suffix not in WORKFLOW_SUFFIXES or not candidate.is_file() or \
                candidate.resolve() == path.resolve():
            continue
        try:
            document = load_file(candidate)
        except WorkflowInvalid:
            continue
        name = workflow_name(document)
        if name is not None:
            by_name.setdefault(name, []).append(document)
    documents = [root]
    wanted = deque(child_names(root))
    taken = {workflow_name(root)}
    while wanted:
        name = wanted.popleft()
        if name in taken:
            continue
        taken.add(name)
        for document in by_name.get(name, []):
            documents.append(document)
            wanted.extend(child_names(document))
    return documents


def _as_sfnflow(document: Any) -> Any:
    """sfnflow's shape of a document as loaded: an n8n export is converted (its name made
    a workflow name, its Execute Workflow nodes sfnflow's), anything else is unchanged."""
    from compiler.n8n.loading import as_workflow_document

    return as_workflow_document(document)[0]


def workflow_name(document: Any) -> str | None:
    """The name a (not yet validated) document deploys under, n8n's exports included."""
    document = _as_sfnflow(document)
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) else None


def child_names(document: Any) -> list[str]:
    """Names of the workflows a (not yet validated) document runs, n8n's exports included."""
    document = _as_sfnflow(document)
    nodes = document.get("nodes") if isinstance(document, dict) else None
    names = []
    for node in nodes if isinstance(nodes, list) else []:
        parameters = node.get("parameters") if isinstance(node, dict) else None
        if not isinstance(parameters, dict):
            continue
        targets: list[Any]
        if node.get("type") == "executeWorkflow":
            targets = [parameters]
        elif node.get("type") == "agent":  # sub-workflow tools (compiler.ai_params)
            tools = parameters.get("tools")
            targets = tools if isinstance(tools, list) else []
        elif node.get("type") == "tool":
            targets = [parameters.get("tool")]
        else:
            continue
        for target in targets:
            child = target.get("workflow") if isinstance(target, dict) else None
            if isinstance(child, str):
                names.append(child)
    return names
