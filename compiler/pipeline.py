"""The compiler pipeline: document -> validated graph -> structured plan -> ASL + manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from compiler.graph import Graph
from compiler.passes.emit import NODE_RUNNER, emit, variable_names
from compiler.passes.structure import Step, structure
from compiler.passes.validate import validate


@dataclass(frozen=True)
class CompiledWorkflow:
    graph: Graph
    plan: Step
    definition: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.graph.workflow.name

    def definition_json(self, substitutions: dict[str, str] | None = None) -> str:
        """The ASL as JSON, with ``${Placeholders}`` replaced when substitutions are given."""
        text = json.dumps(self.definition, indent=2, ensure_ascii=False)
        for key, value in (substitutions or {}).items():
            text = text.replace("${" + key + "}", value)
        return text


def _manifest(graph: Graph, definition: dict[str, Any]) -> dict[str, Any]:
    variables = variable_names(graph)
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    return {
        "workflow": graph.workflow.name,
        "version": digest[:16],
        "substitutions": [NODE_RUNNER[2:-1]],
        "nodes": {
            node.name: {
                "type": node.type,
                "state": node.name,
                "variable": variables[i],
                "outputs": graph.outputs[i],
            }
            for i, node in enumerate(graph.nodes)
        },
        "errorWorkflow": graph.workflow.settings.errorWorkflow,
        "pinData": graph.workflow.pinData,
    }


def compile_workflow(document: Any, weights: list[float] | None = None) -> CompiledWorkflow:
    """Compile a parsed workflow document; raises ``WorkflowInvalid`` listing every problem."""
    graph = validate(document)
    plan = structure(graph, weights)
    definition = emit(graph, plan).to_dict()
    return CompiledWorkflow(graph, plan, definition, _manifest(graph, definition))
