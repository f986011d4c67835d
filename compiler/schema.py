"""The JSON Schema of workflow documents, with each node type's parameters spelled out."""

from __future__ import annotations

from typing import Any

from compiler.model import Workflow
from compiler.n8n.catalogue import REGION_TYPE
from compiler.nodetypes import NODE_TYPES

#: types the compiler makes and a document may not use (``compiler.n8n.cycles``)
COMPILER_MADE = frozenset({REGION_TYPE})


def workflow_schema() -> dict[str, Any]:
    schema = Workflow.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    variants = []
    types = {name: spec for name, spec in NODE_TYPES.items() if name not in COMPILER_MADE}
    for name, spec in sorted(types.items()):
        params_schema = spec.params.model_json_schema()
        defs.update(params_schema.pop("$defs", {}))
        defs[f"{name}Parameters"] = params_schema
        variants.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {"properties": {"parameters": {"$ref": f"#/$defs/{name}Parameters"}}},
        })
    node = defs["Node"]
    node["properties"]["type"]["enum"] = sorted(types)
    node["allOf"] = variants
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sfnflow workflow"
    return schema
