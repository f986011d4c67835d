"""n8n's exported JSON is accepted wherever a document is: converted, checked, compiled."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from compiler.passes.validate import validate

BASE = "n8n-nodes-base."


def n8n_document(*nodes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A manual trigger feeding ``nodes`` in a chain, in n8n's exported shape."""
    chain = [{"name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1,
              "parameters": {}, "id": "1", "position": [0, 0]}, *nodes]
    connections = {
        source["name"]: {"main": [[{"node": target["name"], "type": "main", "index": 0}]]}
        for source, target in zip(chain, chain[1:], strict=False)}
    return {"name": "My flow", "nodes": chain, "connections": connections, **extra}


def set_node(name: str = "Set", version: float = 3.4, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": BASE + "set", "typeVersion": version, "position": [1, 1],
            "parameters": {"assignments": {"assignments": [
                {"name": "b", "type": "number", "value": "={{ $json.a * 2 }}"}]}}, **extra}


def problems(document: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        validate(document)
    return [(p.node, p.field) for p in caught.value.problems]


def test_an_exported_n8n_workflow_validates_as_it_is() -> None:
    graph = validate(n8n_document(set_node(), settings={"executionOrder": "v1"}))
    assert [node.type for node in graph.nodes] == [BASE + "manualTrigger", BASE + "set"]
    assert graph.nodes[1].typeVersion == 3.4
    assert graph.workflow.name == "My-flow"
    assert graph.workflow.settings.executionOrder == "v1"
    assert graph.nodes[1].editor == {"position": [1, 1]}


def test_an_unknown_type_or_version_names_the_node_and_field() -> None:
    document = n8n_document(set_node(version=9),
                            {"name": "Debug", "type": BASE + "debugHelper", "typeVersion": 1})
    assert problems(document) == [("Debug", "type"), ("Set", "typeVersion")]


def test_what_would_change_behaviour_is_a_problem() -> None:
    document = n8n_document(set_node(credentials={"httpBasicAuth": {"id": "1"}}))
    assert problems(document) == [("Set", "credentials")]


def test_what_changes_nothing_is_a_note_in_the_manifest() -> None:
    compiled = compile_workflow(n8n_document(set_node(retryOnFail=True,
                                                      waitBetweenTries=1500)))
    assert len(compiled.manifest["notes"]) == 1
    assert "1500 ms between tries becomes 2 s" in compiled.manifest["notes"][0]


def test_the_runner_gets_version_flags_and_connections() -> None:
    compiled = compile_workflow(n8n_document(set_node(alwaysOutputData=True),
                                             settings={"timezone": "Europe/Berlin"}))
    node = compiled.definition["States"]["Set"]["Arguments"]["node"]
    assert (node["typeVersion"], node["alwaysOutputData"], node["executeOnce"]) == \
        (3.4, True, False)
    context = json.loads(node["n8n"])
    assert context["connections"] == {
        "Start": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}}
    assert (context["timezone"], context["executionOrder"]) == ("Europe/Berlin", "v0")


def test_sfnflow_documents_are_not_touched() -> None:
    graph = validate({"name": "wf", "nodes": [{"name": "T", "type": "manualTrigger"}]})
    assert graph.notes == [] and graph.nodes[0].typeVersion is None


def loop_document(version: float, **parameters: Any) -> dict[str, Any]:
    """Start -> Loop; Loop's loop port -> Body -> back to Loop (n8n's Loop Over Items)."""
    loop = {"name": "Loop", "type": BASE + "splitInBatches", "typeVersion": version,
            "parameters": parameters}
    body = {"name": "Body", "type": BASE + "noOp", "typeVersion": 1, "parameters": {}}
    document = n8n_document(loop, body)
    loop_port = 1 if version >= 3 else 0
    ports: list[list[dict[str, Any]]] = [[], []]
    ports[loop_port] = [{"node": "Body", "type": "main", "index": 0}]
    document["connections"]["Loop"] = {"main": ports}
    document["connections"]["Body"] = {"main": [[{"node": "Loop", "type": "main",
                                                  "index": 0}]]}
    return document


def test_loop_over_items_v3_is_a_map_over_batches_of_one() -> None:
    compiled = compile_workflow(loop_document(3))
    assert compiled.definition["States"]["Loop"]["Type"] == "Map"
    assert compiled.graph.params[1].batchSize == 1  # n8n's default for v3
    assert compile_workflow(loop_document(3, batchSize=5)).graph.params[1].batchSize == 5


def test_older_loops_run_whole_and_what_a_map_cannot_do_is_refused_by_field() -> None:
    """v1/v2 loops are one node-runner Task each (``compiler.n8n.cycles``)."""
    states = compile_workflow(loop_document(2)).definition["States"]
    assert states["Loop (n8n loop)"]["Type"] == "Task" and "Loop" not in states
    assert problems(loop_document(3, batchSize="={{ 2 }}", options={"reset": True})) == [
        ("Loop", "parameters.batchSize"), ("Loop", "parameters.options.reset")]


def test_an_unknown_code_language_and_an_unknown_time_zone_are_refused() -> None:
    """A Code node language sfnflow has no runtime for is refused, naming the field."""
    code = {"name": "Rb", "type": BASE + "code", "typeVersion": 2,
            "parameters": {"language": "ruby", "rubyCode": "_input.all"}}
    document = n8n_document(code, settings={"timezone": "Mars/Olympus"})
    assert problems(document) == [(None, "settings.timezone")]  # the shape comes first
    document["settings"] = {"timezone": "Europe/Berlin"}
    assert problems(document) == [("Rb", "parameters.language")]


@pytest.mark.parametrize("language", ["javaScript", "python", "pythonNative"])
def test_code_nodes_in_javascript_and_python_validate(language: str) -> None:
    """JavaScript runs on QuickJS, Python (n8n's `_input`, `_json`) in the code sandbox."""
    code = {"name": "Code", "type": BASE + "code", "typeVersion": 2,
            "parameters": {"language": language, "pythonCode": "return _input.all()",
                           "jsCode": "return $input.all()"}}
    graph = validate(n8n_document(code))
    assert [n.parameters.get("language") for n in graph.nodes if n.name == "Code"] == [language]


def test_parameter_values_sfnflow_does_not_run_are_refused_naming_the_field() -> None:
    """They compiled and then failed when the node ran (NodeParameterError)."""
    http = {"name": "Call", "type": BASE + "httpRequest", "typeVersion": 4.2, "parameters": {
        "url": "https://example.com", "authentication": "predefinedCredentialType",
        "contentType": "multipart-form-data",
        "options": {"response": {"response": {"responseFormat": "file"}}}}}
    assert sorted(problems(n8n_document(http))) == [
        ("Call", "parameters.authentication"), ("Call", "parameters.contentType"),
        ("Call", "parameters.options.response.response.responseFormat")]
    crypto = {"name": "Sign", "type": BASE + "crypto", "typeVersion": 1,
              "parameters": {"action": "sign", "binaryData": True}}
    assert sorted(problems(n8n_document(crypto))) == [
        ("Sign", "parameters.action"), ("Sign", "parameters.binaryData")]
    http["parameters"] = {"url": "https://example.com", "authentication": "none"}
    validate(n8n_document(http))
