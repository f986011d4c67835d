"""compiler.n8n.document: n8n's exported JSON to sfnflow's document and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.n8n import from_n8n, is_n8n, to_n8n, workflow_name

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "n8n-conformance" / "workflows"
CORPUS_FILES = sorted(CORPUS.glob("*/*.json")) if CORPUS.is_dir() else []


def n8n_node(name: str, node_type: str = "n8n-nodes-base.noOp", **extra: Any) -> dict[str, Any]:
    return {"parameters": {}, "id": f"id-{name}", "name": name, "type": node_type,
            "typeVersion": 1, "position": [0, 0], **extra}


def link(*targets: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"node": node, "type": "main", "index": index} for node, index in targets]


IF_AND_MERGE = {
    "name": "If then merge (copy)",
    "nodes": [n8n_node("Start", "n8n-nodes-base.manualTrigger"),
              n8n_node("If", "n8n-nodes-base.if", typeVersion=2),
              n8n_node("Merge", "n8n-nodes-base.merge", typeVersion=2.1)],
    "connections": {"Start": {"main": [link(("If", 0))]},
                    "If": {"main": [link(("Merge", 0)), link(("Merge", 1))]}},
    "settings": {"executionOrder": "v1", "saveManualExecutions": True,
                 "executionTimeout": 120},
    "pinData": {"Merge": [{"json": {"a": 1}}]},
    "id": "wf1", "active": False, "tags": [],
}


def test_connections_become_one_edge_per_target_with_output_and_input_indexes() -> None:
    document = from_n8n(IF_AND_MERGE).document
    assert document["connections"] == [
        {"from": "Start", "to": "If"},
        {"from": "If", "to": "Merge"},
        {"from": "If", "to": "Merge", "output": 1, "input": 1},
    ]


def test_types_versions_and_parameters_are_kept_verbatim() -> None:
    (start, if_node, merge) = from_n8n(IF_AND_MERGE).document["nodes"]
    assert if_node["type"] == "n8n-nodes-base.if" and if_node["typeVersion"] == 2
    assert merge["typeVersion"] == 2.1 and merge["parameters"] == {}
    assert start["editor"] == {"id": "id-Start", "position": [0, 0]}


def test_settings_pins_and_name_are_mapped_and_the_rest_kept_for_the_editor() -> None:
    document = from_n8n(IF_AND_MERGE).document
    assert document["name"] == "If-then-merge-copy"
    assert document["settings"] == {"executionOrder": "v1", "timeoutSeconds": 120}
    assert document["pinData"] == {"Merge": [{"a": 1}]}
    assert document["editor"] == {"id": "wf1", "active": False, "tags": [],
                                  "name": "If then merge (copy)",
                                  "settings": {"saveManualExecutions": True}}


def test_export_gives_the_n8n_document_back() -> None:
    assert to_n8n(from_n8n(IF_AND_MERGE).document) == IF_AND_MERGE


def test_continue_on_fail_is_read_as_n8n_reads_it() -> None:
    node = from_n8n({"nodes": [n8n_node("A", continueOnFail=True)],
                     "connections": {}}).document["nodes"][0]
    assert node["onError"] == "continueRegularOutput" and "editor" in node
    assert "continueOnFail" not in node["editor"]


def test_retry_flags_become_a_policy_and_a_sub_second_wait_is_reported() -> None:
    imported = from_n8n({"nodes": [n8n_node("A", retryOnFail=True, maxTries=5,
                                            waitBetweenTries=300)], "connections": {}})
    (node,) = imported.document["nodes"]
    assert node["retry"] == {"maxAttempts": 5, "intervalSeconds": 1, "backoffRate": 1.0}
    (problem,) = imported.unsupported
    assert (problem.node, problem.field, problem.code) == ("A", "waitBetweenTries",
                                                          "unsupported")
    assert to_n8n(imported.document)["nodes"][0]["waitBetweenTries"] == 300


def test_what_cannot_be_carried_is_listed_with_node_and_field() -> None:
    imported = from_n8n({
        "nodes": [n8n_node("Agent", "@n8n/n8n-nodes-langchain.agent",
                           credentials={"openAiApi": {"id": "1"}}),
                  n8n_node("Model", "@n8n/n8n-nodes-langchain.lmChatOpenAi")],
        "connections": {"Model": {"ai_languageModel": [link(("Agent", 0))]}},
        "pinData": {"Agent": [{"json": {}, "binary": {"data": {"mimeType": "x"}}}]},
    })
    assert {(p.node, p.field) for p in imported.unsupported} == {
        ("Agent", "credentials"), ("Model", "connections.ai_languageModel"),
        ("Agent", "pinData[0].binary")}


def test_sticky_notes_are_layout_not_nodes() -> None:
    note = n8n_node("Note", "n8n-nodes-base.stickyNote", parameters={"content": "hi"})
    document = from_n8n({"nodes": [n8n_node("A"), note], "connections": {}}).document
    assert [node["name"] for node in document["nodes"]] == ["A"]
    assert document["editor"]["stickyNotes"] == [note]


@pytest.mark.parametrize("document, expected", [
    (IF_AND_MERGE, True),
    ({"nodes": [{"name": "A", "type": "n8n-nodes-base.set"}], "connections": []}, True),
    ({"name": "x", "nodes": [{"name": "A", "type": "set"}], "connections": []}, False),
    ([], False),
])
def test_the_format_is_detected_by_shape(document: Any, expected: bool) -> None:
    assert is_n8n(document) is expected


@pytest.mark.parametrize("name, expected", [
    ("My workflow 2", "My-workflow-2"), ("  ", "imported"), ("ünï", "n"), (None, "imported"),
    ("x" * 100, "x" * 64),
])
def test_workflow_names_are_made_valid(name: Any, expected: str) -> None:
    assert workflow_name(name) == expected


@pytest.mark.skipif(not CORPUS_FILES, reason="the n8n conformance corpus is not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_conformance_workflow_imports_and_exports_back_unchanged(path: Path) -> None:
    original = json.loads(path.read_text())
    imported = from_n8n(original, fallback_name=path.stem)
    assert imported.unsupported == []
    exported = to_n8n(imported.document)
    by_name = {"key": lambda node: node["name"]}  # n8n's node order carries no meaning
    normal = n8n_normal_form(original, exported["name"])
    assert sorted(exported.pop("nodes"), **by_name) == sorted(normal.pop("nodes"), **by_name)
    assert exported == normal


def n8n_normal_form(n8n: dict[str, Any], name: str) -> dict[str, Any]:
    """What export writes for an n8n document: every top-level field n8n's own export
    writes, no outputs without targets, and the legacy continueOnFail as the onError n8n
    reads it as."""
    normal = {"name": name, "settings": {}, "pinData": {}, **n8n}
    for node in normal["nodes"]:
        if node.pop("continueOnFail", False):
            node.setdefault("onError", "continueRegularOutput")
    connections = {}
    for source, kinds in n8n["connections"].items():
        outputs = list(kinds.get("main", []))
        while outputs and not outputs[-1]:
            outputs.pop()
        if outputs:
            connections[source] = {"main": outputs}
    normal["connections"] = connections
    return normal
