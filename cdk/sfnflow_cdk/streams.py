"""Live progress in AWS: a WebSocket API and the progress table's stream behind it.

Clients open ``wss://<api>.execute-api.<region>.amazonaws.com/<stage>?token=<token>``, the
token from ``POST /stream-tokens`` (management API, API key): browsers cannot send an
``x-api-key`` header on a WebSocket, so ``$connect`` needs no API key and the connections
function verifies the token (a KMS HMAC key's MAC over the execution id and an expiry a few
minutes ahead: the API may only GenerateMac, the connections function only VerifyMac) and
records the connection; ``$disconnect`` forgets it. The stage throttles. The progress
table streams new items (``ProgressEventModel.Meta.stream_view_type``) to the publisher,
which posts each event to the connections of its execution through the stage's callback URL
(a batch that fails its retries is split in two to find the bad record, and its position in
the stream is recorded in ``dead_letters``). There is no ``$default`` route: clients only
listen.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from sfnflow_cdk.naming import Naming

# $context variables of WebSocket APIs: one JSON line per connect, disconnect or message.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "connectionId": "$context.connectionId",
    "eventType": "$context.eventType", "routeKey": "$context.routeKey",
    "status": "$context.status", "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp", "apiKeyId": "$context.identity.apiKeyId",
})
PUBLISH_BATCH_SIZE = 100
PUBLISH_BATCHING_WINDOW = Duration.seconds(1)  # latency a watcher may notice, at most
PUBLISH_RETRIES = 3
# Progress older than this is not worth showing live (the events API still has it).
PUBLISH_MAX_RECORD_AGE = Duration.minutes(5)


class ProgressStreams(Construct):
    """``api``/``stage`` the WebSocket API; ``url`` the wss URL, ``callback_url`` where the
    publisher posts."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 connections_function: lambda_.IFunction,
                 publisher_function: lambda_.IFunction, progress_table: dynamodb.ITable,
                 rate_limit: int, burst_limit: int,
                 log_retention: logs.RetentionDays, removal_policy: RemovalPolicy,
                 dead_letters: sqs.IQueue | None = None) -> None:
        super().__init__(scope, id)
        self.api = apigwv2.WebSocketApi(
            self, "Api", api_name=f"{naming.prefix}-progress",
            description="sfnflow: live progress of executions")
        self.token_key = kms.Key(
            self, "TokenKey", key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC, removal_policy=removal_policy,
            description=f"{naming.prefix}: signs live-progress stream tokens")
        self.token_key.grant(connections_function, "kms:VerifyMac")
        connections = WebSocketLambdaIntegration("Connections", connections_function)
        self.connect_route = apigwv2.WebSocketRoute(
            self, "ConnectRoute", web_socket_api=self.api, route_key="$connect",
            integration=connections)
        self.disconnect_route = apigwv2.WebSocketRoute(
            self, "DisconnectRoute", web_socket_api=self.api, route_key="$disconnect",
            integration=connections)

        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention,
                                    removal_policy=removal_policy)
        self.stage = apigwv2.WebSocketStage(
            self, "Stage", web_socket_api=self.api, stage_name=naming.stage,
            auto_deploy=True,
            access_log_settings=_AccessLogs(access_logs),
            throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit,
                                              burst_limit=burst_limit))

        publisher_function.add_event_source(sources.DynamoEventSource(
            progress_table, starting_position=lambda_.StartingPosition.LATEST,
            batch_size=PUBLISH_BATCH_SIZE, max_batching_window=PUBLISH_BATCHING_WINDOW,
            report_batch_item_failures=True, retry_attempts=PUBLISH_RETRIES,
            max_record_age=PUBLISH_MAX_RECORD_AGE, bisect_batch_on_error=True,
            on_failure=sources.SqsDlq(dead_letters) if dead_letters is not None else None,
            filters=[lambda_.FilterCriteria.filter(
                {"eventName": lambda_.FilterRule.is_equal("INSERT")})]))

    def grant_issue_tokens(self, grantee: iam.IGrantable) -> None:
        """``POST /stream-tokens``: sign tokens (never verify, never read the key)."""
        self.token_key.grant(grantee, "kms:GenerateMac")

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def callback_url(self) -> str:
        return self.stage.callback_url

    def connections_arns(self) -> list[str]:
        """The stage's connections, to post to (POST) and close (DELETE)."""
        stack = Stack.of(self)
        return [stack.format_arn(service="execute-api", resource=self.api.api_id,
                                 resource_name=f"{self.stage.stage_name}/{method}/@connections/*")
                for method in ("POST", "DELETE")]


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """The stage's access logs, one JSON line per request."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT)
