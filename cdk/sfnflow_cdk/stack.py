"""The whole platform as one stack, and the app around it.

Context (``-c key=value``): ``stage`` (default ``dev``), ``logLevel`` (``INFO``),
``retentionDays`` (30: run data TTL, payload expiry), ``workflowsDir`` (``workflows/``),
``corsOrigin`` (``*``: the origins browsers may call the API from, comma-separated),
``runnerReservedConcurrency`` (unset: the node and code runners' reserved concurrency;
Lambda keeps 100 of the account's concurrency unreserved, so set it only on an account
whose quota allows it, and keep Distributed Maps' maxConcurrency below it),
``codeRunnerNetwork`` (``isolated``: the code runner in a VPC without any egress;
``internet``: outside any VPC, so code nodes can call out; see ``code_network``),
``alarms`` (an object of alarm thresholds, e.g. ``{"failureRatePercent": 5}``; the keys
and defaults are ``monitoring.AlarmThresholds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, CfnOutput, RemovalPolicy, Stack, Tags, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from compiler.asl import PARTITION_SUBSTITUTION
from functions.store.models import (
    TABLE_SUFFIXES,
    ExecutionModel,
    MergeQuorumModel,
    ProgressEventModel,
    StreamConnectionModel,
    WorkflowModel,
)
from sfnflow_cdk import code_network, dynamodb_node_access, permissions
from sfnflow_cdk import functions as fns
from sfnflow_cdk.api import PlatformApi
from sfnflow_cdk.bundling import lambda_code
from sfnflow_cdk.events import PlatformEvents
from sfnflow_cdk.monitoring import CONTEXT_KEY as ALARMS_CONTEXT_KEY
from sfnflow_cdk.monitoring import AlarmThresholds, PlatformMonitoring
from sfnflow_cdk.nag import acknowledge_findings, nag_checks
from sfnflow_cdk.naming import Naming
from sfnflow_cdk.registration import WorkflowRegistration
from sfnflow_cdk.state_machines import (
    NODE_RUNNER_SUBSTITUTION,
    QUORUM_TABLE_SUBSTITUTION,
    StateMachineRole,
    WorkflowStateMachines,
    compile_workflows,
    runtime_log_group,
)
from sfnflow_cdk.storage import PayloadStorage
from sfnflow_cdk.streams import ProgressStreams
from sfnflow_cdk.tables import Tables, construct_id

ROOT = Path(__file__).resolve().parents[2]
API_RATE_LIMIT = 50  # requests per second, management API and webhooks each
API_BURST_LIMIT = 100
# Feature flags this app relies on (the CLI's context, if any, takes precedence).
FEATURE_FLAGS = {
    # Server access logs are delivered under a bucket policy, not ACLs.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    log_level: str = "INFO"
    retention_days: int = 30
    workflows_dir: Path = ROOT / "workflows"
    cors_origin: str = "*"  # Access-Control-Allow-Origin: origins, comma-separated
    # Reserved concurrency of the node and code runners (None: share the account's pool).
    runner_reserved_concurrency: int | None = None
    code_runner_network: str = code_network.ISOLATED  # or code_network.INTERNET
    alarms: AlarmThresholds = AlarmThresholds()
    # Executions of the whole stage running at once (admission queues the rest); None: no
    # stage-wide limit, only the workflows' own settings.maxConcurrency.
    global_concurrency: int | None = None

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        def get(key: str, default: Any) -> Any:
            value = scope.node.try_get_context(key)
            return default if value is None else value

        return cls(stage=str(get("stage", cls.stage)),
                   log_level=str(get("logLevel", cls.log_level)).upper(),
                   retention_days=int(get("retentionDays", cls.retention_days)),
                   workflows_dir=ROOT / str(get("workflowsDir", "workflows")),
                   cors_origin=str(get("corsOrigin", cls.cors_origin)),
                   runner_reserved_concurrency=_reserved_concurrency(
                       get("runnerReservedConcurrency", None)),
                   code_runner_network=code_network.network_setting(
                       get("codeRunnerNetwork", None)),
                   alarms=AlarmThresholds.from_context(get(ALARMS_CONTEXT_KEY, None)),
                   global_concurrency=_positive(get("globalConcurrency", None),
                                                "globalConcurrency"))

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Keep a production stage's data when the stack goes; others clean up after."""
        return RemovalPolicy.RETAIN if self.stage.startswith("prod") else RemovalPolicy.DESTROY


def _positive(value: Any, key: str) -> int | None:
    """A count from the context (``-c key=3`` arrives as a string); 0 would admit nothing."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return int(text)


def _reserved_concurrency(value: Any) -> int | None:
    """Lambda reserves 0..(account concurrency - 100) executions per function; 0 would
    throttle every node, so a setting must be a positive integer."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(f"runnerReservedConcurrency must be a positive integer, got {value!r}")
    return int(text)


# The functions that start or end executions, so take or give back admission slots
# (functions.services.admission); their roles may use the admission table (permissions).
ADMITTERS = (fns.API, fns.WEBHOOKS, fns.TRIGGERS, fns.RECONCILER, fns.EXECUTION_EVENTS,
             fns.ERROR_ROUTER)


class SfnflowStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings,
                 code: lambda_.Code | None = None, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        naming = self.naming = Naming(settings.stage)
        removal = settings.removal_policy
        retention = _retention(settings.retention_days)
        Tags.of(self).add("sfnflow:stage", settings.stage)

        self.tables = Tables(self, "Tables", naming=naming, removal_policy=removal)
        self.storage = PayloadStorage(self, "Storage", retention_days=settings.retention_days,
                                      removal_policy=RemovalPolicy.RETAIN)
        self.code_network = code_network.IsolatedNetwork(
            self, "CodeRunnerNetwork", log_retention=retention, removal_policy=removal) \
            if settings.code_runner_network == code_network.ISOLATED else None
        self.functions = fns.PlatformFunctions(
            self, "Functions", naming=naming, code=code or lambda_code(ROOT),
            log_level=settings.log_level, log_retention=retention, removal_policy=removal,
            runner_reserved_concurrency=settings.runner_reserved_concurrency,
            networks={fns.CODE_RUNNER.role: self.code_network.function_props()}
            if self.code_network else None)
        if self.code_network:
            self.code_network.grant_network_interfaces(
                self.functions.roles[fns.CODE_RUNNER.role])
        node_runner_arn = naming.function_arn(self, fns.NODE_RUNNER.role)
        quorum_table = self.tables.tables[TABLE_SUFFIXES[MergeQuorumModel]]
        self.state_machine_role = StateMachineRole(
            self, "StateMachineRole", naming=naming, node_runner_arn=node_runner_arn).role
        functions = self.functions.functions
        self.events = PlatformEvents(
            self, "Events", naming=naming,
            status_change_targets=[functions[fns.EXECUTION_EVENTS.role],
                                   functions[fns.ERROR_ROUTER.role]],
            reconciler=functions[fns.RECONCILER.role],
            trigger_starter=functions[fns.TRIGGERS.role])
        self.api = PlatformApi(
            self, "Api", naming=naming, api_function=functions[fns.API.role],
            webhooks_function=functions[fns.WEBHOOKS.role], rate_limit=API_RATE_LIMIT,
            burst_limit=API_BURST_LIMIT, log_retention=retention, removal_policy=removal,
            cors_origin=settings.cors_origin)
        self.streams = ProgressStreams(
            self, "Streams", naming=naming,
            connections_function=functions[fns.STREAM_CONNECTIONS.role],
            publisher_function=functions[fns.STREAM_PUBLISHER.role],
            progress_table=self.tables.tables[TABLE_SUFFIXES[ProgressEventModel]],
            rate_limit=API_RATE_LIMIT, burst_limit=API_BURST_LIMIT,
            log_retention=retention, removal_policy=removal,
            dead_letters=self.events.dead_letters)
        # WebSocket access logs need the account's API Gateway logging role the REST API sets.
        account = self.api.api.node.try_find_child("Account")
        if account is not None:
            self.streams.stage.node.add_dependency(account)
        compiled = compile_workflows(settings.workflows_dir,
                                     event_buses=("default", naming.prefix))
        self.state_machines = WorkflowStateMachines(
            self, "Workflows", naming=naming, compiled=compiled,
            role=self.state_machine_role,
            platform={NODE_RUNNER_SUBSTITUTION: node_runner_arn,
                      QUORUM_TABLE_SUBSTITUTION: quorum_table.table_name,
                      PARTITION_SUBSTITUTION: self.partition},
            log_retention=retention, removal_policy=removal)
        for machine in self.state_machines.machines.values():
            machine.node.add_dependency(functions[fns.NODE_RUNNER.role])
        self.registration = WorkflowRegistration(
            self, "Registration", naming=naming, function=functions[fns.REGISTRATION.role],
            role=self.functions.roles[fns.REGISTRATION.role],
            machines=self.state_machines.machines, compiled=compiled, tables=self.tables,
            scheduler_role=self.events.scheduler_role, after=[self.tables, self.events],
            log_retention=retention, removal_policy=removal)
        self.runtime_logs = runtime_log_group(self, "ApiCreatedMachineLogs", naming=naming,
                                              log_retention=retention, removal_policy=removal)
        self.monitoring = PlatformMonitoring(
            self, "Monitoring", naming=naming, thresholds=settings.alarms,
            functions=functions, runners=[spec.role for spec in fns.RUNNERS],
            api=self.api.api, dead_letter_queues=[self.events.dead_letters],
            reconciler_logs=functions[fns.RECONCILER.role].log_group, removal_policy=removal)

        self._grant(naming)
        dynamodb_node_access.grant_node_tables(  # the tables its workflows' dynamodb nodes name
            self.functions.roles[fns.NODE_RUNNER.role], self, compiled)
        self._configure(naming)
        self._outputs()
        acknowledge_findings(self)

    def _grant(self, naming: Naming) -> None:
        roles, bucket = self.functions.roles, self.storage.bucket
        for spec in fns.ALL_FUNCTIONS:  # each its own tables (permissions.DATA_ACCESS)
            permissions.grant_data_access(roles[spec.role], self.tables, bucket, spec.role)
        permissions.grant_invoke(roles[fns.NODE_RUNNER.role],
                                 self.functions.functions[fns.CODE_RUNNER.role].function_arn)
        permissions.grant_start_workflows(roles[fns.NODE_RUNNER.role], naming, self)
        permissions.grant_start_workflows(roles[fns.WEBHOOKS.role], naming, self)
        permissions.grant_read_executions(roles[fns.WEBHOOKS.role], naming, self)  # lastNode
        # decide paused waits; finish them at once; release rendezvous (the runner)
        for spec in (fns.API, fns.NODE_RUNNER):
            permissions.grant_send_task_results(roles[spec.role])
        for spec in (fns.EXECUTION_EVENTS, fns.ERROR_ROUTER, fns.RECONCILER):
            permissions.grant_follow_executions(roles[spec.role], naming, self)
        permissions.grant_start_workflows(roles[fns.TRIGGERS.role], naming, self)
        permissions.grant_manage_workflows(
            roles[fns.API.role], naming, self,
            passed_roles={"states.amazonaws.com": self.state_machine_role,
                          "scheduler.amazonaws.com": self.events.scheduler_role},
            schedule_group=naming.prefix, event_bus=naming.prefix)
        permissions.grant_state_machine_logging(roles[fns.API.role])
        # Quorum Merges count their branches in their table, from the state machine itself.
        permissions.grant_tables(self.state_machine_role, self.tables, {
            TABLE_SUFFIXES[MergeQuorumModel]: ("dynamodb:UpdateItem", "dynamodb:GetItem")})
        # Distributed Maps read the items the runner staged for them (ItemReader).
        permissions.grant_read_staged_items(self.state_machine_role, bucket)
        permissions.grant_write_map_results(self.state_machine_role, bucket)  # ResultWriter
        self._grant_streams()
        self.streams.grant_issue_tokens(roles[fns.API.role])
        self.events.grant_redrive(roles[fns.API.role])  # /admin/dead-letters

    def _grant_streams(self) -> None:
        """Live progress reads a few tables; only the publisher posts to connections (it
        reads the progress table's stream through its event source mapping)."""
        roles, read = self.functions.roles, permissions.TABLE_READ_ACTIONS
        executions, connections = (TABLE_SUFFIXES[ExecutionModel],
                                   TABLE_SUFFIXES[StreamConnectionModel])
        permissions.grant_tables(roles[fns.STREAM_CONNECTIONS.role], self.tables, {
            executions: ("dynamodb:GetItem",),
            connections: ("dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem")})
        permissions.grant_tables(roles[fns.STREAM_PUBLISHER.role], self.tables, {
            executions: read, TABLE_SUFFIXES[WorkflowModel]: ("dynamodb:GetItem",),
            TABLE_SUFFIXES[ProgressEventModel]: ("dynamodb:Query",),
            connections: ("dynamodb:Query", "dynamodb:DeleteItem")})
        permissions.grant_manage_connections(roles[fns.STREAM_PUBLISHER.role],
                                             self.streams.connections_arns())

    def _configure(self, naming: Naming) -> None:
        """The environment ``functions.config.Config.from_env`` reads."""
        functions = self.functions.functions
        self.functions.add_environment({
            "SFNFLOW_TABLE_PREFIX": naming.prefix,
            "SFNFLOW_PAYLOAD_BUCKET": self.storage.bucket.bucket_name,
            "SFNFLOW_RETENTION_DAYS": str(self.settings.retention_days),
            "SFNFLOW_ACCOUNT_ID": self.account,
            "SFNFLOW_STATE_MACHINE_PREFIX": naming.state_machine_prefix,
            "SFNFLOW_STATE_MACHINE_ROLE_ARN": self.state_machine_role.role_arn,
            "SFNFLOW_NODE_RUNNER_ARN": naming.function_arn(self, fns.NODE_RUNNER.role),
            "SFNFLOW_SCHEDULER_ROLE_ARN": self.events.scheduler_role.role_arn,
            "SFNFLOW_SCHEDULE_GROUP": naming.prefix,
            "SFNFLOW_EVENTS_ROLE_ARN": self.events.events_role.role_arn,
            "SFNFLOW_TRIGGER_DLQ_ARN": self.events.dead_letters.queue_arn,
            "SFNFLOW_TRIGGER_FUNCTION_ARN": naming.function_arn(self, fns.TRIGGERS.role),
            "SFNFLOW_PARTITION": self.partition,
            "SFNFLOW_EVENT_BUS": naming.prefix,  # the stage's bus (PlatformEvents)
        })
        functions[fns.API.role].add_environment(
            "SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN", self.runtime_logs.log_group_arn)
        functions[fns.NODE_RUNNER.role].add_environment(
            "SFNFLOW_CODE_RUNNER_ARN", naming.function_arn(self, fns.CODE_RUNNER.role))
        # The node runner's invoke waits past this (functions.nodes.code.client_config).
        functions[fns.NODE_RUNNER.role].add_environment(
            "SFNFLOW_CODE_RUNNER_TIMEOUT", str(fns.CODE_RUNNER.timeout_seconds))
        for spec in (fns.API, fns.WEBHOOKS):
            functions[spec.role].add_environment("SFNFLOW_API_URL", self.api.url)
        functions[fns.STREAM_PUBLISHER.role].add_environment(
            "SFNFLOW_STREAM_ENDPOINT", self.streams.callback_url)
        for spec in (fns.API, fns.STREAM_CONNECTIONS):
            functions[spec.role].add_environment("SFNFLOW_STREAM_TOKEN_KEY_ARN",
                                                 self.streams.token_key.key_arn)
        functions[fns.API.role].add_environment("SFNFLOW_STREAM_URL", self.streams.url)
        for spec in (fns.API, fns.WEBHOOKS):
            functions[spec.role].add_environment("SFNFLOW_CORS_ORIGIN",
                                                 self.settings.cors_origin)
        if self.settings.global_concurrency is not None:  # every function that admits
            for spec in ADMITTERS:
                functions[spec.role].add_environment(
                    "SFNFLOW_GLOBAL_CONCURRENCY", str(self.settings.global_concurrency))

    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.api.url, description="REST API base URL")
        CfnOutput(self, "ApiKeyId", value=self.api.api_key.key_id,
                  description="aws apigateway get-api-key --include-value --api-key <id>")
        CfnOutput(self, "ProgressStreamUrl", value=self.streams.url,
                  description="Live progress: POST /stream-tokens {executionId} (API key) "
                              "answers the URL to connect to, <url>?token=<token>")
        CfnOutput(self, "PayloadBucketName", value=self.storage.bucket.bucket_name)
        self.monitoring.outputs(self)
        CfnOutput(self, "TablePrefix", value=self.naming.prefix)
        CfnOutput(self, "StateMachinePrefix", value=self.naming.state_machine_prefix)
        for suffix, table in self.tables.tables.items():
            CfnOutput(self, f"{construct_id(suffix)}TableName", value=table.table_name)


_RETENTIONS = ((1, logs.RetentionDays.ONE_DAY), (3, logs.RetentionDays.THREE_DAYS),
               (7, logs.RetentionDays.ONE_WEEK), (14, logs.RetentionDays.TWO_WEEKS),
               (30, logs.RetentionDays.ONE_MONTH), (60, logs.RetentionDays.TWO_MONTHS),
               (90, logs.RetentionDays.THREE_MONTHS), (180, logs.RetentionDays.SIX_MONTHS),
               (365, logs.RetentionDays.ONE_YEAR))


def _retention(days: int) -> logs.RetentionDays:
    """Logs are kept at least as long as the run data (the shortest period that covers it)."""
    return next((r for limit, r in _RETENTIONS if limit >= days), _RETENTIONS[-1][1])


def build_app(context: dict[str, Any] | None = None, *, code: lambda_.Code | None = None,
              with_nag: bool = True) -> tuple[App, SfnflowStack]:
    """The app with one ``sfnflow-<stage>`` stack; cdk-nag's AwsSolutions pack runs at
    synth (``with_nag``) and fails it on any unacknowledged finding."""
    app = App(context={**FEATURE_FLAGS, **(context or {})})
    settings = Settings.from_context(app)
    stack = SfnflowStack(app, f"sfnflow-{settings.stage}", settings=settings, code=code,
                         description=f"sfnflow platform, stage {settings.stage}")
    if with_nag:
        Validations.of(app).add_plugins(nag_checks(app))
    return app, stack
