"""Who asked AWS for what: every AWS API call made while the local cloud runs, attributed
to the identity that would make it in AWS, as the IAM requests AWS would authorize.

The local cloud runs handlers in-process, so one botocore wrapper sees every call (boto3
clients, pynamodb's own botocore sessions, moto's Step Functions interpreter) and asks
who is calling:

* a Lambda handler: ``running(function_name)`` is entered around each handler dispatch
  (``local.moto_patches`` for Lambda invokes and EventBridge targets, ``local.server`` for
  the API Gateway routes), a context variable, so threads that serve other requests are
  not mixed up;
* a role an AWS service assumes: ``acting_as_role(role_arn)`` (an EventBridge rule target
  starting a state machine) and ``mark_client(client, STATE_MACHINE)`` for the clients
  moto's interpreter uses for Task states (they run under the state machine's role).

Calls made by nobody in particular (tests, the harness) are not recorded.

Each call becomes one or more ``Request``\\ s, what IAM authorizes: the action
(``dynamodb:Query``), the resource ARNs (table or index, state machine, execution,
object, rule, schedule, function) and the request's condition keys (``iam:PassedToService``
for the ``iam:PassRole`` that CreateStateMachine, PutTargets and CreateSchedule imply).
The rules follow AWS's Service Authorization Reference and each service's IAM guide:
transactions are authorized per item as PutItem / UpdateItem / DeleteItem /
ConditionCheckItem / GetItem; HeadObject is ``s3:GetObject``; a Query or Scan on an index
targets ``table/<name>/index/<index>``; PostToConnection is ``execute-api:ManageConnections``
on ``<api>/<stage>/POST/@connections/<id>``; a secret named by name is its ARN with a
stand-in for the six random characters Secrets Manager appends.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

STATE_MACHINE = "states.amazonaws.com"
"""The principal of a state machine's own calls (its role, whichever machine runs)."""

_principal: ContextVar[str | None] = ContextVar("sfnflow_principal", default=None)
_CLIENT_PRINCIPAL = "_sfnflow_principal"
_lock = threading.Lock()
_recorders: list[CallRecorder] = []
_installed = False


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes for a call."""

    action: str  # "dynamodb:Query"
    resources: tuple[str, ...]  # ARNs; ("*",) for actions without resource-level permission
    conditions: tuple[tuple[str, str], ...] = ()  # request context keys, e.g. PassedToService


@dataclass(frozen=True)
class Call:
    """A call of ``operation`` (``Service.Operation``) by ``principal``: a Lambda function
    name, a role ARN or ``STATE_MACHINE``."""

    principal: str
    operation: str
    request: Request


@dataclass
class CallRecorder:
    """Records every attributed call while entered (``with CallRecorder() as calls``)."""

    calls: list[Call] = field(default_factory=list)

    def __enter__(self) -> CallRecorder:
        install()
        with _lock:
            _recorders.append(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with _lock:
            if self in _recorders:
                _recorders.remove(self)

    def add(self, call: Call) -> None:
        with _lock:
            self.calls.append(call)

    def by_principal(self) -> dict[str, list[Call]]:
        found: dict[str, list[Call]] = {}
        for call in list(self.calls):
            found.setdefault(call.principal, []).append(call)
        return found


# --------------------------------------------------------------------------- attribution


@contextlib.contextmanager
def running(function_name: str) -> Iterator[None]:
    """The Lambda function ``function_name`` (a name or ARN) is handling an event."""
    name = function_name.split(":function:")[-1].split(":")[0]
    token = _principal.set(name)
    try:
        yield
    finally:
        _principal.reset(token)


@contextlib.contextmanager
def acting_as_role(role_arn: str) -> Iterator[None]:
    """An AWS service acts with ``role_arn`` (e.g. a rule target's RoleArn)."""
    token = _principal.set(role_arn)
    try:
        yield
    finally:
        _principal.reset(token)


def mark_client(client: Any, principal: str) -> Any:
    """Every call through ``client`` is made by ``principal``, whoever is running."""
    setattr(client, _CLIENT_PRINCIPAL, principal)
    return client


def current_principal() -> str | None:
    return _principal.get()


def install() -> None:
    """Wrap botocore's one call path once; a no-op while no recorder is entered."""
    global _installed
    with _lock:
        if _installed:
            return
        from botocore.client import BaseClient

        original = BaseClient._make_api_call

        def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if _recorders:
                principal = getattr(self, _CLIENT_PRINCIPAL, None) or _principal.get()
                if principal is not None:
                    _record(principal, self.meta, operation_name, api_params)
            return original(self, operation_name, api_params)

        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        _installed = True


def _record(principal: str, meta: Any, operation: str, params: dict[str, Any]) -> None:
    service = meta.service_model.service_name
    context = _Context(region=meta.region_name or "us-east-1",
                       account=os.environ.get("SFNFLOW_ACCOUNT_ID", "123456789012"),
                       endpoint=meta.endpoint_url or "",
                       partition=getattr(meta, "partition", None) or "aws")
    try:
        requests = requests_for(service, operation, params, context)
    except (KeyError, TypeError, ValueError, IndexError):
        requests = [_unknown(service, operation)]
    name = f"{service}.{operation}"
    with _lock:
        recorders = list(_recorders)
    for request in requests:
        call = Call(principal, name, request)
        for recorder in recorders:
            recorder.add(call)


# --------------------------------------------------------------------------- IAM requests


@dataclass(frozen=True)
class _Context:
    region: str
    account: str
    endpoint: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: bool = True,
            account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


Rule = Callable[[dict[str, Any], _Context], list[Request]]


def _table(name: str, context: _Context, index: str | None = None) -> str:
    if name.startswith("arn:"):
        return name
    suffix = f"/index/{index}" if index else ""
    return context.arn("dynamodb", f"table/{name}{suffix}")


def _dynamodb_item(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (_table(params["TableName"], context),))]
    return rule


def _dynamodb_read(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (_table(params["TableName"], context,
                                        params.get("IndexName")),))]
    return rule


def _dynamodb_batch(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (_table(name, context),))
                for name in sorted(params["RequestItems"])]
    return rule


_TRANSACT = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
             "Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem",
             "Get": "dynamodb:GetItem"}


def _dynamodb_transact(params: dict[str, Any], context: _Context) -> list[Request]:
    """Each item is authorized as its own operation (DynamoDB's transactions IAM guide)."""
    requests = []
    for item in params["TransactItems"]:
        for kind, body in item.items():
            requests.append(Request(_TRANSACT[kind], (_table(body["TableName"], context),)))
    return requests


def _state_machine(name_or_arn: str, context: _Context) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return context.arn("states", f"stateMachine:{name_or_arn}")


def _pass_role(role_arn: str | None, service: str) -> list[Request]:
    if not role_arn:
        return []
    return [Request("iam:PassRole", (role_arn,), (("iam:PassedToService", service),))]


def _sfn_arn(action: str, key: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (params[key],))]
    return rule


def _log_delivery(params: dict[str, Any], action: str) -> list[Request]:
    """A ``loggingConfiguration`` with destinations: Step Functions sets up the CloudWatch
    Logs delivery (vended logs) as the caller; these actions have no resource-level
    permissions."""
    logging = params.get("loggingConfiguration") or {}
    return [Request(action, ("*",))] if logging.get("destinations") else []


def _create_state_machine(params: dict[str, Any], context: _Context) -> list[Request]:
    arn = _state_machine(params["name"], context)
    return [Request("states:CreateStateMachine", (arn,)),
            *_pass_role(params.get("roleArn"), STATE_MACHINE),
            *_log_delivery(params, "logs:CreateLogDelivery")]


def _update_state_machine(params: dict[str, Any], context: _Context) -> list[Request]:
    return [Request("states:UpdateStateMachine", (params["stateMachineArn"],)),
            *_pass_role(params.get("roleArn"), STATE_MACHINE),
            *_log_delivery(params, "logs:UpdateLogDelivery")]


def _wildcard(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, ("*",))]
    return rule


def _function(params: dict[str, Any], context: _Context) -> list[Request]:
    name = params["FunctionName"]
    if not name.startswith("arn:"):
        name = context.arn("lambda", f"function:{name}")
    qualifier = params.get("Qualifier")
    return [Request("lambda:InvokeFunction", (f"{name}:{qualifier}" if qualifier else name,))]


def _queue(action: str) -> Rule:
    """SQS: the queue by URL (``.../<account>/<name>``) or, for GetQueueUrl, by name."""
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        if "QueueUrl" in params:
            account, name = str(params["QueueUrl"]).rstrip("/").split("/")[-2:]
        else:
            account = params.get("QueueOwnerAWSAccountId") or context.account
            name = params["QueueName"]
        return [Request(action, (f"arn:{context.partition}:sqs:{context.region}:{account}:"
                                 f"{name}",))]
    return rule


def _object(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (f"arn:{context.partition}:s3:::{params['Bucket']}/"
                                 f"{params['Key']}",))]
    return rule


def _bucket(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (f"arn:{context.partition}:s3:::{params['Bucket']}",))]
    return rule


def _rule_arn(params: dict[str, Any], context: _Context, key: str = "Name") -> str:
    bus = params.get("EventBusName") or "default"
    if bus.startswith("arn:"):
        bus = bus.rsplit("/", 1)[-1]
    name = params[key]
    return context.arn("events", f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}")


def _events_rule(action: str, key: str = "Name") -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (_rule_arn(params, context, key),))]
    return rule


def _put_targets(params: dict[str, Any], context: _Context) -> list[Request]:
    requests = [Request("events:PutTargets", (_rule_arn(params, context, "Rule"),))]
    for target in params.get("Targets") or []:
        requests += _pass_role(target.get("RoleArn"), "events.amazonaws.com")
    return requests


def _put_events(params: dict[str, Any], context: _Context) -> list[Request]:
    buses = sorted({entry.get("EventBusName") or "default" for entry in params["Entries"]})
    return [Request("events:PutEvents", tuple(
        bus if bus.startswith("arn:") else context.arn("events", f"event-bus/{bus}")
        for bus in buses))]


def _schedule_arn(params: dict[str, Any], context: _Context) -> str:
    group = params.get("GroupName") or "default"
    return context.arn("scheduler", f"schedule/{group}/{params['Name']}")


def _schedule(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        requests = [Request(action, (_schedule_arn(params, context),))]
        target = params.get("Target") or {}
        return requests + _pass_role(target.get("RoleArn"), "scheduler.amazonaws.com")
    return rule


def _connection(method: str) -> Rule:
    """``https://<api id>.execute-api.<region>.amazonaws.com/<stage>``: the management
    endpoint names the API and the stage (a local endpoint: its host and first segment)."""
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        parts = urlsplit(context.endpoint)
        api = (parts.hostname or "").split(".")[0]
        stage = parts.path.strip("/").split("/")[0] if parts.path.strip("/") else ""
        resource = f"{api}/{stage}/{method}/@connections/{params['ConnectionId']}"
        return [Request("execute-api:ManageConnections",
                        (context.arn("execute-api", resource),))]
    return rule


def _key(action: str) -> Rule:
    """A KMS key named by ARN, alias or id; an alias authorizes as the key it names, which
    only AWS knows: the alias ARN stands for it here."""
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        key = str(params["KeyId"])
        if not key.startswith("arn:"):
            key = context.arn("kms", key if key.startswith("alias/") else f"key/{key}")
        return [Request(action, (key,))]
    return rule


SECRET_SUFFIX = "-XXXXXX"
"""What a secret named by name stands for: Secrets Manager ends a secret's ARN with ``-``
and six random characters that only it knows (a policy for one secret says
``<name>-??????``), and authorizes a call naming the secret by name against that ARN."""


def _secret_arn(secret_id: str, context: _Context) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    return context.arn("secretsmanager", f"secret:{secret_id}{SECRET_SUFFIX}")


def _secret(action: str) -> Rule:
    def rule(params: dict[str, Any], context: _Context) -> list[Request]:
        return [Request(action, (_secret_arn(str(params["SecretId"]), context),))]
    return rule


def _invoke_model(params: dict[str, Any], context: _Context) -> list[Request]:
    """Bedrock's ``Converse`` is authorized as ``bedrock:InvokeModel`` on what ``modelId``
    names: an ARN as given; a system inference profile's id (a geography before the
    provider, ``us.anthropic.claude-...``: three dotted parts) as this account's profile;
    any other id as the Region's foundation model (foundation models have no account)."""
    model = str(params["modelId"])
    if model.startswith("arn:"):
        return [Request("bedrock:InvokeModel", (model,))]
    if len(model.split(":", 1)[0].split(".")) >= 3:
        return [Request("bedrock:InvokeModel",
                        (context.arn("bedrock", f"inference-profile/{model}"),))]
    return [Request("bedrock:InvokeModel",
                    (context.arn("bedrock", f"foundation-model/{model}", account=False),))]


def _create_secret(params: dict[str, Any], context: _Context) -> list[Request]:
    """CreateSecret with ``Tags`` also needs ``secretsmanager:TagResource`` on the secret
    (Secrets Manager's API reference)."""
    arn = _secret_arn(str(params["Name"]), context)
    return [Request("secretsmanager:CreateSecret", (arn,)),
            *([Request("secretsmanager:TagResource", (arn,))] if params.get("Tags") else [])]


RULES: dict[tuple[str, str], Rule] = {
    ("dynamodb", "GetItem"): _dynamodb_item("dynamodb:GetItem"),
    ("dynamodb", "PutItem"): _dynamodb_item("dynamodb:PutItem"),
    ("dynamodb", "UpdateItem"): _dynamodb_item("dynamodb:UpdateItem"),
    ("dynamodb", "DeleteItem"): _dynamodb_item("dynamodb:DeleteItem"),
    ("dynamodb", "DescribeTable"): _dynamodb_item("dynamodb:DescribeTable"),
    ("dynamodb", "CreateTable"): _dynamodb_item("dynamodb:CreateTable"),
    ("dynamodb", "UpdateTimeToLive"): _dynamodb_item("dynamodb:UpdateTimeToLive"),
    ("dynamodb", "DescribeTimeToLive"): _dynamodb_item("dynamodb:DescribeTimeToLive"),
    ("dynamodb", "Query"): _dynamodb_read("dynamodb:Query"),
    ("dynamodb", "Scan"): _dynamodb_read("dynamodb:Scan"),
    ("dynamodb", "BatchGetItem"): _dynamodb_batch("dynamodb:BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _dynamodb_batch("dynamodb:BatchWriteItem"),
    ("dynamodb", "TransactWriteItems"): _dynamodb_transact,
    ("dynamodb", "TransactGetItems"): _dynamodb_transact,
    ("stepfunctions", "CreateStateMachine"): _create_state_machine,
    ("stepfunctions", "UpdateStateMachine"): _update_state_machine,
    ("stepfunctions", "DeleteStateMachine"): _sfn_arn("states:DeleteStateMachine",
                                                      "stateMachineArn"),
    ("stepfunctions", "DescribeStateMachine"): _sfn_arn("states:DescribeStateMachine",
                                                        "stateMachineArn"),
    ("stepfunctions", "ListExecutions"): _sfn_arn("states:ListExecutions", "stateMachineArn"),
    ("stepfunctions", "StartExecution"): _sfn_arn("states:StartExecution", "stateMachineArn"),
    ("stepfunctions", "StartSyncExecution"): _sfn_arn("states:StartSyncExecution",
                                                      "stateMachineArn"),
    ("stepfunctions", "DescribeExecution"): _sfn_arn("states:DescribeExecution", "executionArn"),
    ("stepfunctions", "StopExecution"): _sfn_arn("states:StopExecution", "executionArn"),
    ("stepfunctions", "RedriveExecution"): _sfn_arn("states:RedriveExecution",
                                                    "executionArn"),
    ("stepfunctions", "GetExecutionHistory"): _sfn_arn("states:GetExecutionHistory",
                                                       "executionArn"),
    ("stepfunctions", "DescribeStateMachineForExecution"): _sfn_arn(
        "states:DescribeStateMachineForExecution", "executionArn"),
    ("stepfunctions", "ListTagsForResource"): _sfn_arn("states:ListTagsForResource",
                                                       "resourceArn"),
    ("stepfunctions", "TagResource"): _sfn_arn("states:TagResource", "resourceArn"),
    ("stepfunctions", "UntagResource"): _sfn_arn("states:UntagResource", "resourceArn"),
    # Task tokens carry no ARN: these actions have no resource-level permission.
    ("stepfunctions", "SendTaskSuccess"): _wildcard("states:SendTaskSuccess"),
    ("stepfunctions", "SendTaskFailure"): _wildcard("states:SendTaskFailure"),
    ("stepfunctions", "SendTaskHeartbeat"): _wildcard("states:SendTaskHeartbeat"),
    ("stepfunctions", "ListStateMachines"): _wildcard("states:ListStateMachines"),
    ("lambda", "Invoke"): _function,
    ("bedrock-runtime", "Converse"): _invoke_model,
    ("bedrock-runtime", "InvokeModel"): _invoke_model,
    ("sqs", "GetQueueUrl"): _queue("sqs:GetQueueUrl"),
    ("sqs", "ReceiveMessage"): _queue("sqs:ReceiveMessage"),
    ("sqs", "DeleteMessage"): _queue("sqs:DeleteMessage"),
    ("sqs", "ChangeMessageVisibility"): _queue("sqs:ChangeMessageVisibility"),
    ("sqs", "SendMessage"): _queue("sqs:SendMessage"),
    ("s3", "GetObject"): _object("s3:GetObject"),
    ("s3", "HeadObject"): _object("s3:GetObject"),
    ("s3", "PutObject"): _object("s3:PutObject"),
    ("s3", "DeleteObject"): _object("s3:DeleteObject"),
    ("s3", "ListObjectsV2"): _bucket("s3:ListBucket"),
    ("s3", "ListObjects"): _bucket("s3:ListBucket"),
    ("s3", "CreateBucket"): _bucket("s3:CreateBucket"),
    ("events", "PutRule"): _events_rule("events:PutRule"),
    ("events", "DeleteRule"): _events_rule("events:DeleteRule"),
    ("events", "DescribeRule"): _events_rule("events:DescribeRule"),
    ("events", "EnableRule"): _events_rule("events:EnableRule"),
    ("events", "DisableRule"): _events_rule("events:DisableRule"),
    ("events", "RemoveTargets"): _events_rule("events:RemoveTargets", "Rule"),
    ("events", "ListTargetsByRule"): _events_rule("events:ListTargetsByRule", "Rule"),
    ("events", "PutTargets"): _put_targets,
    ("events", "PutEvents"): _put_events,
    ("scheduler", "CreateSchedule"): _schedule("scheduler:CreateSchedule"),
    ("scheduler", "UpdateSchedule"): _schedule("scheduler:UpdateSchedule"),
    ("scheduler", "DeleteSchedule"): _schedule("scheduler:DeleteSchedule"),
    ("scheduler", "GetSchedule"): _schedule("scheduler:GetSchedule"),
    ("kms", "GenerateMac"): _key("kms:GenerateMac"),
    ("kms", "VerifyMac"): _key("kms:VerifyMac"),
    ("kms", "Encrypt"): _key("kms:Encrypt"),
    ("kms", "Decrypt"): _key("kms:Decrypt"),
    ("kms", "DescribeKey"): _key("kms:DescribeKey"),
    ("secretsmanager", "CreateSecret"): _create_secret,
    ("secretsmanager", "GetSecretValue"): _secret("secretsmanager:GetSecretValue"),
    ("secretsmanager", "DescribeSecret"): _secret("secretsmanager:DescribeSecret"),
    ("secretsmanager", "PutSecretValue"): _secret("secretsmanager:PutSecretValue"),
    ("secretsmanager", "UpdateSecret"): _secret("secretsmanager:UpdateSecret"),
    ("secretsmanager", "DeleteSecret"): _secret("secretsmanager:DeleteSecret"),
    ("secretsmanager", "RestoreSecret"): _secret("secretsmanager:RestoreSecret"),
    ("secretsmanager", "TagResource"): _secret("secretsmanager:TagResource"),
    ("secretsmanager", "UntagResource"): _secret("secretsmanager:UntagResource"),
    # ListSecrets has no resource-level permission: the caller filters by prefix.
    ("secretsmanager", "ListSecrets"): _wildcard("secretsmanager:ListSecrets"),
    ("apigatewaymanagementapi", "PostToConnection"): _connection("POST"),
    ("apigatewaymanagementapi", "DeleteConnection"): _connection("DELETE"),
    ("apigatewaymanagementapi", "GetConnection"): _connection("GET"),
}


def requests_for(service: str, operation: str, params: dict[str, Any],
                 context: _Context) -> list[Request]:
    """What IAM authorizes for one call; an operation without a rule here is recorded as
    ``unmodelled:<service>.<Operation>`` on ``?``, which no policy allows: add its rule."""
    rule = RULES.get((service, operation))
    if rule is None:
        return [_unknown(service, operation)]
    return rule(params, context)


def _unknown(service: str, operation: str) -> Request:
    return Request(f"unmodelled:{service}.{operation}", ("?",))
