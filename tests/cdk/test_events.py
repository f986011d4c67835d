"""EventBridge: the workflow bus, the status-change rule, Scheduler's group."""

from __future__ import annotations

from typing import Any

from .conftest import Built


def test_workflow_bus_and_schedule_group(template: Any) -> None:
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "sfnflow-dev"})
    template.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "sfnflow-dev"})


def test_status_change_rule_pattern_and_targets(built: Built) -> None:
    [rule] = built.resources("AWS::Events::Rule").values()
    props = rule["Properties"]
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
    permissions = [p["Properties"] for p in built.resources("AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "events.amazonaws.com"]
    assert {p["FunctionName"]["Fn::GetAtt"][0] for p in permissions} == expected
