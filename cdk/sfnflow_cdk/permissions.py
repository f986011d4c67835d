"""Who may do what: every grant between the stack's parts, with resources named exactly
(tables and their indexes by name, this stage's state machines and rules by prefix)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from sfnflow_cdk.naming import Naming
from sfnflow_cdk.tables import Tables

TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                 "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                 "dynamodb:DescribeTable")
PAYLOAD_ACTIONS = ("s3:GetObject", "s3:PutObject")
TABLE_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
EXECUTION_READ_ACTIONS = ("states:DescribeExecution", "states:GetExecutionHistory",
                          "states:DescribeStateMachineForExecution")
STATE_MACHINE_ADMIN_ACTIONS = (
    "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine",
    "states:DescribeStateMachine", "states:TagResource", "states:UntagResource",
    "states:ListTagsForResource", "states:StartExecution", "states:ListExecutions")
EXECUTION_ADMIN_ACTIONS = (*EXECUTION_READ_ACTIONS, "states:StopExecution")
SCHEDULE_ACTIONS = ("scheduler:CreateSchedule", "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule", "scheduler:GetSchedule")
RULE_ACTIONS = ("events:PutRule", "events:PutTargets", "events:RemoveTargets",
                "events:DeleteRule", "events:EnableRule", "events:DisableRule",
                "events:DescribeRule")


def grant_run_data(role: iam.IRole, tables: Tables, bucket: s3.IBucket) -> None:
    """Read and write every run-data table (and its indexes) and the payload objects."""
    resources = []
    for suffix, table in tables.tables.items():
        resources.append(table.table_arn)
        resources += [f"{table.table_arn}/index/{name}" for name in tables.index_names(suffix)]
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(TABLE_ACTIONS),
                                                     resources=resources))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(PAYLOAD_ACTIONS), resources=[bucket.arn_for_objects("*")]))


def grant_read_staged_items(role: iam.IRole, bucket: s3.IBucket) -> None:
    """A loop's batches, written by the runner under ``loops/`` for a Distributed Map's
    ItemReader (``functions.services.loop_items``): read only, that prefix only."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[bucket.arn_for_objects("loops/*")]))


def grant_tables(role: iam.IRole, tables: Tables, actions: dict[str, tuple[str, ...]]) -> None:
    """Exactly ``actions[suffix]`` on each named table and its indexes, and nothing else:
    for the functions that need a few tables, not the whole run data."""
    for suffix, table_actions in actions.items():
        table = tables.tables[suffix]
        indexes = tables.index_names(suffix) if "dynamodb:Query" in table_actions else []
        resources = [table.table_arn, *(f"{table.table_arn}/index/{name}" for name in indexes)]
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(table_actions),
                                                         resources=resources))


def grant_manage_connections(role: iam.IRole, connections_arns: list[str]) -> None:
    """Post to and close the WebSocket connections of one API stage (``connections_arns``:
    ``.../<stage>/POST/@connections/*`` and ``DELETE``), not any other API's."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["execute-api:ManageConnections"], resources=connections_arns))


def grant_follow_executions(role: iam.IRole, naming: Naming, stack: Stack) -> None:
    """What the status-change handlers need: read an execution and its machine's tags,
    and start workflows (the error router starts error workflows)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(EXECUTION_READ_ACTIONS), resources=[naming.executions_arn(stack)]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:ListTagsForResource", "states:StartExecution",
                 "states:DescribeStateMachine"],
        resources=[naming.state_machines_arn(stack)]))


def grant_start_workflows(role: iam.IRole, naming: Naming, stack: Stack) -> None:
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:StartExecution", "states:DescribeStateMachine"],
        resources=[naming.state_machines_arn(stack)]))


def grant_manage_workflows(role: iam.IRole, naming: Naming, stack: Stack, *,
                           passable_roles: list[iam.IRole], schedule_group: str,
                           event_bus: str) -> None:
    """The API: deploy workflows as state machines, run and stop them, and wire their
    schedule and event triggers — passing only the three platform roles."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(STATE_MACHINE_ADMIN_ACTIONS), resources=[naming.state_machines_arn(stack)]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(EXECUTION_ADMIN_ACTIONS), resources=[naming.executions_arn(stack)]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["iam:PassRole"], resources=[r.role_arn for r in passable_roles]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(SCHEDULE_ACTIONS),
        resources=[stack.format_arn(service="scheduler", resource="schedule",
                                    resource_name=f"{schedule_group}/*")]))
    rule = naming.state_machine_prefix + "*"
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(RULE_ACTIONS),
        resources=[stack.format_arn(service="events", resource="rule", resource_name=rule),
                   stack.format_arn(service="events", resource="rule",
                                    resource_name=f"{event_bus}/{rule}")]))


LOG_DELIVERY_ACTIONS = ("logs:CreateLogDelivery", "logs:GetLogDelivery",
                        "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                        "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")


def grant_state_machine_logging(role: iam.IRole) -> None:
    """Create/Update/DeleteStateMachine with a ``loggingConfiguration``: Step Functions
    sets up CloudWatch Logs delivery (vended logs) as the caller, who needs the log
    delivery actions; they support no resource-level permissions, hence ``*``."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(LOG_DELIVERY_ACTIONS), resources=["*"]))


def grant_invoke(role: iam.IRole, function_arn: str) -> None:
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["lambda:InvokeFunction"], resources=[function_arn]))


def grant_send_task_results(role: iam.IRole) -> None:
    """Resume paused waits: send a callback task's token back. IAM cannot scope the tokens
    of service-integration tasks, so the resource is ``*`` (see ``nag.reviewed_wildcards``)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=["*"]))
