"""The Lambda functions: runtime, handlers, configuration, and least-privilege roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sfnflow_cdk import functions as fns

from .conftest import Built, actions_of, policy_statements

HANDLERS = {
    "sfnflow-dev-node-runner": "functions.handlers.node_runner.lambda_handler",
    "sfnflow-dev-execution-events": "functions.handlers.execution_events.lambda_handler",
    "sfnflow-dev-error-router": "functions.handlers.error_router.lambda_handler",
    "sfnflow-dev-api": "functions.handlers.api.lambda_handler",
    "sfnflow-dev-webhooks": "functions.handlers.webhooks.lambda_handler",
    "sfnflow-dev-code-runner": "functions.handlers.code_runner.lambda_handler",
    "sfnflow-dev-stream-connections": "functions.handlers.stream.connections_handler",
    "sfnflow-dev-stream-publisher": "functions.handlers.stream.publisher_handler",
    "sfnflow-dev-reconciler": "functions.handlers.reconciler.lambda_handler",
    "sfnflow-dev-triggers": "functions.handlers.triggers.lambda_handler",
    "sfnflow-dev-registration": "functions.handlers.registration.lambda_handler",
}
CONFIG_KEYS = {"SFNFLOW_TABLE_PREFIX", "SFNFLOW_PAYLOAD_BUCKET", "SFNFLOW_ACCOUNT_ID",
               "SFNFLOW_STATE_MACHINE_PREFIX", "SFNFLOW_STATE_MACHINE_ROLE_ARN",
               "SFNFLOW_NODE_RUNNER_ARN", "SFNFLOW_SCHEDULER_ROLE_ARN",
               "SFNFLOW_SCHEDULE_GROUP", "SFNFLOW_EVENTS_ROLE_ARN"}
POWERTOOLS_KEYS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL",
                   "POWERTOOLS_METRICS_NAMESPACE"}


def _functions(built: Built) -> dict[str, dict[str, Any]]:
    """sfnflow's functions (the CDK provider framework's function has no name)."""
    return {r["Properties"]["FunctionName"]: r["Properties"]
            for r in built.resources("AWS::Lambda::Function").values()
            if "FunctionName" in r["Properties"]}


def test_every_handler_is_deployed_on_python_312_arm64(built: Built) -> None:
    functions = _functions(built)
    assert {name: f["Handler"] for name, f in functions.items()} == HANDLERS
    for function in functions.values():
        assert function["Runtime"] == "python3.12"
        assert function["Architectures"] == ["arm64"]
        assert "LoggingConfig" in function


def test_platform_functions_get_the_configuration_and_powertools(built: Built) -> None:
    functions = _functions(built)
    for name, function in functions.items():
        variables = function["Environment"]["Variables"]
        assert set(variables) >= POWERTOOLS_KEYS
        if name != "sfnflow-dev-code-runner":
            assert set(variables) >= CONFIG_KEYS, name
            assert variables["SFNFLOW_TABLE_PREFIX"] == "sfnflow-dev"
            assert variables["SFNFLOW_STATE_MACHINE_PREFIX"] == "sfnflow-dev-"
            assert variables["SFNFLOW_SCHEDULE_GROUP"] == "sfnflow-dev"
    runner = functions["sfnflow-dev-node-runner"]["Environment"]["Variables"]
    assert "SFNFLOW_CODE_RUNNER_ARN" in runner
    assert "function:sfnflow-dev-code-runner" in str(runner["SFNFLOW_CODE_RUNNER_ARN"])
    # the invoke's read timeout is set past the code runner's own (issue 10 item 4)
    code_runner = functions["sfnflow-dev-code-runner"]
    assert runner["SFNFLOW_CODE_RUNNER_TIMEOUT"] == str(code_runner["Timeout"])
    for name in ("sfnflow-dev-api", "sfnflow-dev-webhooks"):
        url = str(functions[name]["Environment"]["Variables"]["SFNFLOW_API_URL"])
        assert ".execute-api." in url and url.endswith("/dev']]}")


def test_code_runner_sees_no_configuration_and_has_no_tracing(built: Built) -> None:
    runner = _functions(built)["sfnflow-dev-code-runner"]
    assert set(runner["Environment"]["Variables"]) == POWERTOOLS_KEYS
    assert "TracingConfig" not in runner or runner["TracingConfig"]["Mode"] == "PassThrough"


ENI_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
               "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}


def test_code_runner_role_can_only_write_its_logs(built: Built) -> None:
    """...and let Lambda manage its network interfaces in the isolated VPC."""
    statements = policy_statements(built, "Functions/CodeRunnerRole")
    logs = [s for s in statements if not str(s["Action"]).count("ec2:")]
    assert actions_of(logs) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert actions_of(statements) - actions_of(logs) == ENI_ACTIONS
    log_group = built.stack.get_logical_id(
        built.stack.functions.node.find_child("CodeRunnerLogs").node.default_child)
    for statement in logs:
        assert statement["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
    [create] = [s for s in statements if s["Action"] == "ec2:CreateNetworkInterface"]
    rendered = json.dumps(create["Resource"])
    assert rendered.count(":subnet/") == 2 and rendered.count(":security-group/") == 1
    role = built.template.to_json()["Resources"][built.stack.get_logical_id(
        built.stack.functions.roles["code-runner"].node.default_child)]["Properties"]
    assert "ManagedPolicyArns" not in role


def test_node_runner_may_invoke_the_code_runner(built: Built) -> None:
    statements = policy_statements(built, "Functions/NodeRunnerRole")
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    code_runner = built.stack.get_logical_id(
        built.stack.functions.functions["code-runner"].node.default_child)
    assert invoke == [{"Action": "lambda:InvokeFunction", "Effect": "Allow",
                       "Resource": {"Fn::GetAtt": [code_runner, "Arn"]}}]


def test_no_role_uses_managed_policies_but_api_gateways_logging_role(built: Built) -> None:
    """... and the CDK custom-resource provider framework's (``registration``)."""
    for logical_id, role in built.resources("AWS::IAM::Role").items():
        if role["Properties"].get("ManagedPolicyArns"):
            assert "CloudWatchRole" in logical_id or \
                logical_id.startswith("RegistrationProviderframework")


def test_platform_roles_reach_tables_by_name_and_index(built: Built) -> None:
    statements = policy_statements(built, "Functions/ApiRole")
    tables = [s for s in statements if "dynamodb:" in str(s["Action"])]
    assert tables and "dynamodb:Scan" not in actions_of(tables)
    rendered = str([s["Resource"] for s in tables])
    assert "/index/byWorkflow" in rendered and "/index/*" not in rendered


def test_function_specs_cover_every_function() -> None:
    assert {spec.handler for spec in fns.ALL_FUNCTIONS} == set(HANDLERS.values())


# ------------------------------------------------ the code runner's network (item 13)


def _code_runner_vpc(built: Built) -> tuple[dict[str, Any], list[str], list[str]]:
    config = _functions(built)["sfnflow-dev-code-runner"]["VpcConfig"]
    subnets = [ref["Ref"] for ref in config["SubnetIds"]]
    groups = [ref["Fn::GetAtt"][0] for ref in config["SecurityGroupIds"]]
    return config, subnets, groups


def test_code_runner_runs_in_a_vpc_without_egress_by_default(built: Built) -> None:
    """Lambda cannot block egress from code; a VPC with isolated subnets (no internet or
    NAT gateway, no route out) and a security group without egress rules can."""
    _, subnets, [group] = _code_runner_vpc(built)
    resources = built.template.to_json()["Resources"]
    assert len(subnets) == 2
    for subnet in subnets:
        assert resources[subnet]["Properties"]["MapPublicIpOnLaunch"] is False
    for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route",
                 "AWS::EC2::VPCEndpoint", "AWS::EC2::EgressOnlyInternetGateway"):
        assert not built.resources(kind), kind
    properties = resources[group]["Properties"]
    assert "SecurityGroupIngress" not in properties
    # CDK's placeholder for "no outbound": one rule to 255.255.255.255/32 that matches nothing
    [egress] = properties["SecurityGroupEgress"]
    assert egress["CidrIp"] == "255.255.255.255/32"
    assert built.resources("AWS::EC2::FlowLog")
    # only the code runner is in the VPC
    in_vpc = [name for name, f in _functions(built).items() if "VpcConfig" in f]
    assert in_vpc == ["sfnflow-dev-code-runner"]


def test_code_runner_network_is_a_documented_stack_setting() -> None:
    from aws_cdk import App
    from sfnflow_cdk import code_network
    from sfnflow_cdk.stack import Settings

    assert Settings.from_context(App()).code_runner_network == "isolated"
    app = App(context={"codeRunnerNetwork": "Internet"})
    assert Settings.from_context(app).code_runner_network == "internet"
    assert code_network.network_setting(None) == "isolated"
    with pytest.raises(ValueError, match="codeRunnerNetwork must be one of isolated, internet"):
        code_network.network_setting("open")


def test_the_runners_have_the_memory_the_costs_bill(built: Built) -> None:
    """Lambda bills duration x configured memory: the stack configures the sizes
    ``functions.costs.memory`` decides, which the cost of every execution reads."""
    from functions.costs.memory import CODE_RUNNER_MB, NODE_RUNNER_MB

    functions = _functions(built)
    assert functions["sfnflow-dev-node-runner"]["MemorySize"] == NODE_RUNNER_MB
    assert functions["sfnflow-dev-code-runner"]["MemorySize"] == CODE_RUNNER_MB
