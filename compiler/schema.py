"""The JSON Schema of workflow documents, with each node type's parameters spelled out."""

from __future__ import annotations

from typing import Any

from compiler.model import Workflow
from compiler.nodetypes import NODE_TYPES


def workflow_schema() -> dict[str, Any]:
    schema = Workflow.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    variants = []
    for name, spec in sorted(NODE_TYPES.items()):
        params_schema = spec.params.model_json_schema()
        defs.update(params_schema.pop("$defs", {}))
        defs[f"{name}Parameters"] = params_schema
        variants.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"properties": {"parameters": {"$ref": f"#/$defs/{name}Parameters"}}},
        })
    node = defs["Node"]
    node["properties"]["type"]["enum"] = sorted(NODE_TYPES)
    node["allOf"] = variants
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sfnflow workflow"
    return schema
