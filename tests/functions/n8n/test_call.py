"""NodeCall: parameters read like n8n's getNodeParameter (functions.n8n.call)."""

from __future__ import annotations

import pytest

from functions.n8n.call import Evaluator, NodeCall
from functions.n8n.errors import NodeParameterError


def _call(parameters: dict, evaluate: Evaluator | None = None) -> NodeCall:
    items = [{"json": {"x": 1}}, {"json": {"x": 2}}]
    kwargs = {"evaluate": evaluate} if evaluate else {}
    return NodeCall(node="Node", type_version=1, parameters=parameters, inputs=[items], **kwargs)


def test_expressions_are_evaluated_per_item_and_keep_their_shape() -> None:
    seen = []

    def evaluate(expression: str, item_index: int) -> object:
        seen.append((expression, item_index))
        return item_index * 10

    call = _call({"a": {"b": ["={{ x }}", "plain"]}}, evaluate)
    assert call.parameter("a", 1) == {"b": [10, "plain"]}
    assert seen == [("={{ x }}", 1)]


def test_defaults_and_missing_parameters() -> None:
    call = _call({"options": {}})
    assert call.parameter("options.dotNotation", 0, True) is True
    with pytest.raises(NodeParameterError) as caught:
        call.parameter("values.string")
    assert caught.value.node == "Node" and caught.value.parameter == "values.string"


def test_without_an_engine_only_prefix_expressions_evaluate() -> None:
    call = _call({"key": "=propertyName", "expr": "={{ $json.x }}"})
    assert call.parameter("key") == "propertyName"
    with pytest.raises(NodeParameterError, match="cannot evaluate"):
        call.parameter("expr")


def test_engine_errors_name_node_parameter_and_item() -> None:
    def failing(expression: str, item_index: int) -> object:
        raise RuntimeError("boom")

    with pytest.raises(NodeParameterError) as caught:
        _call({"v": "={{ nope }}"}, failing).parameter("v", 1)
    assert (caught.value.parameter, caught.value.item_index) == ("v", 1)
    assert caught.value.error_type == "N8n.NodeParameterError"
