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


def test_an_invoke_has_the_time_its_task_has_left(cloud: LocalCloud) -> None:
    """Locally a function's timeout is the invoking Task's (scaled): whatever the handler
    started must end with the Task, not after Lambda's 15 minutes."""
    from functions.handlers.node_runner import ANSWER_MARGIN_SECONDS

    moto_patches.set_time_scale(0.01)
    seen: list[float] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(context.get_remaining_time_in_millis() / 1000)
        return {}

    moto_patches.register_lambda("timed-fn", handler)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:timed-fn"
    for timeout in (100, None):
        task = {"Type": "Task", "Resource": arn, "End": True}
        run_asl(cloud, jsonata_machine({"Call": task | (
            {"TimeoutSeconds": timeout} if timeout else {})}, "Call"))
    with_timeout, without = seen
    assert 0 < with_timeout <= 100 * 0.01 + ANSWER_MARGIN_SECONDS + 0.05  # 1 s scaled
    assert without > 800  # Lambda's 900 s


def test_a_base_exception_from_a_handler_is_a_function_error(cloud: LocalCloud) -> None:
    """The Lambda runtime reports it; escaping moto's Task thread it left the execution
    RUNNING for good."""
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise SystemExit(3)

    moto_patches.register_lambda("exiting-fn", handler)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:exiting-fn"
    described = run_asl(cloud, jsonata_machine(
        {"Call": {"Type": "Task", "Resource": arn, "End": True}}, "Call"))
    assert (described["status"], described["error"]) == ("FAILED", "SystemExit")


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
        assert time.monotonic() - started < 60  # a misread offset would wait hours
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_dynamodb_updates_from_parallel_branches_are_atomic(cloud: LocalCloud) -> None:
    """Ten branches append to one item at once (a waitFor-N merge counts finishes this
    way): every append survives."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(TableName="atomic-probe", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    append = {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem", "End": True,
        "Arguments": {
            "TableName": "atomic-probe", "Key": {"k": {"S": "one"}},
            "UpdateExpression": "SET seen = list_append(if_not_exists(seen, :none), :me)",
            "ExpressionAttributeValues": {":none": {"L": []},
                                          ":me": {"L": [{"S": "{% $string($random()) %}"}]}},
        },
    }
    described = run_asl(cloud, jsonata_machine({
        "Fan": {"Type": "Parallel", "End": True,
                "Branches": [{"StartAt": "Append", "States": {"Append": append}}] * 10},
    }, "Fan"))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    item = dynamodb.get_item(TableName="atomic-probe", Key={"k": {"S": "one"}})["Item"]
    assert len(item["seen"]["L"]) == 10


def test_a_dynamodb_answer_is_made_from_one_state_of_its_item(cloud: LocalCloud) -> None:
    """Threads add attributes to one item while others read it back: every answer is
    made whole (moto built the answer from the item after its lock was let go, and a
    concurrent update changed the item's attributes while they were read)."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(TableName="answer-probe", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    key = {"k": {"S": "one"}}

    def grow(worker: int) -> int:
        for n in range(25):
            dynamodb.update_item(TableName="answer-probe", Key=key, ReturnValues="ALL_NEW",
                                 UpdateExpression=f"SET a{worker}x{n} = :v",
                                 ExpressionAttributeValues={":v": {"N": str(n)}})
            dynamodb.get_item(TableName="answer-probe", Key=key)
        return worker

    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(grow, range(6))) == list(range(6))
    item = dynamodb.get_item(TableName="answer-probe", Key=key)["Item"]
    assert len(item) == 1 + 6 * 25


def test_a_failed_distributed_map_iteration_fails_the_map(cloud: LocalCloud) -> None:
    """moto turned a failed child into null and succeeded; Step Functions fails the Map
    Run once more iterations fail than tolerated (none)."""
    item = {"Type": "Choice", "Default": "Fine",
            "Choices": [{"Condition": "{% $states.input = 3 %}", "Next": "Broken"}]}
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": "Check",
                 "States": {"Check": item, "Fine": {"Type": "Pass", "End": True},
                            "Broken": {"Type": "Fail", "Error": "Item.Broken"}}}
    machine = jsonata_machine({
        "Each": {"Type": "Map", "Items": "{% [1, 2, 3, 4] %}", "MaxConcurrency": 2,
                 "ItemProcessor": processor, "End": True},
    }, "Each")
    described = run_asl(cloud, machine)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    assert "Item.Broken" in described["cause"]
    processor["States"]["Check"] = {"Type": "Pass", "End": True}
    described = run_asl(cloud, machine)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3, 4]


def _wait_for_executions(cloud: LocalCloud, machine: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        listed = cloud.sfn.list_executions(stateMachineArn=machine)["executions"]
        ended = [e for e in listed if e["status"] != "RUNNING"]
        if len(ended) >= count or time.monotonic() > deadline:
            return [cloud.sfn.describe_execution(executionArn=e["executionArn"])
                    for e in sorted(ended, key=lambda e: e["startDate"])]
        time.sleep(0.01)


def test_event_rules_start_state_machines_with_their_target_input(cloud: LocalCloud) -> None:
    """moto raised NotImplementedError for Step Functions targets; each input form of a
    target (InputTransformer with predefined variables, InputPath, Input, none) applies."""
    machine = cloud.sfn.create_state_machine(
        name=f"echo-{time.monotonic_ns()}", roleArn=ROLE, definition=json.dumps(
            jsonata_machine({"Echo": {"Type": "Pass", "End": True}}, "Echo")))["stateMachineArn"]
    cloud.events.put_rule(Name="orders", EventPattern=json.dumps(
        {"source": ["shop"], "detail-type": ["order placed"]}))
    template = ('{"items": [<aws.events.event.json>], "head": <aws.events.event>, '
                '"id": <id>, "note": "order <id> by \\"<who>\\"", "rule": "<aws.events.rule-name>",'
                ' "missing": <nope>}')
    cloud.events.put_targets(Rule="orders", Targets=[
        {"Id": "transformed", "Arn": machine, "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.order.id", "who": "$.detail.customer",
                              "nope": "$.detail.absent"}, "InputTemplate": template}},
        {"Id": "path", "Arn": machine, "InputPath": "$.detail.order"},
        {"Id": "constant", "Arn": machine, "Input": '{"constant": true}'},
        {"Id": "whole", "Arn": machine},
    ])
    detail = {"order": {"id": 7, "total": 12.5}, "customer": 'Ann "A" Lee'}
    cloud.events.put_events(Entries=[{"Source": "shop", "DetailType": "order placed",
                                      "Detail": json.dumps(detail)},
                                     {"Source": "shop", "DetailType": "ignored",
                                      "Detail": "{}"}])
    outputs = [json.loads(d["output"]) for d in _wait_for_executions(cloud, machine, 4)]
    assert len(outputs) == 4
    transformed = next(o for o in outputs if "items" in o)
    event = transformed["items"][0]
    assert event["detail"] == detail and event["source"] == "shop"
    assert event["time"].endswith("Z") and event["account"] == "123456789012"
    assert "detail" not in transformed["head"] and transformed["head"]["id"] == event["id"]
    assert transformed["id"] == 7 and transformed["rule"] == "orders"
    assert transformed["note"] == 'order 7 by "Ann "A" Lee"'  # values in strings: escaped
    assert transformed["missing"] is None
    assert {"id": 7, "total": 12.5} in outputs and {"constant": True} in outputs
    assert any(o.get("detail-type") == "order placed" for o in outputs)


def test_event_rules_invoke_registered_lambdas_and_skip_disabled_rules(
        cloud: LocalCloud) -> None:
    received: list[Any] = []
    moto_patches.register_lambda("probe-listener", lambda event, context: received.append(event))
    cloud.events.create_event_bus(Name="probe-bus")
    cloud.events.put_rule(Name="listen", EventBusName="probe-bus",
                          EventPattern=json.dumps({"source": ["probe"]}))
    cloud.events.put_targets(Rule="listen", EventBusName="probe-bus", Targets=[
        {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:probe-listener",
         "InputPath": "$.detail"}])

    def put(n: int) -> None:
        cloud.events.put_events(Entries=[{"Source": "probe", "DetailType": "x",
                                          "EventBusName": "probe-bus",
                                          "Detail": json.dumps({"n": n})}])

    put(1)
    cloud.events.disable_rule(Name="listen", EventBusName="probe-bus")
    put(2)
    cloud.events.enable_rule(Name="listen", EventBusName="probe-bus")
    put(3)
    assert received == [{"n": 1}, {"n": 3}]


def test_a_failing_lambda_target_does_not_fail_put_events(cloud: LocalCloud) -> None:
    def broken(event: Any, context: Any) -> None:
        raise RuntimeError("handler bug")

    moto_patches.register_lambda("probe-broken", broken)
    cloud.events.put_rule(Name="breaks", EventPattern=json.dumps({"source": ["probe2"]}))
    cloud.events.put_targets(Rule="breaks", Targets=[
        {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:probe-broken"}])
    response = cloud.events.put_events(Entries=[{"Source": "probe2", "DetailType": "x",
                                                 "Detail": "{}"}])
    assert response["FailedEntryCount"] == 0


def test_send_task_failure_keeps_its_cause(cloud: LocalCloud) -> None:
    tokens: list[str] = []
    moto_patches.register_lambda("probe-callback",
                                 lambda event, _context: tokens.append(event["token"]))
    definition = jsonata_machine({
        "Hold": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                 "Arguments": {"FunctionName": "probe-callback",
                               "Payload": {"token": "{% $states.context.Task.Token %}"}},
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught",
                            "Output": "{% $states.errorOutput %}"}], "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }, "Hold")

    def reject() -> None:
        while not tokens:
            time.sleep(0.005)
        cloud.sfn.send_task_failure(taskToken=tokens[0], error="Probe.Rejected",
                                    cause="no, thanks")

    import threading

    threading.Thread(target=reject, daemon=True).start()
    failed = json.loads(run_asl(cloud, definition)["output"])
    assert failed == {"Error": "Probe.Rejected", "Cause": "no, thanks"}


def test_a_version_arn_runs_that_version_whatever_the_latest_revision(
        cloud: LocalCloud) -> None:
    """StartExecution with a version ARN runs that (immutable) version, under its machine;
    DeleteStateMachineVersion removes one (moto 5.2.5 has neither)."""
    def definition(result: str) -> str:
        return json.dumps({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Result": {"v": result}, "End": True}}})

    created = cloud.sfn.create_state_machine(name="versions", definition=definition("v1"),
                                             roleArn=ROLE, publish=True)
    arn = created["stateMachineArn"]
    assert created["stateMachineVersionArn"] == f"{arn}:1"
    cloud.sfn.update_state_machine(stateMachineArn=arn, definition=definition("latest"))
    outputs = {}
    for target, name in ((f"{arn}:1", "on-version"), (arn, "on-machine")):
        execution = cloud.sfn.start_execution(stateMachineArn=target, name=name)["executionArn"]
        assert execution == arn.replace(":stateMachine:", ":execution:") + f":{name}"
        while (described := cloud.sfn.describe_execution(executionArn=execution))[
                "status"] == "RUNNING":
            time.sleep(0.005)
        assert described["stateMachineArn"] == arn
        outputs[name] = json.loads(described["output"])["v"]
    assert outputs == {"on-version": "v1", "on-machine": "latest"}
    cloud.sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    cloud.sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:9")  # no error
    with pytest.raises(cloud.sfn.exceptions.StateMachineDoesNotExist):
        cloud.sfn.describe_state_machine(stateMachineArn=f"{arn}:1")


def test_clients_created_from_many_threads_at_once_all_work() -> None:
    """botocore's client creation may race on a shared session ("dictionary changed size
    during iteration", seen once in a node-runner call of a Flow under load; boto3 documents
    sessions as not thread-safe); handlers run in threads locally, so creation is
    serialised. The race is rare: this guards the patch, it does not reproduce the race."""
    import concurrent.futures

    import boto3

    from local import moto_patches

    moto_patches.apply_all()
    session = boto3.session.Session(region_name="us-east-1")
    services = ["s3", "stepfunctions", "dynamodb", "lambda", "events", "scheduler", "sqs",
                "kms"] * 4
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        clients = list(pool.map(session.client, services))
    assert [c.meta.service_model.service_name for c in clients] == \
        [boto3.session.Session().client(s, region_name="us-east-1")
         .meta.service_model.service_name for s in services]


def test_a_node_name_with_quotes_reaches_the_runner_decoded(cloud: LocalCloud) -> None:
    """Definition strings are JSON: the node runner gets ``data`` keyed by the node's name
    (moto kept the escapes: ``Run \\"A\\"``, and the next node found no input)."""
    from compiler import compile_workflow
    from tests.examples.test_examples import run_compiled

    document = {"name": "quoted", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": 'Run "A"', "type": "code", "parameters": {"code": "return [{'a': 1}]"}},
        {"name": "After", "type": "code", "parameters": {"code": "return items"}}],
        "connections": [{"from": "Start", "to": 'Run "A"'}, {"from": 'Run "A"', "to": "After"}]}
    report = run_compiled(cloud, compile_workflow(document))
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["After"] == [{"a": 1}]


def test_run_data_models_share_one_dynamodb_client(cloud: LocalCloud) -> None:
    """pynamodb built a botocore client per model (14 per cloud, ~35 ms each): the cloud's
    models share one, and it works from every model."""
    from functions.store.models import ALL_MODELS, ExecutionModel, NodeRunModel

    clients = {id(model._get_connection().connection.client) for model in ALL_MODELS}
    assert len(clients) == 1
    assert ExecutionModel.count() == 0 and NodeRunModel.count() == 0


def test_a_known_account_backend_is_looked_up_without_moto_s_global_lock(
        cloud: LocalCloud) -> None:
    """Every request looks its backend up; under moto's one process-wide lock, hundreds of
    concurrent requests (``sfnflow serve``) queued there. A known account needs no lock."""
    import threading

    from moto.core.base_backend import backend_lock
    from moto.stepfunctions.models import stepfunctions_backends

    cloud.sfn.list_state_machines()  # the account's backend exists
    found: list[Any] = []
    with backend_lock:  # held here: a look-up that needs it would wait for good
        looking = threading.Thread(target=lambda: found.append(
            stepfunctions_backends["123456789012"]["us-east-1"]), daemon=True)
        looking.start()
        looking.join(timeout=2)
    assert found and found[0] is stepfunctions_backends["123456789012"]["us-east-1"]


def test_a_definition_is_parsed_once_for_all_its_executions(cloud: LocalCloud) -> None:
    """moto lexes and parses (ANTLR) on create and on every start; the syntax tree is kept
    per definition text, and each execution still gets its own evaluation components."""
    definition = jsonata_machine({
        "Count": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": True}}, "Count")
    moto_patches._syntax_tree.cache_clear()
    arn = cloud.sfn.create_state_machine(name="parsed-once", definition=json.dumps(definition),
                                         roleArn=ROLE)["stateMachineArn"]
    outputs = []
    for n in range(3):
        execution = cloud.sfn.start_execution(stateMachineArn=arn, name=f"n{n}",
                                              input=json.dumps({"n": n}))["executionArn"]
        while (described := cloud.sfn.describe_execution(executionArn=execution))[
                "status"] == "RUNNING":
            time.sleep(0.005)
        outputs.append(json.loads(described["output"]))
    assert outputs == [1, 2, 3]
    assert moto_patches._syntax_tree.cache_info().misses == 1


def test_a_key_query_reads_only_its_partition(cloud: LocalCloud,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """moto sorted and scanned every item of the table for each Query: reading one
    execution's runs grew with every execution. A Query of the table's key reads its
    partition, with DynamoDB's order, conditions, limits and pages."""
    import boto3
    from moto.dynamodb.models.table import Table

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="partitions", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "r", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                   {"AttributeName": "r", "KeyType": "RANGE"}])
    for p in ("a", "b"):
        for r in ("3", "1", "2"):
            dynamodb.put_item(TableName="partitions",
                              Item={"p": {"S": p}, "r": {"S": r}, "v": {"S": p + r}})

    def scanned(self: Any) -> Any:
        raise AssertionError("a key query scanned the whole table")

    monkeypatch.setattr(Table, "all_items", scanned)

    def query(**kwargs: Any) -> Any:
        return dynamodb.query(TableName="partitions", KeyConditionExpression=kwargs.pop(
            "condition", "p = :p"), ExpressionAttributeValues=kwargs.pop(
            "values", {":p": {"S": "b"}}), **kwargs)

    assert [i["v"]["S"] for i in query()["Items"]] == ["b1", "b2", "b3"]
    assert [i["v"]["S"] for i in query(ScanIndexForward=False)["Items"]] == ["b3", "b2", "b1"]
    assert [i["v"]["S"] for i in query(
        condition="p = :p AND r > :r",
        values={":p": {"S": "a"}, ":r": {"S": "1"}})["Items"]] == ["a2", "a3"]
    first = query(Limit=2)
    assert [i["v"]["S"] for i in first["Items"]] == ["b1", "b2"]
    rest = query(Limit=2, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [i["v"]["S"] for i in rest["Items"]] == ["b3"]
    assert query(values={":p": {"S": "none"}})["Items"] == []


def test_a_cancelled_transaction_restores_only_what_it_wrote(cloud: LocalCloud) -> None:
    """TransactWriteItems backs up what it may have to restore; moto deep-copied the whole
    table for each transaction (the statistics table holds a marker per execution). The
    backup now holds copies of the items written: a cancelled transaction still restores
    them, and the items it did not touch stay as they are."""
    import boto3
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="counted", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "r", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                   {"AttributeName": "r", "KeyType": "RANGE"}])
    for r in ("total", "marker-1", "other"):
        dynamodb.put_item(TableName="counted",
                          Item={"p": {"S": "w"}, "r": {"S": r}, "n": {"N": "1"}})
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["counted"]
    untouched = table.items[next(iter(table.items))]
    other = next(item for key, item in untouched.items() if key.value == "other")

    def count(marker: str) -> Any:
        return dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "counted", "Key": {"p": {"S": "w"}, "r": {"S": "total"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "counted", "Item": {"p": {"S": "w"}, "r": {"S": marker}},
                     "ConditionExpression": "attribute_not_exists(r)"}}])

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        count("marker-1")  # counted before: nothing changes
    count("marker-2")

    def n(r: str) -> str:
        return dynamodb.get_item(TableName="counted", Key={"p": {"S": "w"}, "r": {"S": r}},
                                 ConsistentRead=True)["Item"]["n"]["N"]

    assert n("total") == "2" and n("marker-1") == "1"
    restored = dynamodb_backends["123456789012"]["us-east-1"].tables["counted"]
    assert any(item is other for item in restored.items[next(iter(restored.items))].values())
