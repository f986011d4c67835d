"""The package's dispatch table (functions.n8n.NODES / run_node)."""

from __future__ import annotations

import pytest

from functions.n8n import NODES, NodeCall, NodeParameterError, run_node


def test_every_core_node_of_the_corpus_is_registered() -> None:
    for name in ("set", "if", "filter", "switch", "merge", "splitOut", "sort", "limit",
                 "removeDuplicates", "aggregate", "summarize", "renameKeys", "noOp"):
        assert f"n8n-nodes-base.{name}" in NODES
    assert "n8n-nodes-testing.testData" in NODES


def test_unknown_types_are_parameter_errors_naming_the_node() -> None:
    with pytest.raises(NodeParameterError) as caught:
        run_node("n8n-nodes-base.unknown", NodeCall(node="X", type_version=1, parameters={}))
    assert caught.value.node == "X"


def test_test_data_accepts_lists_objects_and_json_text() -> None:
    def emit(data: object) -> list:
        call = NodeCall(node="D", type_version=1, parameters={"data": data})
        return [it["json"] for it in run_node("n8n-nodes-testing.testData", call)[0]]

    assert emit([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    assert emit({"a": 1}) == [{"a": 1}]
    assert emit('[{"a": 3}]') == [{"a": 3}]
    with pytest.raises(NodeParameterError):
        emit("not json")
