"""The stack's workflows, registered: one custom resource per workflow of ``workflows/``.

The state machines compiled at synth time (``state_machines.WorkflowStateMachines``) are
written to the workflow registry and activated — webhooks, schedules, event rules — by the
registration function (``functions.handlers.registration``), which CloudFormation calls
through the CDK provider framework on Create, Update and Delete. The resource's
properties are ``functions.services.registration.registration_properties``: the document,
the manifest and the machine's ARN, so a changed workflow is an Update (a new version in
the registry) and a workflow removed from the folder is a Delete (its triggers and
registry entry go, its run data stays). Without them the API answers 404 for the stack's
workflows and their triggers never exist.

Each resource waits for the tables, the event bus, the schedule group and the
registration role's policy; on stack deletion it goes first, removing the rules and
schedules it made before their bus and group are deleted.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CustomResource, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from compiler import CompiledWorkflow
from functions.services.registration import registration_properties
from functions.store.models import (
    TABLE_SUFFIXES,
    WebhookModel,
    WorkflowModel,
    WorkflowVersionModel,
)
from sfnflow_cdk import permissions
from sfnflow_cdk.naming import Naming
from sfnflow_cdk.tables import Tables

RESOURCE_TYPE = "Custom::SfnflowWorkflow"
REGISTRY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem")
PROVIDER_FRAMEWORK = (
    "The CDK custom-resource provider framework (aws_cdk.custom_resources.Provider): its "
    "Node.js function, runtime and AWSLambdaBasicExecutionRole are chosen and maintained "
    "by the CDK; it may invoke only the registration function (and its versions).")


class WorkflowRegistration(Construct):
    """``resources[workflow]`` is the custom resource registering that workflow."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 function: lambda_.IFunction, role: iam.IRole,
                 machines: dict[str, sfn.StateMachine],
                 compiled: dict[str, CompiledWorkflow], tables: Tables,
                 scheduler_role: iam.IRole, after: list[IConstruct],
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        _grant(role, naming, Stack.of(self), tables, scheduler_role)
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=function,
            log_group=logs.LogGroup(self, "ProviderLogs", retention=log_retention,
                                    removal_policy=removal_policy))
        Validations.of(self.provider).acknowledge(
            Acknowledgment(id="AwsSolutions-L1", reason=PROVIDER_FRAMEWORK),
            Acknowledgment(id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:"
                              "policy/service-role/AWSLambdaBasicExecutionRole]",
                           reason=PROVIDER_FRAMEWORK),
            Acknowledgment(id="AwsSolutions-IAM5[Resource::<"
                              f"{Stack.of(self).get_logical_id(_cfn(function))}.Arn>:*]",
                           reason=PROVIDER_FRAMEWORK))
        self.resources: dict[str, CustomResource] = {}
        for name, machine in sorted(machines.items()):
            resource = CustomResource(
                self, name, service_token=self.provider.service_token,
                resource_type=RESOURCE_TYPE,
                properties=registration_properties(compiled[name], machine.state_machine_arn))
            for dependency in (function, role, *after):
                resource.node.add_dependency(dependency)
            self.resources[name] = resource


def _cfn(function: lambda_.IFunction) -> lambda_.CfnFunction:
    child = function.node.default_child
    assert isinstance(child, lambda_.CfnFunction)
    return child


def _grant(role: iam.IRole, naming: Naming, stack: Stack, tables: Tables,
           scheduler_role: iam.IRole) -> None:
    """The registry's tables; this stage's schedules and trigger rules, as the API makes
    them; passing only the Scheduler role, only to Scheduler."""
    permissions.grant_tables(role, tables, {
        TABLE_SUFFIXES[model]: REGISTRY_ACTIONS
        for model in (WorkflowModel, WorkflowVersionModel, WebhookModel)})
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(permissions.SCHEDULE_ACTIONS),
        resources=[stack.format_arn(service="scheduler", resource="schedule",
                                    resource_name=f"{naming.prefix}/*")]))
    rule = naming.state_machine_prefix + "*"
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(permissions.RULE_ACTIONS),
        resources=[stack.format_arn(service="events", resource="rule", resource_name=rule),
                   stack.format_arn(service="events", resource="rule",
                                    resource_name=f"{naming.prefix}/{rule}")]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["iam:PassRole"], resources=[scheduler_role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}))
