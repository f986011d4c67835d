"""The Lambda functions and their roles.

Each function gets its own role and log group; a role starts with nothing but writing that
log group, and every other permission is granted where the resource it reaches is made
(tables, bucket, state machines, events): each function gets only the tables, indexes
and actions it uses (``permissions.DATA_ACCESS``). The code runner keeps only its logs
(and, isolated, its network interfaces): the user's code in a ``code`` node runs there,
away from the run data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.costs.memory import CODE_RUNNER_MB, NODE_RUNNER_MB
from functions.metrics import NAMESPACE as METRICS_NAMESPACE
from functions.services.execution_logs import LOG_GROUPS_ENV
from sfnflow_cdk.naming import Naming

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64


@dataclass(frozen=True)
class FunctionSpec:
    role: str  # the function's name after the stage prefix, e.g. "node-runner"
    handler: str
    description: str
    timeout_seconds: int = 60
    memory_mb: int = 512
    tracing: bool = True


NODE_RUNNER = FunctionSpec("node-runner", "functions.handlers.node_runner.lambda_handler",
                           "Runs one workflow node (the Task of every runner state)",
                           timeout_seconds=900, memory_mb=NODE_RUNNER_MB)
EXECUTION_EVENTS = FunctionSpec(
    "execution-events", "functions.handlers.execution_events.lambda_handler",
    "Records execution status changes (EventBridge) in the run data")
ERROR_ROUTER = FunctionSpec("error-router", "functions.handlers.error_router.lambda_handler",
                            "Starts a failed execution's error workflow (EventBridge)")
API = FunctionSpec("api", "functions.handlers.api.lambda_handler",
                   "The management REST API (workflows, executions)", timeout_seconds=29)
WEBHOOKS = FunctionSpec("webhooks", "functions.handlers.webhooks.lambda_handler",
                        "Starts workflows from public webhook calls (HMAC checked)",
                        timeout_seconds=29)
CODE_RUNNER = FunctionSpec("code-runner", "functions.handlers.code_runner.lambda_handler",
                           "Runs code-node Python; its role can only write its logs",
                           timeout_seconds=300, memory_mb=CODE_RUNNER_MB,
                           tracing=False)
STREAM_CONNECTIONS = FunctionSpec(
    "stream-connections", "functions.handlers.stream.connections_handler",
    "Live progress: records WebSocket connections ($connect, $disconnect)",
    timeout_seconds=10, memory_mb=256)
STREAM_PUBLISHER = FunctionSpec(
    "stream-publisher", "functions.handlers.stream.publisher_handler",
    "Live progress: posts new progress events (table stream) to WebSocket connections",
    timeout_seconds=60, memory_mb=512)
RECONCILER = FunctionSpec(
    "reconciler", "functions.handlers.reconciler.lambda_handler",
    "Completes executions whose status-change event was lost (every 5 minutes)",
    timeout_seconds=300)
TRIGGERS = FunctionSpec(
    "triggers", "functions.handlers.triggers.lambda_handler",
    "Starts workflows for schedules and event rules, named per delivery (idempotent)",
    timeout_seconds=30)
REGISTRATION = FunctionSpec(
    "registration", "functions.handlers.registration.lambda_handler",
    "Registers the stack's workflows in the workflow registry (CloudFormation)",
    timeout_seconds=300)
# Reserved concurrency (stack context ``runnerReservedConcurrency``) applies to both: every
# code-runner call is made by a node-runner invocation, so the same number never throttles it.
RUNNERS = (NODE_RUNNER, CODE_RUNNER)
# The functions whose lines belong to executions: ``GET /executions/{id}/logs`` queries
# their log groups (Logs Insights) for the execution's correlation key.
EXECUTION_LOGS = (NODE_RUNNER, CODE_RUNNER, EXECUTION_EVENTS, ERROR_ROUTER)
ALL_FUNCTIONS = (NODE_RUNNER, EXECUTION_EVENTS, ERROR_ROUTER, API, WEBHOOKS, CODE_RUNNER,
                 STREAM_CONNECTIONS, STREAM_PUBLISHER, RECONCILER, TRIGGERS, REGISTRATION)


class PlatformFunctions(Construct):
    """``functions[spec.role]`` is the function of ``spec``; ``roles`` likewise."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming, code: lambda_.Code,
                 log_level: str, log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy,
                 runner_reserved_concurrency: int | None = None,
                 networks: dict[str, dict[str, Any]] | None = None) -> None:
        """``networks``: function role -> the ``lambda_.Function`` keyword arguments that
        place it in a VPC (``code_network.IsolatedNetwork.function_props``)."""
        super().__init__(scope, id)
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.log_group_names: dict[str, str] = {}  # literal names (the token's value)
        for spec in ALL_FUNCTIONS:
            name = naming.function(spec.role)
            self.log_group_names[spec.role] = f"/aws/lambda/{name}"
            log_group = logs.LogGroup(self, f"{_pascal(spec.role)}Logs",
                                      log_group_name=self.log_group_names[spec.role],
                                      retention=log_retention, removal_policy=removal_policy)
            role = iam.Role(self, f"{_pascal(spec.role)}Role",
                            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=f"{name}: {spec.description}")
            log_group.grant_write(role)
            function = lambda_.Function(
                self, _pascal(spec.role),
                function_name=name,
                description=spec.description,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                code=code,
                handler=spec.handler,
                role=role,
                log_group=log_group,
                timeout=Duration.seconds(spec.timeout_seconds),
                memory_size=spec.memory_mb,
                reserved_concurrent_executions=(runner_reserved_concurrency
                                                if spec in RUNNERS else None),
                tracing=lambda_.Tracing.ACTIVE if spec.tracing else lambda_.Tracing.DISABLED,
                **(networks or {}).get(spec.role, {}),
                environment={
                    "POWERTOOLS_SERVICE_NAME": f"sfnflow-{spec.role}",
                    "POWERTOOLS_LOG_LEVEL": log_level,
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                },
            )
            self.functions[spec.role] = function
            self.roles[spec.role] = role
            self.log_groups[spec.role] = log_group
        self._grant_execution_logs(API)

    def _grant_execution_logs(self, reader: FunctionSpec) -> None:
        """``reader`` (the API) runs Logs Insights queries over the executions' log groups:
        StartQuery names them; GetQueryResults and StopQuery take a query id and support
        no resource-level permissions (``*``)."""
        groups = [self.log_groups[spec.role] for spec in EXECUTION_LOGS]
        self.functions[reader.role].add_environment(
            LOG_GROUPS_ENV, ",".join(self.log_group_names[spec.role] for spec in EXECUTION_LOGS))
        role = self.roles[reader.role]
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:StartQuery"], resources=[group.log_group_arn for group in groups]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:GetQueryResults", "logs:StopQuery"], resources=["*"]))

    def platform(self) -> list[lambda_.Function]:
        """Every function but the code runner: those that see the platform's configuration."""
        return [f for role, f in self.functions.items() if role != CODE_RUNNER.role]

    def add_environment(self, variables: dict[str, str]) -> None:
        for function in self.platform():
            for key, value in variables.items():
                function.add_environment(key, value)


def _pascal(role: str) -> str:
    return "".join(part.capitalize() for part in role.split("-"))
