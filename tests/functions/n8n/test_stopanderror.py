"""Stop and Error v1 (functions.n8n.stopanderror): n8n's messages, recorded on n8n 1.123's
engine (/work/peer), and the error type sfnflow's own stopAndError node uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.errors import StoppedByNode
from functions.n8n import NodeCall, NodeParameterError, run_node
from functions.n8n.stopanderror import UserThrownError
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.functions.nodes.test_n8n import event

STOP = "n8n-nodes-base.stopAndError"


def raised(**parameters: Any) -> UserThrownError:
    call = NodeCall(node="Stop", type_version=1, parameters=parameters,
                    inputs=[[{"json": {"a": 1}}]])
    with pytest.raises(UserThrownError) as caught:
        run_node(STOP, call)
    return caught.value


def test_the_message_is_the_error_and_the_type_is_sfnflows_stop() -> None:
    error = raised(errorMessage="halt")
    assert (str(error), error.node, error.error_type) == ("halt", "Stop", "Sfnflow.StoppedByNode")
    assert isinstance(error, StoppedByNode)
    assert str(raised()) == ""  # errorType defaults to errorMessage, whose default is ""


@pytest.mark.parametrize(("obj", "message"), [  # n8n 1.123's messages for these objects
    ({"code": "404", "description": "not fetched", "type": "Fetch"}, "not fetched"),
    ({"code": 1}, 'Error: {"code":1}'),
    ({"message": "", "error": "boom", "description": "d"}, "d"),
    ({"message": 3, "error": "boom"}, "boom"),
    ({"message": "m", "description": "d"}, "m"),
])
def test_an_error_object_gives_n8ns_message(obj: dict[str, Any], message: str) -> None:
    error = raised(errorType="errorObject", errorObject=json.dumps(obj))
    assert str(error) == message
    assert error.metadata == obj


def test_an_error_object_keeps_its_description_and_type() -> None:
    error = raised(errorType="errorObject",
                   errorObject='{"code": "404", "description": "not fetched", "type": "Fetch"}')
    assert (error.description, error.kind) == ("not fetched", "Fetch")


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_an_error_object_that_is_not_an_object_names_the_parameter(text: str) -> None:
    call = NodeCall(node="Stop", type_version=1,
                    parameters={"errorType": "errorObject", "errorObject": text})
    with pytest.raises(NodeParameterError) as caught:
        run_node(STOP, call)
    assert caught.value.parameter == "errorObject"


def test_the_runner_fails_with_the_evaluated_message(cloud: LocalCloud) -> None:
    parameters = {"errorMessage": "=halt {{ $json.a + 1 }}"}
    with pytest.raises(StoppedByNode, match="^halt 2$") as caught:
        NodeRunner(cloud.repository).run(event(STOP, "Stop", parameters, [{"a": 1}],
                                                outputs=[]))
    assert caught.value.error_type == "Sfnflow.StoppedByNode"
