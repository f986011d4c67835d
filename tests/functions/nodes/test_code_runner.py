"""The code-runner Lambda (``functions.handlers.code_runner``) and the code node's path
that invokes it when ``SFNFLOW_CODE_RUNNER_ARN`` is set (the deployed stack sets it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from functions.config import Config
from functions.errors import CodeError, NodeError, NodeTimeout, RateLimited
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
    monkeypatch.setattr(code_runner, "run",
                        lambda event, *rest: calls.append(event) or original(event, *rest))
    [out] = run("code", {"code": "return [{'double': i['n'] * 2} for i in items]"},
                [{"n": 2}, {"n": 5}])
    assert out == [{"double": 4}, {"double": 10}]
    assert calls == [{"code": "return [{'double': i['n'] * 2} for i in items]",
                      "items": [{"n": 2}, {"n": 5}], "node": "Node"}]


def test_code_runner_errors_keep_their_type(deployed_runner: None) -> None:
    with pytest.raises(CodeError, match=r"code node 'Node': KeyError: 'missing' \(line 1\)"):
        run("code", {"code": "return [{'x': items[0]['missing']}]"}, [{"n": 1}])


# ------------------------------------------------- the invoke's timeout and retries (item 4)


class FakeLambda:
    """A loopback HTTP server standing in for Lambda's Invoke endpoint: counts requests and
    answers each with ``answer`` (``"throttle"``, ``"error"``) or stalls (``"stall"``) until
    released."""

    def __init__(self, answer: str) -> None:
        import http.server
        import threading

        self.answer, self.requests, self.release = answer, 0, threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests += 1
                if fake.answer == "stall":
                    fake.release.wait(5)
                    return
                status, error = ((429, "TooManyRequestsException") if fake.answer == "throttle"
                                 else (500, "ServiceException"))
                body = b'{"Type": "Service", "message": "no"}'
                self.send_response(status)
                self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[FakeLambda] = []

    def start(answer: str) -> FakeLambda:
        server = FakeLambda(answer)
        servers.append(server)
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_LAMBDA": server.url,
                           "SFNFLOW_CODE_RUNNER_ARN": RUNNER_ARN,
                           "SFNFLOW_CODE_RUNNER_TIMEOUT": "300"}.items():
            monkeypatch.setenv(key, value)
        code_node._lambda_client.cache_clear()
        return server

    yield start
    code_node._lambda_client.cache_clear()
    for server in servers:
        server.close()


def test_the_invoke_waits_past_the_code_runners_timeout_and_never_retries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFNFLOW_CODE_RUNNER_TIMEOUT", "300")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    code_node._lambda_client.cache_clear()
    try:
        config = Config.from_env()
        client = code_node._lambda_client(config.region, config.code_runner_timeout_seconds)
    finally:
        code_node._lambda_client.cache_clear()
    assert config.code_runner_timeout_seconds == 300
    assert client.meta.config.read_timeout > 300
    assert client.meta.config.connect_timeout <= 10
    assert client.meta.config.retries["total_max_attempts"] == 1
    # without a configured timeout it waits past Lambda's longest (900 s)
    assert code_node.client_config(None).read_timeout > 900


@pytest.mark.parametrize(("answer", "error"), [("throttle", RateLimited),
                                               ("error", NodeError)])
def test_a_failed_invoke_is_sent_once_and_raised_typed(fake_lambda: Any, answer: str,
                                                       error: type[NodeError]) -> None:
    server = fake_lambda(answer)
    with pytest.raises(error):
        run("code", {"code": "return items"}, [{"n": 1}])
    assert server.requests == 1  # botocore's default client sends it again


def test_an_invoke_that_times_out_is_sent_once_and_is_a_node_timeout(fake_lambda: Any) -> None:
    import boto3
    from botocore.config import Config as BotoConfig

    server = fake_lambda("stall")
    # the stack's settings, with a read timeout short enough for a test
    config = code_node.client_config(300).merge(BotoConfig(read_timeout=0.2))
    client = boto3.client("lambda", region_name="us-east-1", config=config)
    with pytest.raises(NodeTimeout, match="did not answer in time"):
        code_node.invoke_code_runner(RUNNER_ARN, "return items", [{"n": 1}], "Slow",
                                     client=client)
    assert server.requests == 1
