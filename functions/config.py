"""Configuration from the environment: the only place that reads it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Config:
    table_prefix: str = "sfnflow"
    region: str = "us-east-1"
    # aws, aws-cn, aws-us-gov...: every ARN the functions build carries it (the stack sets
    # it from its own partition; without it, the region's partition).
    partition: str = "aws"
    dynamodb_endpoint: str | None = None
    payload_bucket: str | None = None
    inline_output_limit: int = 300_000  # bytes of run output kept in DynamoDB (item max 400 KB)
    # Outputs larger than this travel between states as S3 references, keeping every state
    # well under Step Functions' 256 KiB payload limit (a state may carry several outputs).
    inline_state_limit: int = 32_768
    # Bytes of items an API response carries inline; larger outputs are answered with
    # pre-signed S3 URLs or a page (a Lambda response holds at most 6 MB).
    response_inline_limit: int = 5_000_000
    retention_days: int = 30
    # The platform around the state machines (set by the CDK stack; the local cloud sets
    # its own). Workflow ``w`` runs as state machine ``<state_machine_prefix>w``.
    account_id: str = "123456789012"
    state_machine_prefix: str = ""
    state_machine_role_arn: str | None = None
    node_runner_arn: str | None = None
    code_runner_arn: str | None = None
    # The code runner's Lambda timeout (the stack sets it from its function spec): the node
    # runner waits a little longer than this for the synchronous invoke to answer.
    code_runner_timeout_seconds: int | None = None
    scheduler_role_arn: str | None = None
    schedule_group: str = "default"
    events_role_arn: str | None = None
    # Where EventBridge and Scheduler put trigger deliveries that failed every retry (SQS).
    # The trigger starter every schedule and rule targets (it names executions per delivery).
    trigger_function_arn: str | None = None
    trigger_dlq_arn: str | None = None
    # The reconciler completes RUNNING records whose execution ended this long ago or more
    # without a status-change event reaching the run data.
    reconcile_after_seconds: int = 300
    # At most this many executions of the stage run at once, every workflow together
    # (``functions.services.admission``); None: no stage-wide limit (the stack sets it from
    # the ``globalConcurrency`` context value).
    global_concurrency: int | None = None
    api_url: str = ""
    # The WebSocket API stage's management (callback) URL, ``https://<id>.execute-api.
    # <region>.amazonaws.com/<stage>``: where live progress is posted to connections.
    stream_endpoint: str | None = None
    # Where state machines the API creates log (the ARN of a log group, as the stack's
    # machines log to theirs), and whether they are traced with X-Ray.
    state_machine_log_group_arn: str | None = None
    state_machine_tracing: bool = True
    # The stage's own event bus: event triggers may listen there or on ``default`` only
    # (the roles are granted on those two).
    event_bus: str | None = None
    # Access-Control-Allow-Origin of the API's responses and preflights.
    cors_origin: str = "*"
    # The KMS HMAC key that signs and verifies stream tokens (the API signs, the WebSocket
    # $connect handler verifies; neither ever sees the key), and the wss URL to connect to.
    stream_token_key_arn: str | None = None
    stream_url: str | None = None

    @property
    def merge_quorum_table(self) -> str:
        """Written by the state machines themselves (``compiler.lowering.quorum``)."""
        return f"{self.table_prefix}-merge-quorums"

    def state_machine_name(self, workflow_id: str) -> str:
        return f"{self.state_machine_prefix}{workflow_id}"

    def state_machine_arn(self, workflow_id: str) -> str:
        return self.arn("states", f"stateMachine:{self.state_machine_name(workflow_id)}")

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """An ARN in this account, region (``region=""`` for global services like IAM) and
        partition."""
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    @property
    def allowed_event_buses(self) -> frozenset[str]:
        return frozenset({"default", *([self.event_bus] if self.event_bus else [])})

    def workflow_of(self, state_machine_arn: str) -> str | None:
        """The workflow id a state machine runs, or None for a machine sfnflow did not name
        (a version's ARN, ``...:stateMachine:<name>:<n>``, names its machine)."""
        parts = state_machine_arn.split(":")
        name = parts[6] if len(parts) > 6 else parts[-1]
        return name.removeprefix(self.state_machine_prefix) \
            if name.startswith(self.state_machine_prefix) else None

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(
            table_prefix=env.get("SFNFLOW_TABLE_PREFIX", "sfnflow"),
            region=region,
            partition=env.get("SFNFLOW_PARTITION") or partition_of(region),
            dynamodb_endpoint=env.get("SFNFLOW_DYNAMODB_ENDPOINT") or None,
            payload_bucket=env.get("SFNFLOW_PAYLOAD_BUCKET") or None,
            inline_output_limit=int(env.get("SFNFLOW_INLINE_OUTPUT_LIMIT", "300000")),
            inline_state_limit=int(env.get("SFNFLOW_INLINE_STATE_LIMIT", "32768")),
            response_inline_limit=int(env.get("SFNFLOW_RESPONSE_INLINE_LIMIT", "5000000")),
            retention_days=int(env.get("SFNFLOW_RETENTION_DAYS", "30")),
            account_id=env.get("SFNFLOW_ACCOUNT_ID", "123456789012"),
            state_machine_prefix=env.get("SFNFLOW_STATE_MACHINE_PREFIX", ""),
            state_machine_role_arn=env.get("SFNFLOW_STATE_MACHINE_ROLE_ARN") or None,
            node_runner_arn=env.get("SFNFLOW_NODE_RUNNER_ARN") or None,
            code_runner_arn=env.get("SFNFLOW_CODE_RUNNER_ARN") or None,
            code_runner_timeout_seconds=int(env["SFNFLOW_CODE_RUNNER_TIMEOUT"])
            if env.get("SFNFLOW_CODE_RUNNER_TIMEOUT") else None,
            scheduler_role_arn=env.get("SFNFLOW_SCHEDULER_ROLE_ARN") or None,
            schedule_group=env.get("SFNFLOW_SCHEDULE_GROUP", "default"),
            events_role_arn=env.get("SFNFLOW_EVENTS_ROLE_ARN") or None,
            trigger_function_arn=env.get("SFNFLOW_TRIGGER_FUNCTION_ARN") or None,
            trigger_dlq_arn=env.get("SFNFLOW_TRIGGER_DLQ_ARN") or None,
            reconcile_after_seconds=int(env.get("SFNFLOW_RECONCILE_AFTER_SECONDS", "300")),
            global_concurrency=int(env["SFNFLOW_GLOBAL_CONCURRENCY"])
            if env.get("SFNFLOW_GLOBAL_CONCURRENCY") else None,
            api_url=env.get("SFNFLOW_API_URL", "").rstrip("/"),
            stream_endpoint=env.get("SFNFLOW_STREAM_ENDPOINT", "").rstrip("/") or None,
            state_machine_log_group_arn=env.get("SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN") or None,
            state_machine_tracing=env.get("SFNFLOW_STATE_MACHINE_TRACING", "true").lower()
            != "false",
            event_bus=env.get("SFNFLOW_EVENT_BUS") or None,
            cors_origin=env.get("SFNFLOW_CORS_ORIGIN") or "*",
            stream_token_key_arn=env.get("SFNFLOW_STREAM_TOKEN_KEY_ARN") or None,
            stream_url=env.get("SFNFLOW_STREAM_URL", "").rstrip("/") or None,
        )


def lambda_scratch_dir() -> str | None:
    """``/tmp`` when this process runs in a Lambda execution environment (Lambda's reserved
    variables are set), which serves one invocation at a time and keeps ``/tmp`` between
    them; None anywhere else (a laptop's /tmp is everyone's)."""
    env = os.environ
    if env.get("AWS_LAMBDA_FUNCTION_NAME") and env.get("LAMBDA_TASK_ROOT"):
        return "/tmp"  # noqa: S108 (Lambda's one writable directory)
    return None


@cache
def partition_of(region: str) -> str:
    """The partition a region belongs to (botocore's endpoint data knows them all)."""
    import boto3
    from botocore.exceptions import UnknownRegionError

    try:
        return str(boto3.session.Session().get_partition_for_region(region))
    except UnknownRegionError:  # a region botocore does not know yet
        return "aws"
