"""Every asynchronous hop has a retry policy and ends in the dead-letter queue (issue 14),
as AWS documents each: EventBridge targets (RetryPolicy, DeadLetterConfig), the functions
EventBridge invokes asynchronously (EventInvokeConfig: MaximumRetryAttempts, OnFailure),
the DynamoDB stream's event source mapping (retries, bisect, OnFailure); and the API may
read that queue and invoke the functions its letters were meant for (the redrive)."""

from __future__ import annotations

from typing import Any

from .conftest import Built, policy_statements
from .test_events import logical_id, queue_arn


def _function_ids_targeted_by_rules(built: Built) -> set[str]:
    ids = set()
    for rule in built.resources("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            arn = target["Arn"]
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                ids.add(arn["Fn::GetAtt"][0])
    return ids


def test_every_rule_target_retries_then_dead_letters(built: Built) -> None:
    targets = [target for rule in built.resources("AWS::Events::Rule").values()
               for target in rule["Properties"].get("Targets", [])]
    assert len(targets) >= 3  # status changes (2) and the reconciler
    for target in targets:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, target["Id"]
        assert target["DeadLetterConfig"] == {"Arn": queue_arn(built)}, target["Id"]


def test_every_function_invoked_asynchronously_dead_letters_its_failures(
        built: Built) -> None:
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in built.resources("AWS::Lambda::EventInvokeConfig").values()}
    trigger_starter = logical_id(built, built.stack.functions.functions["triggers"])
    asynchronous = _function_ids_targeted_by_rules(built) | {trigger_starter}
    assert len(asynchronous) == 4  # execution events, error router, reconciler, triggers
    for function_id in asynchronous:
        config = configs[function_id]
        assert config["MaximumRetryAttempts"] >= 1
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn(built)}}


def test_the_progress_stream_bisects_and_records_failed_batches(built: Built) -> None:
    (mapping,) = [m["Properties"]
                  for m in built.resources("AWS::Lambda::EventSourceMapping").values()]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] >= 1
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn(built)}}
    publisher = policy_statements(built, "Functions/StreamPublisherRole")
    assert any("sqs:SendMessage" in _actions(s) and s["Resource"] == queue_arn(built)
               for s in publisher)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def test_the_api_may_redrive_dead_letters(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    consume = [s for s in statements if s.get("Resource") == queue_arn(built)]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl"} <= {a for s in consume for a in _actions(s)}
    invocable = {str(resource) for s in statements if "lambda:InvokeFunction" in _actions(s)
                 for resource in (s["Resource"] if isinstance(s["Resource"], list)
                                  else [s["Resource"]])}
    for function_id in _function_ids_targeted_by_rules(built) | {
            logical_id(built, built.stack.functions.functions["triggers"])}:
        assert str({"Fn::GetAtt": [function_id, "Arn"]}) in invocable, function_id


def test_the_api_may_redrive_executions_of_this_stage(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    redrive = [s for s in statements if "states:RedriveExecution" in _actions(s)]
    assert redrive and all("states:DescribeStateMachineForExecution" in _actions(s)
                           for s in redrive)
    resources = {str(s["Resource"]) for s in redrive}
    assert all("execution" in resource and "sfnflow-dev" in resource
               for resource in resources), resources
