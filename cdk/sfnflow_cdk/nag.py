"""cdk-nag (AwsSolutions): the checks, and every finding this stack accepts, with why.

Each acknowledgement names one finding (cdk-nag 3 has no blanket suppression) and says
why it is acceptable. Wildcard resources in IAM policies (AwsSolutions-IAM5) are only
acknowledged when they are one of the reviewed scopes in ``reviewed_wildcards``: a new
wildcard anywhere fails the nag test until someone reviews it and adds it there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from sfnflow_cdk import functions as fns
from sfnflow_cdk import permissions

if TYPE_CHECKING:
    from sfnflow_cdk.stack import SfnflowStack

LAMBDA_RUNTIME = ("Python 3.12 on purpose: the asset's dependencies are installed as "
                  "CPython 3.12 wheels (bundling.PYTHON_VERSION); move both together.")
API_GATEWAY_LOGS_ROLE = (
    "The account-level role API Gateway needs to write access and execution logs; the "
    "AWS-managed policy grants CloudWatch Logs writes only and is maintained by AWS.")
NO_WAF = ("No WAF web ACL by default: management routes need an API key and are throttled "
          "by a usage plan, webhooks are throttled per stage and HMAC-checked by their "
          "handler. Attach a web ACL to the stage where a deployment needs one.")
API_KEY_AUTH = ("Management routes are authorized by an API key with a usage plan, "
                "sfnflow's access model for operators and CI; no Cognito user pool.")
STREAM_CONNECT_AUTH = (
    "Live progress: $connect requires the management API key (x-api-key, checked against "
    "a usage plan of this stage), sfnflow's access model for operators and CI; no Cognito "
    "user pool or Lambda authorizer.")
STREAM_DISCONNECT_AUTH = (
    "API Gateway allows an authorizer on $connect only; $disconnect runs for a connection "
    "that already passed $connect's API key check, and only forgets its own record.")
WEBHOOK_AUTH = ("Public by design: webhooks are called by third-party services; the handler "
                "verifies each webhook's HMAC signature before starting anything.")


def nag_checks(scope: IConstruct) -> AwsSolutionsChecks:
    return AwsSolutionsChecks(scope)


def reviewed_wildcards(stack: SfnflowStack) -> dict[str, str]:
    """Wildcard IAM resources (as cdk-nag prints them) -> why that scope is right."""
    naming = stack.naming
    rule = naming.state_machine_prefix + "*"
    node_runner = naming.function_arn(stack, fns.NODE_RUNNER.role)
    post, delete = stack.streams.connections_arns()
    return {
        post: "Live progress: WebSocket connection ids are made at connect time; the scope is "
              "posting to the connections of this stage of the one progress API.",
        delete: "Live progress: closing a connection when its execution ends; the scope is "
                "the connections of this stage of the one progress API.",
        "*": "X-Ray (PutTraceSegments, PutTelemetryRecords, sampling) and CloudWatch Logs "
             "delivery actions do not support resource-level permissions; neither do "
             "SendTaskSuccess/SendTaskFailure with the task token of a callback task "
             "(resuming a paused wait), nor DynamoDB ListStreams (the live-progress "
             "publisher's event source mapping; it reads only the progress table's stream), "
             "nor EC2 DescribeNetworkInterfaces/DescribeSubnets (Lambda managing the "
             "isolated code runner's network interfaces).",
        stack.format_arn(service="ec2", resource="network-interface", resource_name="*"):
            "Lambda creates the isolated code runner's network interfaces with its role; "
            "their ids exist only at run time. Creating one is also scoped to the code "
            "runner's subnets and security group (code_network).",
        stack.storage.bucket.arn_for_objects("*"):
            "Payload objects are created per execution and node at run time; the scope is "
            "the objects of the one payload bucket, read and written by exact actions.",
        stack.storage.bucket.arn_for_objects("loops/*"):
            "A loop's batches are staged per execution, loop and iteration at run time; "
            "state machines only read them (s3:GetObject), under the loops/ prefix.",
        naming.state_machines_arn(stack):
            "Workflows deployed through the API become state machines at run time; every "
            "sfnflow machine of this stage (and only those) carries the stage prefix.",
        naming.executions_arn(stack):
            "Executions get their names at run time; the scope is the executions of this "
            "stage's sfnflow state machines.",
        permissions.credential_secrets_arn(stack, naming.stage):
            "Named credentials are created through the API at run time, and workflows "
            "deployed through the API name them: the scope is this stage's credential "
            "secrets (the runner reads values, the API writes them and never reads one).",
        f"{node_runner}:*":
            "Qualified ARNs (versions, aliases) of the node runner: the state machines "
            "invoke exactly this function.",
        stack.format_arn(service="scheduler", resource="schedule",
                         resource_name=f"{naming.prefix}/*"):
            "Schedule triggers are created at run time, only in this stage's schedule group.",
        stack.format_arn(service="events", resource="rule", resource_name=rule):
            "Event-trigger rules are created at run time and named with the stage prefix.",
        stack.format_arn(service="events", resource="rule",
                         resource_name=f"{naming.prefix}/{rule}"):
            "Event-trigger rules on the workflow bus, created at run time and named with "
            "the stage prefix.",
    }


def acknowledge_findings(stack: SfnflowStack) -> None:
    for function in stack.functions.functions.values():
        _acknowledge(function, "AwsSolutions-L1", LAMBDA_RUNTIME)
    api = stack.api.api
    cloud_watch_role = api.node.try_find_child("CloudWatchRole")
    if cloud_watch_role is not None:
        _acknowledge(cloud_watch_role, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::"
                     "aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                     API_GATEWAY_LOGS_ROLE)
    _acknowledge(api.deployment_stage, "AwsSolutions-APIG3", NO_WAF)
    for method in api.methods:
        reason = WEBHOOK_AUTH if method.resource.path.startswith("/webhook") else API_KEY_AUTH
        _acknowledge(method, "AwsSolutions-APIG4", reason)
        _acknowledge(method, "AwsSolutions-COG4", reason)
    _acknowledge(stack.streams.connect_route, "AwsSolutions-APIG4", STREAM_CONNECT_AUTH)
    _acknowledge(stack.streams.disconnect_route, "AwsSolutions-APIG4", STREAM_DISCONNECT_AUTH)
    reviewed = {nag_text(stack, arn): reason for arn, reason in reviewed_wildcards(stack).items()}
    for role in _roles(stack):
        for resource in _wildcard_resources(stack, role):
            if resource in reviewed:
                _acknowledge(role, f"AwsSolutions-IAM5[Resource::{resource}]", reviewed[resource])


def _acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def _roles(scope: IConstruct) -> list[iam.Role]:
    return [c for c in scope.node.find_all() if isinstance(c, iam.Role)]


def _wildcard_resources(stack: Stack, role: iam.Role) -> set[str]:
    policy = role.node.try_find_child("DefaultPolicy")
    if not isinstance(policy, iam.Policy):
        return set()
    document = stack.resolve(policy.document.to_json())
    found = set()
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            text = _render(resource)
            if "*" in text:
                found.add(text)
    return found


def nag_text(stack: Stack, value: str) -> str:
    """``value`` (a string with tokens) as cdk-nag prints it: ``<AWS::Region>``,
    ``<LogicalId.Arn>``."""
    return _render(stack.resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(_render(part) for part in parts)
    return str(value)


__all__ = ["acknowledge_findings", "nag_checks", "nag_text", "reviewed_wildcards"]
