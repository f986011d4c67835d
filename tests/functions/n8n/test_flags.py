"""Node-level flags around any node function (functions.n8n.flags)."""

from __future__ import annotations

from functions.n8n import NODES, NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.flags import run_with_flags


def _call(rows: list[dict]) -> NodeCall:
    items = [{"json": row, "pairedItem": {"item": i}} for i, row in enumerate(rows)]
    return NodeCall(node="N", type_version=1, parameters={}, inputs=[items])


def test_execute_once_keeps_the_first_item() -> None:
    outputs = run_with_flags(NODES["n8n-nodes-base.noOp"], _call([{"a": 1}, {"a": 2}]),
                             {"executeOnce": True})
    assert [it["json"] for it in outputs[0]] == [{"a": 1}]


def test_always_output_data_turns_nothing_into_one_empty_item() -> None:
    outputs = run_with_flags(lambda call: [[], call.items], _call([{"a": 1}]),
                             {"alwaysOutputData": True})
    assert outputs[0] == [{"json": {}, "pairedItem": [{"item": 0, "input": 0}]}]
    assert len(outputs[1]) == 1


def test_continue_on_fail_passes_input_zero_through() -> None:
    def failing(call: NodeCall) -> list[list[dict]]:
        raise NodeOperationError(call.node, "broken")

    call = _call([{"a": 1}])
    assert run_with_flags(failing, call, {"onError": "continueRegularOutput"}) == [call.items]
    try:
        run_with_flags(failing, call, {})
    except NodeOperationError as exc:
        assert exc.message == "broken"
    else:
        raise AssertionError("the error must propagate without the flag")
