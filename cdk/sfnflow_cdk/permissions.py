"""Who may do what: every grant between the stack's parts, with resources named exactly
(tables and their indexes by name, this stage's state machines and rules by prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from pynamodb.models import Model

from functions.credentials.names import secret_prefix
from functions.store.models import (
    TABLE_SUFFIXES,
    AdmissionModel,
    ByAdmissionKindIndex,
    ByGuardKindIndex,
    ByKindIndex,
    ByMonthIndex,
    ByStartedAtIndex,
    ByStatusIndex,
    ByWorkflowIndex,
    ExecutionModel,
    MergeQuorumModel,
    NodeCacheModel,
    NodeGuardModel,
    NodeRunModel,
    PinModel,
    PinVersionModel,
    ProgressEventModel,
    StatsModel,
    WaitModel,
    WebhookModel,
    WorkflowModel,
    WorkflowVersionModel,
)
from sfnflow_cdk.naming import Naming
from sfnflow_cdk.tables import Tables

TABLE_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
EXECUTION_READ_ACTIONS = ("states:DescribeExecution", "states:GetExecutionHistory",
                          "states:DescribeStateMachineForExecution")
STATE_MACHINE_ADMIN_ACTIONS = (
    "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine",
    "states:DescribeStateMachine", "states:TagResource", "states:UntagResource",
    "states:ListTagsForResource", "states:StartExecution", "states:ListExecutions",
    # create/update with publish=True, and forget old versions (functions.services.workflows)
    "states:PublishStateMachineVersion", "states:DeleteStateMachineVersion")
EXECUTION_ADMIN_ACTIONS = (*EXECUTION_READ_ACTIONS, "states:StopExecution",
                           "states:RedriveExecution")  # POST /executions/{id}/redrive
SCHEDULE_ACTIONS = ("scheduler:CreateSchedule", "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule", "scheduler:GetSchedule")
RULE_ACTIONS = ("events:PutRule", "events:PutTargets", "events:RemoveTargets",
                "events:DeleteRule", "events:EnableRule", "events:DisableRule",
                "events:DescribeRule")


GET, QUERY = "dynamodb:GetItem", "dynamodb:Query"
PUT, UPDATE, DELETE = "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
BATCH_WRITE = "dynamodb:BatchWriteItem"


@dataclass(frozen=True)
class TableAccess:
    """``actions`` on one model's table, and Query on the named ``indexes`` of it."""

    model: type[Model]
    actions: tuple[str, ...]
    indexes: tuple[str, ...] = ()


def _index(index: Any) -> str:
    return str(index.Meta.index_name)


# What each function reads and writes, table by table: the calls the local cloud records
# for it (tests/cdk/test_iam_calls.py) and the code paths of the stores it is built with.
# No function may Scan: requests query a key or an index (``/admin/prune`` skips the
# expired-item sweep it may not run; DynamoDB's TTL deletes those items anyway).
# Admission (functions.store.admission): who starts or ends executions takes and gives
# back concurrency slots, queues and admits (transactions of puts, updates and deletes);
# the stage-wide pump and the reconciler read the waiting ones through the kind index.
_ADMIT = TableAccess(AdmissionModel, (GET, PUT, UPDATE, DELETE, QUERY),
                     (_index(ByAdmissionKindIndex),))
_FOLLOW_EXECUTIONS = (  # the status-change handlers record runs and start error workflows
    TableAccess(ExecutionModel, (GET, PUT, UPDATE)),
    TableAccess(NodeRunModel, (PUT, QUERY)),
    TableAccess(ProgressEventModel, (PUT,)),
    # per-workflow statistics, counted once per ended execution (a marker put and the day's
    # counters updated in one transaction: TransactWriteItems needs these two actions)
    TableAccess(StatsModel, (PUT, UPDATE)),
    _ADMIT,  # an end releases its slot and admits the next
)
_REGISTRY = (  # deploy, update and delete workflows
    TableAccess(WorkflowModel, (GET, PUT, UPDATE, DELETE), (_index(ByKindIndex),)),
    TableAccess(WorkflowVersionModel, (PUT, QUERY, BATCH_WRITE)),
    TableAccess(WebhookModel, (GET, PUT, DELETE)),
)
DATA_ACCESS: dict[str, tuple[TableAccess, ...]] = {
    "node-runner": (
        TableAccess(ExecutionModel, (GET, UPDATE)),
        TableAccess(NodeRunModel, (PUT, QUERY)),
        TableAccess(ProgressEventModel, (PUT,)),
        TableAccess(PinModel, (GET, QUERY)),
        TableAccess(PinVersionModel, (GET, QUERY)),
        TableAccess(NodeCacheModel, (GET, PUT)),
        TableAccess(WaitModel, (GET, QUERY, PUT, UPDATE)),
        TableAccess(MergeQuorumModel, (GET, UPDATE)),
        # circuit breakers and token buckets: read, then a conditional put
        TableAccess(NodeGuardModel, (GET, PUT)),
    ),
    "execution-events": _FOLLOW_EXECUTIONS,
    "error-router": (
        *_FOLLOW_EXECUTIONS,
        TableAccess(WorkflowModel, (GET,)),  # the error workflow's admission policy
    ),
    "reconciler": (
        TableAccess(ExecutionModel, (GET, PUT, UPDATE), (_index(ByStatusIndex),)),
        *_FOLLOW_EXECUTIONS[1:],
        TableAccess(WorkflowModel, (GET,)),  # it routes lost failures (ErrorRouter)
    ),
    "api": (
        TableAccess(ExecutionModel, (GET, PUT, UPDATE, DELETE),
                    (_index(ByWorkflowIndex), _index(ByStatusIndex), _index(ByStartedAtIndex))),
        TableAccess(NodeRunModel, (PUT, QUERY, BATCH_WRITE)),
        TableAccess(ProgressEventModel, (PUT, QUERY, BATCH_WRITE)),
        TableAccess(PinModel, (GET, QUERY, PUT, DELETE)),
        TableAccess(PinVersionModel, (GET, QUERY, PUT)),
        TableAccess(WaitModel, (GET, QUERY, PUT, UPDATE)),
        TableAccess(StatsModel, (QUERY,), (_index(ByMonthIndex),)),  # GET .../stats
        TableAccess(NodeGuardModel, (GET,), (_index(ByGuardKindIndex),)),  # .../breakers
        _ADMIT,  # starts, cancels, positions, GET /admin/queue
        *_REGISTRY,
    ),
    "webhooks": (
        TableAccess(WebhookModel, (GET,)),
        TableAccess(WorkflowModel, (GET,)),
        TableAccess(ExecutionModel, (GET, PUT, UPDATE)),
        TableAccess(NodeRunModel, (QUERY,)),
        _ADMIT,  # a delivery to a limited workflow queues
    ),
    "triggers": (  # a schedule or rule's delivery, recorded and admitted (TriggerStarter)
        TableAccess(ExecutionModel, (GET, PUT, UPDATE)),
        TableAccess(WorkflowModel, (GET,)),
        _ADMIT,
    ),
}
"""Function role (``FunctionSpec.role``) -> its tables; a function not named has none here
(the stream functions and the stack's workflow registration are granted beside their
constructs: ``ProgressStreams``, ``WorkflowRegistration``)."""

PAYLOAD_ACCESS: dict[str, tuple[str, ...]] = {
    "node-runner": ("s3:GetObject", "s3:PutObject"),
    "api": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),  # prune deletes payloads
    "webhooks": ("s3:GetObject", "s3:PutObject"),  # large bodies staged, outputs read
    # ExecutionService.start stages an input over 32 KiB (an event, a failed execution)
    "triggers": ("s3:PutObject",),
    "error-router": ("s3:PutObject",),
}
"""Function role -> what it may do with the payload bucket's objects."""


def grant_data_access(role: iam.IRole, tables: Tables, bucket: s3.IBucket,
                      function_role: str) -> None:
    """The tables (``DATA_ACCESS``) and payload objects (``PAYLOAD_ACCESS``) of one
    function, and nothing else."""
    for access in DATA_ACCESS.get(function_role, ()):
        table = tables.tables[TABLE_SUFFIXES[access.model]]
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(access.actions), resources=[table.table_arn]))
        if access.indexes:
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=[QUERY],
                resources=[f"{table.table_arn}/index/{name}" for name in access.indexes]))
    if function_role in PAYLOAD_ACCESS:
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(PAYLOAD_ACCESS[function_role]),
            resources=[bucket.arn_for_objects("*")]))
    grant_credentials(role, function_role)
    if function_role == "node-runner":
        grant_agent_calls(role, Stack.of(role))


def bedrock_model_arns(stack: Stack) -> list[str]:
    """What a Bedrock model call (``Converse`` is authorized as ``bedrock:InvokeModel``) may
    name: any foundation model, and this account's inference profiles. A cross-Region
    profile routes a call to the model in another Region of its set, and IAM checks the
    call against that Region's foundation-model ARN too, so the foundation models'
    Region is ``*`` (Bedrock's inference-profile prerequisites); they have no account."""
    return [
        stack.format_arn(service="bedrock", region="*", account="",
                         resource="foundation-model", resource_name="*"),
        stack.format_arn(service="bedrock", resource="inference-profile", resource_name="*"),
        stack.format_arn(service="bedrock", resource="application-inference-profile",
                         resource_name="*"),
    ]


def grant_agent_calls(role: iam.IRole, stack: Stack) -> None:
    """The node runner's agent and tool nodes: run a sub-workflow tool as a child
    execution (start it, follow it, stop it at the tool's timeout), on this stage's
    machines only, and call a Bedrock model (``functions.ai``)."""
    naming: Naming = stack.naming  # type: ignore[attr-defined]  # SfnflowStack's Naming
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:StartExecution"], resources=[naming.state_machines_arn(stack)]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:DescribeExecution", "states:StopExecution"],
        resources=[naming.executions_arn(stack)]))
    models = bedrock_model_arns(stack)
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["bedrock:InvokeModel"], resources=models))
    from sfnflow_cdk.nag import nag_text  # nag reads this module's grants

    for arn in models:  # reviewed here, beside the grant it explains
        Validations.of(role).acknowledge(Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{nag_text(stack, arn)}]",
            reason="Agent nodes name their Bedrock model in the workflow, and workflows are "
                   "deployed through the API at run time: the scope is model invocation "
                   "only, on foundation models and this account's inference profiles."))


# Named credentials (functions.credentials): one secret per credential under the stage's
# prefix. The node runner reads values; the API writes them and never reads one.
CREDENTIAL_ACCESS: dict[str, tuple[str, ...]] = {
    "node-runner": ("secretsmanager:GetSecretValue",),
    "api": ("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecret", "secretsmanager:DescribeSecret",
            "secretsmanager:DeleteSecret", "secretsmanager:TagResource"),
}
"""Function role -> what it may do with the stage's credential secrets."""


def credential_secrets_arn(stack: Stack, stage: str, name: str | None = None) -> str:
    """The ARN pattern of credential ``name`` (None: every credential of the stage).

    Secrets Manager ends a secret's ARN with ``-`` and six random characters (a secret
    created again under a deleted one's name gets a new ARN), so one secret's pattern is
    ``<name>-??????``: exactly six characters, never ``<name>*``, which would also match
    ``<name>-other``'s secret."""
    suffix = f"{name}-??????" if name is not None else "*"
    return stack.format_arn(service="secretsmanager", resource="secret",
                            resource_name=secret_prefix(stage) + suffix,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)


def grant_credentials(role: iam.IRole, function_role: str,
                      names: tuple[str, ...] | None = None) -> None:
    """``CREDENTIAL_ACCESS[function_role]`` on the stage's credential secrets.

    The node runner reads exactly the secrets its workflows may reference, and workflows
    are also deployed through the API at run time (``POST /workflows``) onto the same
    runner, naming credentials the stack never saw: so its honest scope is the stage's
    prefix, ``sfnflow/<stage>/credentials/*``, not the names the stack's own workflows
    use. ``names`` narrows it to those secrets (``<name>-??????`` each), for a runner that
    only ever runs known workflows. ListSecrets supports no resource-level permission
    (``*``); the API filters the listing by the prefix itself.
    """
    actions = CREDENTIAL_ACCESS.get(function_role)
    if not actions:
        return
    stack = Stack.of(role)
    stage = stack.naming.stage  # type: ignore[attr-defined]  # SfnflowStack's Naming
    resources = [credential_secrets_arn(stack, stage, name) for name in names] \
        if names is not None else [credential_secrets_arn(stack, stage)]
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions),
                                                     resources=resources))
    if function_role == "api":
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["secretsmanager:ListSecrets"], resources=["*"]))


def grant_read_staged_items(role: iam.IRole, bucket: s3.IBucket) -> None:
    """A loop's batches, written by the runner under ``loops/`` for a Distributed Map's
    ItemReader (``functions.services.loop_items``): read only, that prefix only."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[bucket.arn_for_objects("loops/*")]))


def grant_write_map_results(role: iam.IRole, bucket: s3.IBucket) -> None:
    """A Distributed Map's ResultWriter exports its children's results under the loop's
    prefix; Step Functions documents these actions for the export (multipart uploads)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
        resources=[bucket.arn_for_objects("loops/*")]))


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


def grant_read_executions(role: iam.IRole, naming: Naming, stack: Stack) -> None:
    """Follow an execution it started (webhooks answering ``responseMode: lastNode``)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["states:DescribeExecution"], resources=[naming.executions_arn(stack)]))


def grant_pass_roles(role: iam.IRole, passed: dict[str, iam.IRole]) -> None:
    """``iam:PassRole`` on each role of ``passed`` (service principal -> role), to that
    service only (``iam:PassedToService``): the role a state machine runs with cannot be
    handed to Scheduler, nor the scheduler's to Step Functions."""
    for service, passed_role in passed.items():
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[passed_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": service}}))


def grant_manage_workflows(role: iam.IRole, naming: Naming, stack: Stack, *,
                           passed_roles: dict[str, iam.IRole], schedule_group: str,
                           event_bus: str) -> None:
    """The API: deploy workflows as state machines, run and stop them, and wire their
    schedule and event triggers — passing only the platform's roles, each to its service."""
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(STATE_MACHINE_ADMIN_ACTIONS), resources=[naming.state_machines_arn(stack)]))
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=list(EXECUTION_ADMIN_ACTIONS), resources=[naming.executions_arn(stack)]))
    grant_pass_roles(role, passed_roles)
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
