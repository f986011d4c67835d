"""``sfnflow schema``: every node type a document may use, and none the compiler makes."""

from __future__ import annotations

from compiler.n8n.catalogue import N8N_CODE, REGION_TYPE
from compiler.nodetypes import NODE_TYPES
from compiler.schema import workflow_schema


def test_the_schema_lists_the_document_types_and_not_the_compilers_own() -> None:
    schema = workflow_schema()
    listed = set(schema["$defs"]["Node"]["properties"]["type"]["enum"])
    assert {"manualTrigger", "httpRequest", N8N_CODE} <= listed
    assert REGION_TYPE not in listed  # a contracted n8n loop: validation refuses it too
    assert listed == set(NODE_TYPES) - {REGION_TYPE}
    assert f"{REGION_TYPE}Parameters" not in schema["$defs"]
