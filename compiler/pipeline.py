"""The compiler pipeline: document -> validated graph -> decisions and the structured plan
they shape (``compiler.passes.decide``) -> ASL + manifest."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from compiler.asl import PARTITION_SUBSTITUTION
from compiler.errors import WorkflowInvalid
from compiler.graph import Graph
from compiler.history import history_problems
from compiler.lowering.quorum import QUORUM_TABLE_SUBSTITUTION, uses_quorums
from compiler.lowering.subworkflow import substitution_key
from compiler.lowering.task import NODE_RUNNER
from compiler.lowering.variables import variable_problems
from compiler.naming import variable_names
from compiler.nodetypes import ExecuteWorkflowParams
from compiler.passes.decide import Decisions, decide, has_flows
from compiler.passes.emit import emit
from compiler.passes.structure import Step, race_problems
from compiler.passes.validate import validate
from compiler.triggers import manifest_tags, manifest_triggers, trigger_problems


@dataclass(frozen=True)
class CompiledWorkflow:
    graph: Graph
    plan: Step
    definition: dict[str, Any]
    manifest: dict[str, Any]
    decisions: Decisions  # every choice and its reason; the plans of every region

    @property
    def loop_plans(self) -> dict[int | None, Step]:
        """The plan of every region: the workflow's (None), every loop body's by loop node."""
        return dict(self.decisions.plans)

    @property
    def name(self) -> str:
        return self.graph.workflow.name

    def definition_json(
        self, substitutions: dict[str, str] | None = None, *, indent: int | None = None
    ) -> str:
        """The ASL as JSON (compact unless ``indent``: Step Functions caps definitions at
        1 MB), with ``${Placeholders}`` replaced when substitutions are given."""
        separators = (",", ":") if indent is None else None
        text = json.dumps(self.definition, indent=indent, separators=separators,
                          ensure_ascii=False)
        for key, value in (substitutions or {}).items():
            text = text.replace("${" + key + "}", value)
        return text


def sub_workflows(params: Any) -> list[tuple[str, int | None]]:
    """The workflows an executeWorkflow node's parameters run, with its depth limit."""
    if isinstance(params, ExecuteWorkflowParams):
        return [(params.workflow, params.maxDepth)]
    return []


def tool_workflows(params: Any) -> list[str]:
    """The sub-workflow tools of an agent or tool node's parameters. The node runner
    starts them as child executions, so they must be deployed (and granted) with the
    workflow; but a tool runs only when the model or the item asks, so a tool that leads
    back to its own workflow is bounded by the run-time depth limit, not refused."""
    from compiler.ai_params import AgentParams, ToolParams  # deferred, as nodetypes does

    tools = params.tools if isinstance(params, AgentParams) \
        else [params.tool] if isinstance(params, ToolParams) else []
    return [tool.workflow for tool in tools if tool.workflow is not None]


def _children(graph: Graph) -> dict[str, dict[str, Any]]:
    """Workflows this one runs (executeWorkflow, sub-workflow tools): their ARN's
    substitution key and callers."""
    children: dict[str, dict[str, Any]] = {}
    for node, params in zip(graph.nodes, graph.params, strict=True):
        if node.disabled:
            continue
        tools = [name for name in tool_workflows(params) if name != graph.workflow.name]
        for name in [name for name, _ in sub_workflows(params)] + tools:
            child = children.setdefault(name, {
                "substitution": substitution_key(name), "nodes": []})
            if node.name not in child["nodes"]:
                child["nodes"].append(node.name)
    return children


def _manifest(graph: Graph, definition: dict[str, Any], decisions: Decisions
              ) -> dict[str, Any]:
    variables = variable_names(graph)
    states = {node: graph.name(chain.members[0])  # a fused chain's Task: its first node's
              for chain in decisions.fused for node in chain.members}
    children = _children(graph)
    # Emission is deterministic (key order included), so the JSON needs no sorting.
    digest = hashlib.sha256(json.dumps(definition).encode()).hexdigest()
    return {
        "workflow": graph.workflow.name,
        "version": digest[:16],
        "substitutions": [NODE_RUNNER[2:-1], PARTITION_SUBSTITUTION,
                          *(c["substitution"] for c in children.values()),
                          *([QUORUM_TABLE_SUBSTITUTION] if uses_quorums(graph) else [])],
        "children": children,
        "nodes": {
            node.name: {
                "type": node.type,
                "state": states.get(i, node.name),
                "variable": variables[i],
                "outputs": graph.outputs[i],
            }
            for i, node in enumerate(graph.nodes)
        },
        "errorWorkflow": graph.workflow.settings.errorWorkflow,
        "tags": manifest_tags(graph),
        "triggers": manifest_triggers(graph),
        "pinData": graph.workflow.pinData,
        "notes": [str(note) for note in graph.notes],
    }


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Compiling allocates many small acyclic objects; cyclic GC passes over them made
    compile time grow ~20x per 10x nodes instead of ~10x. Reference counting still frees
    everything; the collector runs again as soon as the compile returns."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_workflow(document: Any, weights: list[float] | None = None) -> CompiledWorkflow:
    """Compile a parsed workflow document; raises ``WorkflowInvalid`` listing every problem."""
    with _gc_paused():
        graph = validate(document)
        decisions = decide(graph, weights)
        plans = dict(decisions.plans)
        problems = (race_problems(graph, plans) + variable_problems(graph, decisions.plan)
                    + trigger_problems(graph) + history_problems(graph, decisions))
        if problems:
            raise WorkflowInvalid(problems)
        definition = emit(decisions).to_dict()
        if graph.workflow.settings.rendezvous == "auto" and has_flows(decisions) \
                and _too_large(definition):
            decisions = decide(graph, weights, flows="never")
            definition = emit(decisions).to_dict()
        return CompiledWorkflow(graph, decisions.plan, definition,
                                _manifest(graph, definition, decisions), decisions)


def _too_large(definition: dict[str, Any]) -> bool:
    """``rendezvous: auto`` gives up its Flows (~1.5 KB more per node) when they would push
    the definition past Step Functions' limit (``compiler.limits``) and plain cuts fit."""
    from compiler.limits import MAX_DEFINITION_BYTES, definition_bytes

    return definition_bytes(definition) > MAX_DEFINITION_BYTES
