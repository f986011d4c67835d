"""The stack's workflows registered at deploy time (issue 10, item 3): one custom resource
per workflow of ``workflows/``, through the provider framework to the registration
function, carrying what the registry needs."""

from __future__ import annotations

import json
from typing import Any

from sfnflow_cdk.stack import ROOT

from compiler import load_file

from .conftest import Built, actions_of, policy_statements


def logical_id(built: Built, construct: Any) -> str:
    return str(built.stack.get_logical_id(construct.node.default_child))


def registrations(built: Built) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["WorkflowId"]: r
            for r in built.resources("Custom::SfnflowWorkflow").values()}


def test_one_registration_per_stack_workflow(built: Built) -> None:
    found = registrations(built)
    files = sorted((ROOT / "workflows").glob("*.yaml"))
    assert sorted(found) == sorted(load_file(path)["name"] for path in files)
    machines = built.stack.state_machines.machines
    for path in files:
        document = load_file(path)
        properties = found[document["name"]]["Properties"]
        assert json.loads(properties["Document"]) == document
        manifest = json.loads(properties["Manifest"])
        assert manifest["workflow"] == document["name"] and "triggers" in manifest
        assert properties["StateMachineArn"] == {
            "Ref": logical_id(built, machines[document["name"]])}


def test_registrations_go_through_the_provider_to_the_registration_function(
        built: Built) -> None:
    provider = built.stack.registration.provider
    token = built.resolve(provider.service_token)
    for resource in registrations(built).values():
        assert resource["Properties"]["ServiceToken"] == token
    framework = built.resources("AWS::Lambda::Function")[token["Fn::GetAtt"][0]]
    variables = framework["Properties"]["Environment"]["Variables"]
    registration = logical_id(built, built.stack.functions.functions["registration"])
    assert variables["USER_ON_EVENT_FUNCTION_ARN"] == {"Fn::GetAtt": [registration, "Arn"]}


def test_registrations_wait_for_tables_bus_schedules_and_their_policy(built: Built) -> None:
    role = built.stack.functions.roles["registration"]
    policy = built.stack.get_logical_id(role.node.find_child("DefaultPolicy")
                                        .node.default_child)
    needed = {policy, logical_id(built, built.stack.events.bus),
              built.stack.get_logical_id(built.stack.events.schedule_group.node.default_child)}
    for resource in registrations(built).values():
        assert needed <= set(resource["DependsOn"])


def test_the_registration_role_manages_triggers_and_the_registry_only(built: Built) -> None:
    statements = policy_statements(built, "Functions/RegistrationRole")
    actions = actions_of(statements)
    assert {"scheduler:CreateSchedule", "events:PutRule", "events:PutTargets",
            "dynamodb:PutItem", "iam:PassRole"} <= actions
    assert not {a for a in actions if a.startswith("states:")}  # CloudFormation owns them
    [passing] = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
