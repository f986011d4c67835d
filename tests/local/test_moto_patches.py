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
