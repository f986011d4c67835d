"""EventBridge: the workflow bus, the status-change rule, Scheduler's group, and the net
under every delivery (issue 10, items 11 and 16): retry policies, one dead-letter queue,
the reconcile schedule, the trigger starter the API's rules and schedules target."""

from __future__ import annotations

from typing import Any

from .conftest import Built, actions_of, policy_statements


def test_workflow_bus_and_schedule_group(template: Any) -> None:
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "sfnflow-dev"})
    template.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "sfnflow-dev"})


def logical_id(built: Built, construct: Any) -> str:
    return str(built.stack.get_logical_id(construct.node.default_child))


def status_change_rule(built: Built) -> dict[str, Any]:
    rule = built.resources("AWS::Events::Rule")[logical_id(built, built.stack.events
                                                            .status_change_rule)]
    return dict(rule["Properties"])


def queue_arn(built: Built) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(built, built.stack.events.dead_letters), "Arn"]}


def test_status_change_rule_pattern_and_targets(built: Built) -> None:
    props = status_change_rule(built)
    assert "EventBusName" not in props  # Step Functions publishes on the default bus
    pattern = props["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    [prefix] = pattern["detail"]["stateMachineArn"]
    from sfnflow_cdk.nag import _render

    assert _render(prefix["prefix"]) == (
        "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:sfnflow-dev-")
    functions = built.stack.functions.functions
    expected = {built.stack.get_logical_id(functions[name].node.default_child)
                for name in ("execution-events", "error-router")}
    targets = {t["Arn"]["Fn::GetAtt"][0] for t in props["Targets"]}
    assert targets == expected
    rule = {"Fn::GetAtt": [logical_id(built, built.stack.events.status_change_rule), "Arn"]}
    permissions = [p["Properties"] for p in built.resources("AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "events.amazonaws.com"
                   and p["Properties"].get("SourceArn") == rule]
    assert {p["FunctionName"]["Fn::GetAtt"][0] for p in permissions} == expected


def test_map_run_children_are_left_out_of_the_status_change_rule(built: Built) -> None:
    """Step Functions labels a Distributed Map child's ARNs ``<machine>/<label>``; names of
    machines and executions never hold "/" (EventBridge: anything-but wildcard)."""
    pattern = status_change_rule(built)["EventPattern"]
    assert pattern["detail"]["executionArn"] == [{"anything-but": {"wildcard": "*/*"}}]


def test_status_change_targets_retry_for_a_day_then_dead_letter(built: Built) -> None:
    targets = status_change_rule(built)["Targets"]
    assert len(targets) == 2
    for target in targets:
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185,
                                         "MaximumEventAgeInSeconds": 86400}
        assert target["DeadLetterConfig"] == {"Arn": queue_arn(built)}


def test_async_invocations_of_status_and_trigger_functions_dead_letter(built: Built) -> None:
    functions = built.stack.functions.functions
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in built.resources("AWS::Lambda::EventInvokeConfig").values()}
    for role in ("execution-events", "error-router", "triggers"):
        config = configs[logical_id(built, functions[role])]
        assert config["MaximumRetryAttempts"] == 2
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn(built)}}


def test_the_dead_letter_queue_is_encrypted_and_kept_two_weeks(template: Any) -> None:
    template.has_resource_properties("AWS::SQS::Queue", {
        "QueueName": "sfnflow-dev-undelivered", "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 14 * 86400})


def test_the_reconciler_runs_every_five_minutes(built: Built) -> None:
    rule = built.resources("AWS::Events::Rule")[
        logical_id(built, built.stack.events.reconcile_rule)]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    [target] = rule["Targets"]
    reconciler = built.stack.functions.functions["reconciler"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(built, reconciler), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": queue_arn(built)}
    statements = policy_statements(built, "Functions/ReconcilerRole")
    assert {"states:DescribeExecution", "states:StartExecution",
            "states:ListTagsForResource", "dynamodb:Query"} <= actions_of(statements)


def test_trigger_rules_of_this_stage_may_invoke_the_starter_and_dead_letter(
        built: Built) -> None:
    from sfnflow_cdk.nag import _render

    starter = logical_id(built, built.stack.functions.functions["triggers"])
    permissions = [p["Properties"] for p in built.resources("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [starter, "Arn"]}]
    rules = ("arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/sfnflow-dev-*",
             "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/sfnflow-dev/"
             "sfnflow-dev-*")
    assert sorted(_render(p["SourceArn"]) for p in permissions) == sorted(rules)
    assert {p["Principal"] for p in permissions} == {"events.amazonaws.com"}
    [policy] = built.resources("AWS::SQS::QueuePolicy").values()
    like = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if "ArnLike" in s.get("Condition", {})]
    assert [sorted(_render(a) for a in s["Condition"]["ArnLike"]["aws:SourceArn"])
            for s in like] == [sorted(rules)]


def test_scheduler_role_invokes_the_starter_and_dead_letters(built: Built) -> None:
    statements = policy_statements(built, "Events/SchedulerRole")
    assert actions_of(statements) >= {"lambda:InvokeFunction", "sqs:SendMessage"}
    assert "states:StartExecution" not in actions_of(statements)
    starter = logical_id(built, built.stack.functions.functions["triggers"])
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": [starter, "Arn"]}


def test_functions_know_the_starter_and_the_queue(built: Built) -> None:
    api = built.resources("AWS::Lambda::Function")[
        logical_id(built, built.stack.functions.functions["api"])]
    env = api["Properties"]["Environment"]["Variables"]
    assert env["SFNFLOW_TRIGGER_DLQ_ARN"] == queue_arn(built)
    from sfnflow_cdk.nag import _render

    assert _render(env["SFNFLOW_TRIGGER_FUNCTION_ARN"]).endswith(
        ":function:sfnflow-dev-triggers")
