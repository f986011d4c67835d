"""The roles the platform hands to AWS services, and what the API may do with them."""

from __future__ import annotations

from typing import Any

from .conftest import Built, actions_of, policy_statements


def _arns(built: Built, statement: dict[str, Any]) -> list[str]:
    resources = statement["Resource"]
    return [_text(built, r) for r in (resources if isinstance(resources, list) else [resources])]


def _text(built: Built, value: Any) -> str:
    from sfnflow_cdk.nag import _render

    return _render(value)


def test_scheduler_role_may_only_start_this_stages_workflows(built: Built) -> None:
    [statement] = policy_statements(built, "Events/SchedulerRole")
    assert statement["Action"] == "states:StartExecution"
    assert _arns(built, statement) == [
        "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:sfnflow-dev-*"]
    role = built.stack.get_logical_id(built.stack.events.scheduler_role.node.default_child)
    trust = built.template.to_json()["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_events_role_may_only_start_this_stages_workflows(built: Built) -> None:
    [statement] = policy_statements(built, "Events/EventsRole")
    assert statement["Action"] == "states:StartExecution"
    assert _arns(built, statement)[0].endswith(":stateMachine:sfnflow-dev-*")


def test_api_may_pass_only_the_three_platform_roles(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    [passrole] = [s for s in statements if s["Action"] == "iam:PassRole"]
    stack = built.stack
    expected = [{"Fn::GetAtt": [stack.get_logical_id(role.node.default_child), "Arn"]}
                for role in (stack.state_machine_role, stack.events.scheduler_role,
                             stack.events.events_role)]
    assert passrole["Resource"] == expected


def test_api_manages_state_machines_schedules_and_rules_by_prefix(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    assert {"states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine",
            "states:TagResource", "states:StartExecution", "states:StopExecution",
            "states:GetExecutionHistory", "scheduler:CreateSchedule", "scheduler:DeleteSchedule",
            "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule",
            "events:EnableRule", "events:DisableRule"} <= actions_of(statements)
    for statement in statements:
        for arn in _arns(built, statement):
            if ":states:" in arn:
                assert ":sfnflow-dev-*" in arn
            if ":scheduler:" in arn:
                assert arn.endswith(":schedule/sfnflow-dev/*")
            if ":events:" in arn:
                assert arn.endswith(("rule/sfnflow-dev-*", "rule/sfnflow-dev/sfnflow-dev-*"))


def test_state_machine_role(built: Built) -> None:
    statements = policy_statements(built, "StateMachineRole/Role")
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            by_action.setdefault(action, []).extend(_arns(built, statement))
    assert any(a.endswith(":function:sfnflow-dev-node-runner")
               for a in by_action["lambda:InvokeFunction"])
    assert all("sfnflow-dev-node-runner" in a for a in by_action["lambda:InvokeFunction"])
    assert by_action["states:StartExecution"] == [
        "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:sfnflow-dev-*"]
    for action in ("states:DescribeExecution", "states:StopExecution"):
        assert all(":execution:sfnflow-dev-*:*" in a for a in by_action[action])
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        assert by_action[action] == ["arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>"
                                     ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
    assert {"xray:PutTraceSegments", "logs:CreateLogDelivery"} <= set(by_action)
    for action in ("dynamodb:UpdateItem", "dynamodb:GetItem"):  # quorum merges, nothing else
        assert by_action[action] and all("MergeQuorums" in a for a in by_action[action])
    assert not {a for a in by_action if a.startswith("dynamodb:")} - {
        "dynamodb:UpdateItem", "dynamodb:GetItem"}
    # Distributed Maps read staged batches: that prefix of the payload bucket, read only
    assert {a for a in by_action if a.startswith("s3:")} == {"s3:GetObject"}
    assert by_action["s3:GetObject"] and all(a.endswith("/loops/*")
                                             for a in by_action["s3:GetObject"])


def test_status_change_handlers_read_executions_and_start_error_workflows(built: Built) -> None:
    for role in ("Functions/ExecutionEventsRole", "Functions/ErrorRouterRole"):
        actions = actions_of(policy_statements(built, role))
        assert {"states:GetExecutionHistory", "states:DescribeStateMachineForExecution",
                "states:DescribeExecution", "states:ListTagsForResource",
                "states:StartExecution"} <= actions
