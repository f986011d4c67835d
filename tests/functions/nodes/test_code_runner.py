"""The code-runner Lambda (``functions.handlers.code_runner``) and the code node's path
that invokes it when ``SFNFLOW_CODE_RUNNER_ARN`` is set (the deployed stack sets it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from functions.errors import CodeError, NodeError, RateLimited
from functions.handlers import code_runner
from functions.nodes import code as code_node
from local import moto_patches

from .support import run

CONTEXT = SimpleNamespace(function_name="code-runner", memory_limit_in_mb=256,
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:"
                          "function:code-runner", aws_request_id="req-1")
RUNNER = "sfnflow-test-code-runner"
RUNNER_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{RUNNER}"


def test_handler_runs_code_over_items() -> None:
    event = {"code": "return [{'n': i['n'] + 1} for i in items]", "items": [{"n": 1}],
             "node": "Add"}
    assert code_runner.lambda_handler(event, CONTEXT) == {"items": [{"n": 2}]}


def test_handler_raises_with_the_node_error_type_as_lambda_error_type() -> None:
    with pytest.raises(NodeError) as caught:
        code_runner.lambda_handler({"code": "return 1 / 0", "items": [], "node": "Div"}, CONTEXT)
    # the Lambda runtime reports type(exc).__name__ as errorType
    assert type(caught.value).__name__ == "Sfnflow.CodeError"
    assert "code node 'Div': ZeroDivisionError" in str(caught.value)


@pytest.mark.parametrize("event", [{"items": []}, {"code": "return items", "items": {}},
                                   {"code": "return items", "items": [1]}])
def test_handler_rejects_malformed_requests(event: dict) -> None:
    with pytest.raises(NodeError, match="code node"):
        code_runner.run(event)


def test_unknown_runner_errors_are_code_errors() -> None:
    error = code_node.error_from_runner({"errorType": "Sandbox.Timedout", "errorMessage": "t"})
    assert isinstance(error, CodeError)
    assert isinstance(code_node.error_from_runner({"errorType": "Sfnflow.RateLimited"}),
                      RateLimited)


@pytest.fixture
def deployed_runner(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, with invokes of the code runner dispatched in-process to its handler."""
    from moto import mock_aws

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                       "SFNFLOW_CODE_RUNNER_ARN": RUNNER_ARN}.items():
        monkeypatch.setenv(key, value)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    moto_patches.apply_all()
    moto_patches.register_lambda(RUNNER, code_runner.lambda_handler)
    code_node._lambda_client.cache_clear()
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield
    code_node._lambda_client.cache_clear()


def test_code_node_invokes_the_code_runner(deployed_runner: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = code_runner.run
    monkeypatch.setattr(code_runner, "run", lambda event: calls.append(event) or original(event))
    [out] = run("code", {"code": "return [{'double': i['n'] * 2} for i in items]"},
                [{"n": 2}, {"n": 5}])
    assert out == [{"double": 4}, {"double": 10}]
    assert calls == [{"code": "return [{'double': i['n'] * 2} for i in items]",
                      "items": [{"n": 2}, {"n": 5}], "node": "Node"}]


def test_code_runner_errors_keep_their_type(deployed_runner: None) -> None:
    with pytest.raises(CodeError, match=r"code node 'Node': KeyError: 'missing' \(line 1\)"):
        run("code", {"code": "return [{'x': items[0]['missing']}]"}, [{"n": 1}])
