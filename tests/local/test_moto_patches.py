"""One test per moto patch (local/moto_patches.py): a moto upgrade that changes the
behaviour we rely on fails here first, with a clear name."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local import moto_patches
from local.cloud import LocalCloud

ROLE = "arn:aws:iam::123456789012:role/test"


def run_asl(cloud: LocalCloud, definition: dict[str, Any], payload: Any = None) -> dict[str, Any]:
    arn = cloud.sfn.create_state_machine(
        name=f"probe-{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = cloud.sfn.start_execution(stateMachineArn=arn, name="probe",
                                          input=json.dumps(payload or {}))["executionArn"]
    while (described := cloud.sfn.describe_execution(executionArn=execution))["status"] == \
            "RUNNING":
        time.sleep(0.005)
    return described


def jsonata_machine(states: dict[str, Any], start: str) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": start, "States": states}


def test_jsonata_binds_variables_with_quotes_and_backslashes(cloud: LocalCloud) -> None:
    tricky = 'say "hi" \\ and {% not an expression %}'
    described = run_asl(cloud, jsonata_machine({
        "Set": {"Type": "Pass", "Assign": {"text": "{% $states.input.text %}"}, "Next": "Use"},
        "Use": {"Type": "Pass", "Output": "{% {'echo': $text, 'n': $count($states.input.list)} %}",
                "End": True},
    }, "Set"), {"text": tricky, "list": [1, 2, 3]})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"echo": tricky, "n": 3}


def test_jsonata_undefined_result_is_a_query_evaluation_error(cloud: LocalCloud) -> None:
    described = run_asl(cloud, jsonata_machine({
        "Use": {"Type": "Pass", "Output": {"x": "{% $states.input.missing %}"}, "End": True},
    }, "Use"))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.QueryEvaluationError"


def test_jsonata_runtime_error_is_a_query_evaluation_error(cloud: LocalCloud) -> None:
    described = run_asl(cloud, jsonata_machine({
        "Use": {"Type": "Pass", "Assign": {"x": "{% 'a' + 1 %}"}, "End": True},
    }, "Use"))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.QueryEvaluationError"
    assert "must evaluate to a number" in described["cause"]


@pytest.mark.parametrize("scope", ["parallel", "map"])
def test_states_errors_leave_branches_and_iterations_by_name(cloud: LocalCloud,
                                                              scope: str) -> None:
    inner = {"StartAt": "Bad", "States": {
        "Bad": {"Type": "Pass", "Output": "{% $nothing %}", "End": True}}}
    state: dict[str, Any] = (
        {"Type": "Parallel", "Branches": [inner], "End": True} if scope == "parallel" else
        {"Type": "Map", "Items": "{% [1] %}", "End": True,
         "ItemProcessor": {**inner, "ProcessorConfig": {"Mode": "INLINE"}}})
    described = run_asl(cloud, jsonata_machine({"Scope": state}, "Scope"))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.QueryEvaluationError"


def test_jsonata_null_is_kept_apart_from_undefined(cloud: LocalCloud) -> None:
    described = run_asl(cloud, jsonata_machine({
        "Use": {"Type": "Pass", "Output": {"x": "{% $states.input.nothing %}"}, "End": True},
    }, "Use"), {"nothing": None})
    assert json.loads(described["output"]) == {"x": None}


def test_lambda_invoke_dispatches_in_process_with_typed_errors(cloud: LocalCloud) -> None:
    class Boom(Exception):
        error_type = "Sfnflow.Probe"

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("fail"):
            raise Boom("went wrong")
        return {"doubled": event["n"] * 2, "function": context.function_name}

    moto_patches.register_lambda("probe-fn", handler)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:probe-fn"
    definition = jsonata_machine({
        "Call": {"Type": "Task", "Resource": arn, "Arguments": "{% $states.input %}",
                 "Catch": [{"ErrorEquals": ["Sfnflow.Probe"], "Next": "Caught",
                            "Output": "{% $states.errorOutput %}"}], "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }, "Call")
    ok = run_asl(cloud, definition, {"n": 21})
    assert json.loads(ok["output"]) == {"doubled": 42, "function": "probe-fn"}
    failed = json.loads(run_asl(cloud, definition, {"fail": True})["output"])
    assert failed["Error"] == "Sfnflow.Probe"
    assert json.loads(failed["Cause"])["errorMessage"] == "went wrong"


def test_interpreter_boto_clients_are_cached(cloud: LocalCloud) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    first = lambda_eval_utils.boto_client_for("us-east-1", "lambda")
    assert lambda_eval_utils.boto_client_for("us-east-1", "lambda") is first


def test_wait_and_retry_follow_the_time_scale(cloud: LocalCloud) -> None:
    moto_patches.set_time_scale(0.001)
    calls: list[float] = []

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return {"ok": True}

    moto_patches.register_lambda("flaky-fn", flaky)
    started = time.monotonic()
    described = run_asl(cloud, jsonata_machine({
        "Nap": {"Type": "Wait", "Seconds": 600, "Next": "Call"},
        "Call": {"Type": "Task", "Resource":
                 "arn:aws:lambda:us-east-1:123456789012:function:flaky-fn",
                 "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 300,
                            "MaxAttempts": 3, "BackoffRate": 2}], "End": True},
    }, "Nap"))
    assert described["status"] == "SUCCEEDED"
    assert len(calls) == 3
    assert time.monotonic() - started < 10  # 10 min wait + 15 min of retries, scaled


def test_time_scale_must_be_positive() -> None:
    with pytest.raises(ValueError):
        moto_patches.set_time_scale(0)


def test_jsonata_hash_is_the_real_digest(cloud: LocalCloud) -> None:
    import hashlib

    described = run_asl(cloud, jsonata_machine({
        "Use": {"Type": "Pass", "End": True, "Output": {
            "sha": "{% $hash($states.input.text, 'SHA-256') %}",
            "md5": "{% $hash($states.input.text, 'MD5') %}"}},
    }, "Use"), {"text": "sfnflow"})
    assert json.loads(described["output"]) == {
        "sha": hashlib.sha256(b"sfnflow").hexdigest(),
        "md5": hashlib.md5(b"sfnflow").hexdigest(),
    }


def _child_machine(cloud: LocalCloud, states: dict[str, Any], start: str) -> str:
    return str(cloud.sfn.create_state_machine(
        name=f"child-{time.monotonic_ns()}", roleArn=ROLE,
        definition=json.dumps(jsonata_machine(states, start)))["stateMachineArn"])


def _start_child(child: str, resource: str, **task: Any) -> dict[str, Any]:
    return jsonata_machine({"Run": {
        "Type": "Task", "Resource": f"arn:aws:states:::states:{resource}", "End": True,
        "Arguments": {"StateMachineArn": child, "Name": "{% 'kid-' & $states.input.n & '-' "
                      "& $states.context.State.RetryCount %}",
                      "Input": {"n": "{% $states.input.n %}"}}, **task}}, "Run")


def test_start_execution_sync2_returns_the_child_output_as_json(cloud: LocalCloud) -> None:
    child = _child_machine(cloud, {"Double": {
        "Type": "Pass", "Output": "{% {'n': $states.input.n * 2} %}", "End": True}}, "Double")
    described = run_asl(cloud, _start_child(child, "startExecution.sync:2"), {"n": 21})
    assert described["status"] == "SUCCEEDED", described.get("cause")
    result = json.loads(described["output"])
    assert result["Status"] == "SUCCEEDED"
    assert result["Output"] == {"n": 42} and result["Input"] == {"n": 21}
    assert isinstance(result["StartDate"], int) and isinstance(result["StopDate"], int)
    assert result["Name"] == "kid-21-0"

    started = json.loads(run_asl(cloud, _start_child(child, "startExecution"),
                                 {"n": 1})["output"])
    assert set(started) == {"ExecutionArn", "StartDate"}
    assert isinstance(started["StartDate"], int)


def test_failed_sync_child_is_a_task_failure_that_retries(cloud: LocalCloud) -> None:
    child = _child_machine(cloud, {"Boom": {
        "Type": "Fail", "Error": "Probe.Failed", "Cause": "went wrong"}}, "Boom")
    described = run_asl(cloud, _start_child(
        child, "startExecution.sync:2",
        Retry=[{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2}],
    ), {"n": 1})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"  # not States.Timeout: retries run
    cause = json.loads(described["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == (
        "FAILED", "Probe.Failed", "went wrong")
    assert cause["Name"] == "kid-1-2"  # the third attempt started a third child


def test_task_timeouts_follow_the_time_scale(cloud: LocalCloud) -> None:
    moto_patches.set_time_scale(0.01)

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        time.sleep(1)
        return {}

    moto_patches.register_lambda("slow-fn", slow)
    described = run_asl(cloud, jsonata_machine({
        "Call": {"Type": "Task", "TimeoutSeconds": 60, "End": True,
                 "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow-fn"},
    }, "Call"))
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"


def test_wait_timestamp_accepts_offsets_and_ignores_local_time(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        moto_patches.set_time_scale(1.0)
        soon = (datetime.now(UTC) + timedelta(seconds=1)).astimezone(
            __import__("datetime").timezone(timedelta(hours=-3)))
        started = time.monotonic()
        described = run_asl(cloud, jsonata_machine({
            "Nap": {"Type": "Wait", "Timestamp": soon.isoformat(timespec="seconds"),
                    "End": True},
        }, "Nap"))
        assert described["status"] == "SUCCEEDED"
        assert time.monotonic() - started < 5
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
