"""An n8n HTTP Request with a generic HTTP auth credential (issue 16): the importer maps
n8n's ``credentials`` block (keyed by type, the entry ``genericAuthType`` names) onto the
node's ``credentials`` by name, the compiled Task carries it, and export gives n8n's block
back; what sfnflow cannot honour is a problem naming node and field."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.n8n.document import from_n8n, to_n8n

BASE = "n8n-nodes-base."
HEADER_BLOCK = {"httpHeaderAuth": {"id": "7", "name": "partner-api"}}


def with_http(credentials: Any = None, **parameters: Any) -> dict[str, Any]:
    http: dict[str, Any] = {
        "name": "Call", "type": BASE + "httpRequest", "typeVersion": 4.2, "id": "2",
        "position": [200, 0], "parameters": {"url": "http://127.0.0.1:9/", **parameters}}
    if credentials is not None:
        http["credentials"] = credentials
    return {"name": "keyed", "nodes": [
        {"name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1, "id": "1",
         "position": [0, 0], "parameters": {}}, http],
        "connections": {"Start": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}}}


GENERIC = {"authentication": "genericCredentialType", "genericAuthType": "httpHeaderAuth"}


def problems(document: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(document)
    return [(p.node, p.field) for p in caught.value.problems]


def test_header_auth_becomes_the_nodes_credential_and_travels_in_its_task() -> None:
    compiled = compile_workflow(with_http(HEADER_BLOCK, **GENERIC))
    (call,) = [node for node in compiled.graph.workflow.nodes if node.name == "Call"]
    assert call.credentials is not None
    assert (call.credentials.name, call.credentials.type) == ("partner-api", "httpHeaderAuth")
    assert '"credentials":{"name":"partner-api","type":"httpHeaderAuth"}' in \
        compiled.definition_json().replace(" ", "")


@pytest.mark.parametrize("auth_type", ["httpBearerAuth", "httpBasicAuth", "httpQueryAuth"])
def test_every_http_auth_type_is_read_from_its_own_entry(auth_type: str) -> None:
    """n8n keeps entries of earlier choices in the block: ``genericAuthType`` picks one."""
    block = {**HEADER_BLOCK, auth_type: {"id": "9", "name": "other"}}
    imported = from_n8n(with_http(block, authentication="genericCredentialType",
                                  genericAuthType=auth_type))
    assert imported.unsupported == []
    assert imported.document["nodes"][1]["credentials"] == {"name": "other",
                                                            "type": auth_type}
    assert to_n8n(imported.document)["nodes"][1]["credentials"] == block


def test_a_block_left_from_an_earlier_choice_is_ignored_as_n8n_does() -> None:
    compiled = compile_workflow(with_http(HEADER_BLOCK))  # authentication: none
    assert all(node.credentials is None for node in compiled.graph.workflow.nodes)


def test_what_sfnflow_cannot_use_is_a_problem() -> None:
    assert problems(with_http(None, **GENERIC)) == [("Call", "credentials")]
    assert problems(with_http({"httpHeaderAuth": {"id": "7", "name": "Header Auth account"}},
                              **GENERIC)) == [("Call", "credentials")]
    assert problems(with_http({"httpDigestAuth": {"id": "7", "name": "d"}},
                              authentication="genericCredentialType",
                              genericAuthType="httpDigestAuth")) == [
        ("Call", "credentials"), ("Call", "parameters.genericAuthType")]
    assert problems(with_http({"slackApi": {"id": "7", "name": "s"}},
                              authentication="predefinedCredentialType",
                              nodeCredentialType="slackApi")) == [
        ("Call", "parameters.authentication")]
