"""The request-bound wait (``functions.services.waiting``) on a fake clock, against a real
Step Functions client whose answers come from botocore's Stubber (no network).

AWS rules encoded here: API Gateway's REST integration timeout is 29 s from the request's
arrival; a Lambda's context tells its remaining time; Step Functions throttles
DescribeExecution per account and Region with a token bucket (``ThrottlingException``), so
pollers back off with jitter and a throttled call means "still running".
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from functions.config import Config
from functions.services.execution_control import ExecutionControl
from functions.services.waiting import (
    API_GATEWAY_TIMEOUT_SECONDS,
    SAFETY_MARGIN_SECONDS,
    Backoff,
    ExecutionWaiter,
    poll_client,
    wait_seconds,
)
from functions.store.repository import Execution

ARN = "arn:aws:states:us-east-1:123456789012:execution:hello:e1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:hello"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _client() -> Any:
    return boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


def _described(status: str, output: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"executionArn": ARN, "stateMachineArn": MACHINE,
                              "status": status, "startDate": 0}
    if output is not None:
        answer["output"] = output
    return answer


class ScriptedSfn:
    """A stub whose answer depends on the fake clock (ends at ``ends_at`` seconds); calls
    are recorded with their time."""

    def __init__(self, clock: FakeClock, ends_at: float = float("inf")) -> None:
        self.clock = clock
        self.ends_at = ends_at
        self.calls: list[float] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803
        self.calls.append(self.clock.now)
        return _described("SUCCEEDED" if self.clock.now >= self.ends_at else "RUNNING")


# ------------------------------------------------------------------ budget


def test_the_budget_is_the_least_of_request_lambda_and_api_gateway() -> None:
    margin = SAFETY_MARGIN_SECONDS
    assert wait_seconds() == API_GATEWAY_TIMEOUT_SECONDS - margin == 26.0
    assert wait_seconds(Context(10_000)) == 10.0 - margin
    assert wait_seconds(Context(900_000)) == 26.0  # a long Lambda: API Gateway still cuts
    assert wait_seconds(Context(10_000), requested=2.5) == 2.5
    assert wait_seconds(Context(1_000)) == 0.0  # never negative
    # API Gateway's clock started when the request arrived (a cold start ate 5 s of it)
    assert wait_seconds(Context(29_000), request_epoch_ms=1_000_000,
                        now=lambda: 1_005.0) == pytest.approx(29.0 - 5.0 - margin)


# ------------------------------------------------------------------ backoff


def test_backoff_doubles_from_50_ms_to_1_s_with_equal_jitter() -> None:
    backoff = Backoff()
    most = [backoff.delay(n, rng=lambda: 1.0) for n in range(8)]
    least = [backoff.delay(n, rng=lambda: 0.0) for n in range(8)]
    assert most == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert least == pytest.approx([d / 2 for d in most])


def test_polls_follow_the_backoff_until_the_execution_ends() -> None:
    clock = FakeClock()
    sfn = ScriptedSfn(clock, ends_at=3.0)
    waited = ExecutionWaiter(sfn, clock=clock, sleep=clock.sleep, rng=lambda: 1.0).wait(
        ARN, 26.0)
    assert waited.ended and waited.described is not None
    assert waited.described["status"] == "SUCCEEDED"
    assert sfn.calls == pytest.approx([0.0, 0.05, 0.15, 0.35, 0.75, 1.55, 2.55, 3.55])


def test_a_full_wait_makes_a_bounded_number_of_calls() -> None:
    """Worst case (every jitter draw at its least): 57 calls in 26 s, where a fixed 50 ms
    poll made 521 — about 2 calls/s per waiting request instead of 20."""
    clock = FakeClock()
    sfn = ScriptedSfn(clock)
    waited = ExecutionWaiter(sfn, clock=clock, sleep=clock.sleep, rng=lambda: 0.0).wait(
        ARN, 26.0)
    assert not waited.ended and waited.described is not None
    assert waited.described["status"] == "RUNNING"
    assert len(sfn.calls) == 57
    assert clock.now == pytest.approx(26.0)  # the last sleep stops at the deadline
    assert max(clock.sleeps) == pytest.approx(0.5)


# ------------------------------------------------------------------ throttling


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_throttling_means_still_running(code: str) -> None:
    clock = FakeClock()
    sfn = _client()
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", _described("RUNNING"), {"executionArn": ARN})
        for _ in range(3):
            stub.add_client_error("describe_execution", service_error_code=code,
                                  http_status_code=400)
        stub.add_response("describe_execution", _described("SUCCEEDED", '{"A": 1}'),
                          {"executionArn": ARN})
        waited = ExecutionWaiter(sfn, clock=clock, sleep=clock.sleep,
                                 rng=lambda: 1.0).wait(ARN, 26.0)
        stub.assert_no_pending_responses()
    assert waited.ended and waited.polls == 5 and waited.throttled == 3
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4])  # backing off meanwhile


def test_other_errors_are_not_swallowed() -> None:
    sfn = _client()
    clock = FakeClock()
    with Stubber(sfn) as stub:
        stub.add_client_error("describe_execution", service_error_code="ExecutionDoesNotExist",
                              http_status_code=400)
        with pytest.raises(ClientError):
            ExecutionWaiter(sfn, clock=clock, sleep=clock.sleep).wait(ARN, 26.0)


def test_when_the_budget_passes_the_answer_is_running_with_a_status_url() -> None:
    """Every call throttled, then out of time: the API answers RUNNING (202) with where to
    look, never an error."""
    sfn = _client()
    clock = FakeClock()
    control = ExecutionControl(sfn, None, None, None,  # type: ignore[arg-type]
                               Config(api_url="https://api.example/prod"), sleep=clock.sleep,
                               clock=clock)
    execution = Execution(execution_id="e1", workflow_id="hello", status="RUNNING",
                          started_at="2026-01-01T00:00:00.000Z", execution_arn=ARN)
    with Stubber(sfn) as stub:
        for _ in range(10):  # at most 7 calls fit in 1 s, whatever the jitter
            stub.add_client_error("describe_execution", service_error_code="ThrottlingException",
                                  http_status_code=400)
        result = control.wait(execution, context=Context(4_000))  # 1 s budget
    assert result == {"executionId": "e1", "status": "RUNNING",
                      "statusUrl": "https://api.example/prod/executions/e1"}


def test_the_poll_client_leaves_retries_to_the_waiter() -> None:
    """botocore's default retries sleep on a throttle without regard to the deadline."""
    client = poll_client("us-east-1")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    with Stubber(client) as stub:
        stub.add_client_error("describe_execution", service_error_code="ThrottlingException",
                              http_status_code=400)
        stub.add_response("describe_execution", _described("SUCCEEDED"), {"executionArn": ARN})
        main = _client()  # start, stop and the rest keep their SDK retries
        control = ExecutionControl(main, None, None, None, Config(),  # type: ignore[arg-type]
                                   sleep=FakeClock().sleep, poll_sfn=client)
        execution = Execution(execution_id="e1", workflow_id="hello", status="RUNNING",
                              started_at="2026-01-01T00:00:00.000Z", execution_arn=ARN)
        with Stubber(main):  # any call on it would fail: unstubbed
            assert control.wait(execution, 5.0)["status"] == "SUCCEEDED"


# ------------------------------------------------------------------ what the caller sees


def _failed(cause: str, error: str) -> dict[str, Any]:
    return _described("FAILED") | {"error": error, "cause": cause}


def test_a_failure_comes_back_without_the_runtime_report() -> None:
    """The waiter answers public callers: a Lambda's report (exception text, stack trace,
    paths) is replaced by the fixed sentence; the author's stopAndError text, found in
    the definition the execution ran, is kept (``functions.services.public_errors``)."""
    from functions.services.public_errors import fixed_message

    report = '{"errorType": "Sfnflow.CodeError", "errorMessage": "KeyError: password", ' \
             '"stackTrace": ["  File \\"/var/task/functions/runner.py\\", line 9"]}'
    definition = {"StartAt": "Stop", "States": {"Stop": {
        "Type": "Fail", "Comment": "sfnflow native node: stopAndError",
        "Error": "Shop.Refused", "Cause": "{% 'no stock' %}"}}}
    clock = FakeClock()
    sfn = _client()
    with Stubber(sfn) as stub:
        stub.add_response("describe_execution", _failed(report, "Sfnflow.CodeError"),
                          {"executionArn": ARN})
        stub.add_client_error("describe_state_machine_for_execution",
                              service_error_code="ThrottlingException", http_status_code=400)
        stub.add_response("describe_execution", _failed("no stock", "Shop.Refused"),
                          {"executionArn": ARN})
        stub.add_response("describe_state_machine_for_execution", {
            "stateMachineArn": MACHINE, "name": "hello", "definition": json.dumps(definition),
            "roleArn": "arn:aws:iam::123456789012:role/r", "updateDate": 0},
            {"executionArn": ARN})
        waiter = ExecutionWaiter(sfn, clock=clock, sleep=clock.sleep)
        runtime = waiter.wait(ARN, 5.0).described
        authored = waiter.wait(ARN, 5.0).described
    assert runtime is not None and runtime["cause"] == fixed_message("Sfnflow.CodeError")
    assert authored is not None and authored["cause"] == "no stock"
