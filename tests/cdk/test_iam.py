"""The roles of the stack: what each function may touch (its own tables, never a Scan),
the roles the platform hands to AWS services, and what the API may do with them.
``test_iam_calls.py`` checks the same policies against the calls the handlers make."""

from __future__ import annotations

from typing import Any

from .conftest import Built, actions_of, policy_statements

ROLE_PATHS = {  # function role -> construct path of its IAM role
    "node-runner": "Functions/NodeRunnerRole", "execution-events": "Functions/ExecutionEventsRole",
    "error-router": "Functions/ErrorRouterRole", "api": "Functions/ApiRole",
    "webhooks": "Functions/WebhooksRole", "code-runner": "Functions/CodeRunnerRole",
    "reconciler": "Functions/ReconcilerRole", "triggers": "Functions/TriggersRole",
}


def _arns(built: Built, statement: dict[str, Any]) -> list[str]:
    resources = statement["Resource"]
    return [_text(built, r) for r in (resources if isinstance(resources, list) else [resources])]


def _text(built: Built, value: Any) -> str:
    from sfnflow_cdk.nag import _render

    return _render(value)


def _by_action(built: Built, role_path: str) -> dict[str, list[str]]:
    by_action: dict[str, list[str]] = {}
    for statement in policy_statements(built, role_path):
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            by_action.setdefault(action, []).extend(_arns(built, statement))
    return by_action


def _tables(built: Built, arns: list[str]) -> set[str]:
    """The table suffixes (``executions`` ...) these rendered ARNs name, indexes included."""
    by_logical_id = {built.stack.get_logical_id(table.node.default_child): suffix
                     for suffix, table in built.stack.tables.tables.items()}
    found = set()
    for arn in arns:
        logical_id = arn.removeprefix("<").split(".Arn>")[0]
        if logical_id in by_logical_id:
            found.add(by_logical_id[logical_id])
    return found


def test_scheduler_role_may_only_invoke_the_trigger_starter(built: Built) -> None:
    by_action = _by_action(built, "Events/SchedulerRole")
    assert by_action["lambda:InvokeFunction"] and all(
        a.startswith("<FunctionsTriggers") for a in by_action["lambda:InvokeFunction"])
    assert not any(action.startswith(("states:", "dynamodb:", "iam:")) for action in by_action)
    role = built.stack.get_logical_id(built.stack.events.scheduler_role.node.default_child)
    trust = built.template.to_json()["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_api_passes_each_platform_role_only_to_its_service(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    stack = built.stack

    def logical_id(role: Any) -> str:
        return str(stack.get_logical_id(role.node.default_child))

    passed = {(s["Resource"]["Fn::GetAtt"][0],
               s["Condition"]["StringEquals"]["iam:PassedToService"]) for s in passes}
    assert passed == {(logical_id(stack.state_machine_role), "states.amazonaws.com"),
                      (logical_id(stack.events.scheduler_role), "scheduler.amazonaws.com")}
    for role_path in ROLE_PATHS.values():  # nobody else passes roles
        if role_path != "Functions/ApiRole":
            assert "iam:PassRole" not in actions_of(policy_statements(built, role_path))


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


def test_no_role_may_scan_and_none_reads_every_table(built: Built) -> None:
    """Requests query keys and indexes; each function gets the tables it uses."""
    for function, role_path in ROLE_PATHS.items():
        by_action = _by_action(built, role_path)
        assert "dynamodb:Scan" not in by_action, function
        assert not any(a in ("dynamodb:*", "*") for a in by_action), function
        touched = _tables(built, [arn for action, arns in by_action.items()
                                  if action.startswith("dynamodb:") for arn in arns])
        assert len(touched) < len(built.stack.tables.tables), (function, touched)


def test_each_function_gets_exactly_its_tables_and_indexes(built: Built) -> None:
    from sfnflow_cdk.permissions import DATA_ACCESS

    from functions.store.models import TABLE_SUFFIXES

    for function, accesses in DATA_ACCESS.items():
        by_action = _by_action(built, ROLE_PATHS[function])
        granted = {(action, table) for action, arns in by_action.items()
                   if action.startswith("dynamodb:") for table in _tables(built, arns)}
        expected = {(action, TABLE_SUFFIXES[access.model])
                    for access in accesses for action in access.actions}
        expected |= {("dynamodb:Query", TABLE_SUFFIXES[access.model])
                     for access in accesses if access.indexes}
        assert granted == expected, function
        indexes = {arn.split("/index/")[1] for arn in by_action.get("dynamodb:Query", [])
                   if "/index/" in arn}
        assert indexes == {name for access in accesses for name in access.indexes}, function


def test_only_the_api_and_runners_touch_payload_objects(built: Built) -> None:
    for function, role_path in ROLE_PATHS.items():
        s3 = {a for a in _by_action(built, role_path) if a.startswith("s3:")}
        if function == "api":
            assert s3 == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
        elif function in ("node-runner", "webhooks"):
            assert s3 == {"s3:GetObject", "s3:PutObject"}
        elif function in ("triggers", "error-router"):  # starts stage large inputs
            assert s3 == {"s3:PutObject"}, function
        else:
            assert not s3, function


def test_webhooks_may_follow_the_executions_they_start(built: Built) -> None:
    by_action = _by_action(built, "Functions/WebhooksRole")
    assert by_action["states:DescribeExecution"] == [
        "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:sfnflow-dev-*:*"]
    assert all(arn.endswith(":stateMachine:sfnflow-dev-*")
               for arn in by_action["states:StartExecution"])


def test_state_machine_role(built: Built) -> None:
    by_action = _by_action(built, "StateMachineRole/Role")
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
    # Distributed Maps read staged batches and export results (ResultWriter): loops/ only
    assert {a for a in by_action if a.startswith("s3:")} == {
        "s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"}
    assert all(a.endswith("/loops/*") for action, arns in by_action.items()
               if action.startswith("s3:") for a in arns)


def test_status_change_handlers_read_executions_and_start_error_workflows(built: Built) -> None:
    for role in ("Functions/ExecutionEventsRole", "Functions/ErrorRouterRole"):
        actions = actions_of(policy_statements(built, role))
        assert {"states:GetExecutionHistory", "states:DescribeStateMachineForExecution",
                "states:DescribeExecution", "states:ListTagsForResource",
                "states:StartExecution"} <= actions
