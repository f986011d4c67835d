"""``credentials: {name, type?}`` on a node: validated with problems naming node and field
(a node type that takes none, an unknown or unaccepted type, a name Secrets Manager
cannot hold), and published in the workflow schema."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.credentials import CREDENTIAL_TYPES, NODE_CREDENTIALS, name_problem
from compiler.errors import WorkflowInvalid
from compiler.passes.validate import validate
from compiler.schema import workflow_schema


def document(node_type: str, credentials: Any) -> dict[str, Any]:
    return {"name": "w", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Call", "type": node_type, "credentials": credentials,
         "parameters": {"url": "http://x"} if node_type == "httpRequest" else {}}],
        "connections": [{"from": "Start", "to": "Call"}]}


@pytest.mark.parametrize(("node_type", "credentials", "field", "message"), [
    ("noOp", {"name": "api"}, "credentials", "a noOp node takes no credentials"),
    ("httpRequest", {"name": "api", "type": "postgres"}, "credentials",
     "takes credentials of type httpHeaderAuth"),
    ("httpRequest", {"name": "api", "type": "smtp"}, "credentials",
     "unknown credential type 'smtp'"),
    ("httpRequest", {"name": "a/b"}, "credentials.name", "no '/'"),
    ("httpRequest", {"name": ""}, "credentials.name", "use 1-128"),
    ("httpRequest", {"name": "api", "value": "x"}, "credentials.value", "Extra inputs"),
])
def test_problems_name_node_and_field(node_type: str, credentials: Any, field: str,
                                      message: str) -> None:
    with pytest.raises(WorkflowInvalid) as invalid:
        validate(document(node_type, credentials))
    assert [(p.node, p.field) for p in invalid.value.problems] == [("Call", field)]
    assert message in invalid.value.problems[0].message


def test_an_accepted_credential_validates() -> None:
    graph = validate(document("httpRequest", {"name": "partner-header",
                                              "type": "httpBasicAuth"}))
    node = graph.workflow.nodes[1]
    assert node.credentials is not None and node.credentials.name == "partner-header"


def test_every_accepted_type_is_known_and_the_schema_has_the_field() -> None:
    assert all(set(types) <= set(CREDENTIAL_TYPES) for types in NODE_CREDENTIALS.values())
    assert "credentials" in workflow_schema()["$defs"]["Node"]["properties"]
    assert name_problem("x" * 128) is None and name_problem("x" * 129) is not None


@pytest.mark.parametrize(("block", "auth_type", "ref", "problem"), [
    ({"httpHeaderAuth": {"id": "7", "name": "partner-api"}}, "httpHeaderAuth",
     {"name": "partner-api", "type": "httpHeaderAuth"}, None),
    ({"httpBasicAuth": {"id": "7", "name": "intranet"}}, None,
     {"name": "intranet", "type": "httpBasicAuth"}, None),
    ({"httpHeaderAuth": {"id": "7", "name": "Header Auth account"}}, "httpHeaderAuth",
     None, "rename the credential"),
    ({"slackApi": {"id": "7", "name": "slack"}}, None, None, "not one sfnflow stores"),
    ({"httpHeaderAuth": {"name": "a"}, "httpQueryAuth": {"name": "b"}}, None, None,
     "several credentials"),
    ({}, None, None, None),
])
def test_an_n8n_credentials_block_maps_to_a_name_and_type(
        block: Any, auth_type: str | None, ref: Any, problem: str | None) -> None:
    from compiler.credentials import from_n8n

    mapped, found = from_n8n(block, auth_type)
    assert mapped == ref
    assert (found is None) == (problem is None) and (problem or "") in (found or "")


def test_a_node_that_needs_a_credential_is_refused_without_one() -> None:
    """A postgres node cannot connect without one: refused at compile time, naming the
    field, not when it first runs."""
    doc = document("postgres", None)
    del doc["nodes"][1]["credentials"]
    doc["nodes"][1]["parameters"] = {"operation": "upsert", "table": "orders",
                                     "columns": ["id"], "matchColumns": ["id"]}
    with pytest.raises(WorkflowInvalid) as invalid:
        validate(doc)
    assert [(p.node, p.field) for p in invalid.value.problems] == [("Call", "credentials")]
    assert "needs credentials" in invalid.value.problems[0].message
    doc["nodes"][1]["credentials"] = {"name": "warehouse"}
    assert validate(doc).workflow.nodes[1].credentials is not None
