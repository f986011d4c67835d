"""One state machine per workflow in workflows/, holding the compiled definition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sfnflow_cdk.state_machines import compile_workflows

from .conftest import ROOT, Built


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return compile_workflows(ROOT / "workflows")


def _machines(built: Built) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["StateMachineName"]: r["Properties"]
            for r in built.resources("AWS::StepFunctions::StateMachine").values()}


def test_one_machine_per_workflow_file(built: Built, compiled: dict[str, Any]) -> None:
    files = [p for p in (ROOT / "workflows").iterdir() if p.suffix in (".yaml", ".yml", ".json")]
    assert len(compiled) == len(files) >= 2
    assert set(_machines(built)) == {f"sfnflow-dev-{name}" for name in compiled}


def _in_partition(definition: Any, partition: str) -> str:
    """The definition string CloudFormation makes in ``partition``: the stack writes the
    partition into it (``{"Ref": "AWS::Partition"}`` parts of an ``Fn::Join``)."""
    if isinstance(definition, str):
        return definition
    separator, parts = definition["Fn::Join"]
    return separator.join(partition if part == {"Ref": "AWS::Partition"} else part
                          for part in parts)


def test_definition_is_the_compiled_asl_with_substitutions(built: Built,
                                                           compiled: dict[str, Any]) -> None:
    machines = _machines(built)
    for name, workflow in compiled.items():
        machine = machines[f"sfnflow-dev-{name}"]
        assert json.loads(_in_partition(machine["DefinitionString"], "aws-cn")) == \
            json.loads(workflow.definition_json({"Partition": "aws-cn"}))
        substitutions = machine["DefinitionSubstitutions"]
        assert set(substitutions) == {"NodeRunnerArn", *(
            link["substitution"] for link in workflow.manifest["children"].values())}
        assert str(substitutions["NodeRunnerArn"]).endswith(
            ":function:sfnflow-dev-node-runner']]}")
        for child, link in workflow.manifest["children"].items():
            assert str(substitutions[link["substitution"]]).endswith(
                f":stateMachine:sfnflow-dev-{child}']]}}")
        assert "TimeoutSeconds" in workflow.definition


def test_a_workflow_runs_a_child(compiled: dict[str, Any]) -> None:
    assert any(w.manifest["children"] for w in compiled.values())


def test_logging_tracing_role_and_tags(built: Built) -> None:
    role = built.stack.get_logical_id(built.stack.state_machine_role.node.default_child)
    for name, machine in _machines(built).items():
        assert machine["LoggingConfiguration"]["Level"] == "ALL"
        assert machine["LoggingConfiguration"]["Destinations"]
        assert machine["TracingConfiguration"] == {"Enabled": True}
        assert machine["RoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
        tags = {t["Key"]: t["Value"] for t in machine["Tags"]}
        assert tags["sfnflow:workflow"] == name.removeprefix("sfnflow-dev-")


def test_manifest_tags_become_machine_tags(tmp_path: Path) -> None:
    """``manifest["tags"]`` (when the compiler provides it) is copied onto the machine."""
    from aws_cdk import App, RemovalPolicy, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Match, Template
    from sfnflow_cdk.naming import Naming
    from sfnflow_cdk.state_machines import WorkflowStateMachines

    (tmp_path / "one.yaml").write_text(
        "name: one\nnodes:\n  - {name: Start, type: manualTrigger}\nconnections: []\n")
    compiled = compile_workflows(tmp_path)
    compiled["one"].manifest["tags"] = {"team": "data"}
    stack = Stack(App(), "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    WorkflowStateMachines(stack, "Workflows", naming=Naming("dev"), compiled=compiled,
                          role=role,
                          platform={"NodeRunnerArn": "arn:aws:lambda:us-east-1:1:function:f"},
                          log_retention=logs.RetentionDays.ONE_WEEK,
                          removal_policy=RemovalPolicy.DESTROY)
    Template.from_stack(stack).has_resource_properties("AWS::StepFunctions::StateMachine", {
        "Tags": Match.array_with([{"Key": "team", "Value": "data"}])})


def test_a_quorum_merge_gets_its_table_substitution(tmp_path: Path) -> None:
    """Only the placeholders a definition uses are substituted: ``waitFor: N`` merges
    count their branches in the quorum table."""
    from aws_cdk import App, RemovalPolicy, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Template
    from sfnflow_cdk.naming import Naming
    from sfnflow_cdk.state_machines import WorkflowStateMachines

    (tmp_path / "quotes.yaml").write_text((ROOT / "examples/two-of-three-quotes.yaml").read_text())
    compiled = compile_workflows(tmp_path)
    stack = Stack(App(), "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    WorkflowStateMachines(stack, "Workflows", naming=Naming("dev"), compiled=compiled,
                          role=role, platform={"NodeRunnerArn": "arn:runner",
                                               "MergeQuorumTable": "sfnflow-dev-merge-quorums",
                                               "Unused": "x"},
                          log_retention=logs.RetentionDays.ONE_WEEK,
                          removal_policy=RemovalPolicy.DESTROY)
    (machine,) = Template.from_stack(stack).find_resources(
        "AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["DefinitionSubstitutions"] == {
        "NodeRunnerArn": "arn:runner", "MergeQuorumTable": "sfnflow-dev-merge-quorums"}


def _on_bus(bus: str) -> dict[str, Any]:
    return {"name": "on-order", "nodes": [
        {"name": "Order placed", "type": "eventTrigger",
         "parameters": {"eventBus": bus, "pattern": {"source": ["shop.orders"]}}}],
        "connections": []}


def test_a_workflow_file_listening_on_a_foreign_bus_fails_the_synth(tmp_path: Path) -> None:
    """Only ``default`` and the stage's bus: the API's role may put rules on no other
    (it would fail with AccessDenied when the workflow is activated)."""
    from compiler.errors import WorkflowInvalid

    (tmp_path / "on-order.json").write_text(json.dumps(_on_bus("shop")))
    with pytest.raises(WorkflowInvalid) as raised:
        compile_workflows(tmp_path, event_buses=("default", "sfnflow-dev"))
    (problem,) = raised.value.problems
    assert (problem.workflow, problem.node, problem.field) == \
        ("on-order", "Order placed", "parameters.eventBus")
    for bus in ("sfnflow-dev", "default",
                "arn:aws:events:us-east-1:123456789012:event-bus/sfnflow-dev"):
        (tmp_path / "on-order.json").write_text(json.dumps(_on_bus(bus)))
        assert set(compile_workflows(tmp_path, event_buses=("default", "sfnflow-dev"))) == \
            {"on-order"}


def test_api_created_machines_get_a_log_group_and_the_api_may_deliver_to_it(
        built: Built) -> None:
    """``functions.services.workflows.observability`` reads the log group's ARN; creating
    a machine with logging needs the caller to hold the log delivery actions."""
    from .conftest import actions_of, policy_statements

    stack = built.stack
    group_id = stack.get_logical_id(stack.runtime_logs.node.default_child)
    group = built.template.to_json()["Resources"][group_id]["Properties"]
    assert group["LogGroupName"] == "/aws/vendedlogs/states/sfnflow-dev/api-created"
    api = built.resources("AWS::Lambda::Function")[stack.get_logical_id(
        stack.functions.functions["api"].node.default_child)]["Properties"]
    env = api["Environment"]["Variables"]
    assert env["SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert env["SFNFLOW_PARTITION"] == {"Ref": "AWS::Partition"}
    assert env["SFNFLOW_EVENT_BUS"] == "sfnflow-dev"
    statements = policy_statements(built, "Functions/ApiRole")
    delivery = [s for s in statements if "logs:CreateLogDelivery" in actions_of([s])]
    assert delivery and delivery[0]["Resource"] == "*"
    assert {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"} <= actions_of(delivery)


def test_every_function_that_can_make_a_machine_makes_it_log_and_trace(built: Built) -> None:
    """Machines made at run time (``functions.services.workflows.observability``) log to
    the stage's log group and are traced, as the stack's are: every function allowed to
    create or update a state machine is told the log group and not told to stop tracing
    (``SFNFLOW_STATE_MACHINE_TRACING`` defaults to on)."""
    from .conftest import actions_of, policy_statements

    stack = built.stack
    group_id = stack.get_logical_id(stack.runtime_logs.node.default_child)
    makers = []
    for role, function in stack.functions.functions.items():
        actions = actions_of(policy_statements(built, f"Functions/{_role_path(role)}"))
        if actions & {"states:CreateStateMachine", "states:UpdateStateMachine"}:
            makers.append(role)
            props = built.resources("AWS::Lambda::Function")[stack.get_logical_id(
                function.node.default_child)]["Properties"]
            env = props["Environment"]["Variables"]
            assert env["SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN"] == \
                {"Fn::GetAtt": [group_id, "Arn"]}, role
            assert env.get("SFNFLOW_STATE_MACHINE_TRACING", "true").lower() == "true", role
    assert makers == ["api"]


def _role_path(role: str) -> str:
    return "".join(part.capitalize() for part in role.split("-")) + "Role"
