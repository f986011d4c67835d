"""The embedded cloud: moto with Step Functions execution on, Lambda invokes dispatched
in-process to the real handlers in ``functions/``, DynamoDB tables and the payload bucket
created from the same definitions the CDK stack uses.

moto never emits "Step Functions Execution Status Change" events: ``self.emitter``
(``local.eventbridge``) publishes them on the default bus, where the same rule the CDK
stack creates delivers them to the run-data and error-router handlers. ``wait`` publishes
an execution's final event when it ends — first for every sub-workflow execution it
started (children before parents), then for itself; ``start_event_threads`` (``sfnflow
serve``) also publishes them in the background for executions nobody waits for, and runs
``self.scheduler`` (``local.scheduler``), which fires EventBridge Scheduler schedules.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from compiler import CompiledWorkflow, SfnflowError
from compiler.errors import WorkflowInvalid
from compiler.limits import enforce_limits
from functions.config import partition_of
from local import moto_patches
from local.persistence import Persistence
from local.server import ApiGateway

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = partition_of(REGION)


def local_arn(service: str, resource: str, *, region: str = REGION) -> str:
    """An ARN of the local account, in the region's partition (IAM: ``region=""``)."""
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{resource}"


NODE_RUNNER = "sfnflow-node-runner"
NODE_RUNNER_ARN = local_arn("lambda", f"function:{NODE_RUNNER}")
STATE_MACHINE_ROLE = local_arn("iam", "role/sfnflow-state-machine", region="")
PAYLOAD_BUCKET = "sfnflow-payloads"
LOCAL_EVENT_BUS = "sfnflow"
LOCAL_MACHINE_LOG_GROUP = "/aws/vendedlogs/states/sfnflow/api-created"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
STATUS_CHANGE_RULE = "sfnflow-status-change"
RECONCILER = "sfnflow-reconciler"
TRIGGERS = "sfnflow-triggers"  # the trigger starter every schedule and rule targets
UNDELIVERED = "sfnflow-undelivered"  # the dead-letter queue of triggers and status changes
RECONCILE_EVERY_SECONDS = 300  # the stack's schedule: rate(5 minutes)
# Status-change events are published when moto announces an execution's start or end
# (``moto_patches.on_execution_change``), at most once per gap; the interval only catches
# what was never announced. Polling every 50 ms instead cost an idle `sfnflow serve` a
# sixth to a third of a core, growing with every workflow and execution (issue 11).
EMIT_MIN_GAP_SECONDS = 0.05
UNANNOUNCED_END_SECONDS = 0.5  # ``wait`` looks again at least this often
EMIT_FALLBACK_SECONDS = 10.0
STATUS_CHANGE_FUNCTIONS = ("sfnflow-execution-events", "sfnflow-error-router")

_LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "SFNFLOW_PAYLOAD_BUCKET": PAYLOAD_BUCKET,
    "SFNFLOW_NODE_RUNNER_ARN": NODE_RUNNER_ARN,
    "SFNFLOW_STATE_MACHINE_ROLE_ARN": STATE_MACHINE_ROLE,
    "SFNFLOW_SCHEDULER_ROLE_ARN": local_arn("iam", "role/sfnflow-scheduler", region=""),
    "SFNFLOW_EVENTS_ROLE_ARN": local_arn("iam", "role/sfnflow-events", region=""),
    "SFNFLOW_TRIGGER_FUNCTION_ARN": local_arn("lambda", f"function:{TRIGGERS}"),
    "SFNFLOW_TRIGGER_DLQ_ARN": local_arn("sqs", UNDELIVERED),
    # As the stack does: where API-created machines log, the stage's own event bus.
    "SFNFLOW_STATE_MACHINE_LOG_GROUP_ARN": local_arn(
        "logs", f"log-group:{LOCAL_MACHINE_LOG_GROUP}:*"),
    "SFNFLOW_EVENT_BUS": LOCAL_EVENT_BUS,
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_SERVICE_NAME": "sfnflow",
}

HistoryListener = Callable[[dict[str, Any]], None]


@dataclass
class Finished:
    execution_id: str
    execution_arn: str
    status: str
    error: str | None
    cause: str | None
    output: Any
    read_history: Callable[[], list[dict[str, Any]]] = field(repr=False)

    @cached_property
    def history(self) -> list[dict[str, Any]]:
        """The execution's history events, read when first asked for (most callers never
        do, and moto's GetExecutionHistory costs ~8 ms even for a short execution)."""
        return self.read_history()


class LocalCloud:
    """Use as a context manager; everything lives in memory until ``__exit__``."""

    def __init__(self, time_scale: float = 1.0, state_dir: Path | None = None) -> None:
        self.time_scale = time_scale
        self.state_dir = state_dir  # None: in memory; else kept there (local.persistence)
        self.state: Persistence | None = None
        self._mock: Any = None

    def __enter__(self) -> LocalCloud:
        for key, value in _LOCAL_ENV.items():
            os.environ.setdefault(key, value)
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        moto_patches.apply_all()
        moto_patches.set_time_scale(self.time_scale)

        import boto3
        from moto import mock_aws

        from functions.config import Config
        from functions.handlers import error_router, execution_events, node_runner
        from functions.services.executions import ExecutionService
        from functions.store.repository import RunRepository

        self._mock = mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "lambda": {"use_docker": False},
            }
        )
        self._mock.start()
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=PAYLOAD_BUCKET)
        boto3.client("logs", region_name=REGION).create_log_group(
            logGroupName=LOCAL_MACHINE_LOG_GROUP)
        boto3.client("events", region_name=REGION).create_event_bus(Name=LOCAL_EVENT_BUS)
        # The key stream tokens are signed with (the stack's is a KMS HMAC key too); a new
        # cloud has a new key, so it is set, not defaulted.
        os.environ["SFNFLOW_STREAM_TOKEN_KEY_ARN"] = boto3.client(
            "kms", region_name=REGION).create_key(
            KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC",
            Description="sfnflow stream tokens")["KeyMetadata"]["Arn"]
        self.config = Config.from_env()
        self.repository = RunRepository(self.config, s3_client=self.s3)
        self.repository.create_tables(wait=False)  # moto's tables are ACTIVE at once
        node_runner._runner.cache_clear()
        _clear_api_caches()
        execution_events._service.cache_clear()
        moto_patches.register_lambda(NODE_RUNNER, node_runner.lambda_handler)
        self.executions = ExecutionService(self.sfn, self.repository)
        error_router._router.cache_clear()
        self._follow_status_changes(execution_events.lambda_handler, error_router.lambda_handler)
        self._state_machines: dict[str, str] = {}
        self._compiled: dict[str, CompiledWorkflow] = {}
        # state machine ARN -> digest of the definition and tags deployed there: a start
        # redeploys only what changed (moto parses a definition on every update: ~0.1 s)
        self._deployed: dict[str, str] = {}
        self._delivered: set[str] = set()  # executions whose final event was delivered
        if self.state_dir is not None:  # last: the cloud's own resources are not journaled
            self.state = Persistence(self.state_dir)
            try:
                self.restored = self.state.open()
            except BaseException:
                self.state = None
                self.__exit__(None, None, None)
                raise
        try:  # after the restore: the file's values win over the journal's
            self._seed_credentials()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _seed_credentials(self) -> None:
        """A new cloud is a new account: no cached credential or learnt secret survives it;
        its Secrets Manager (moto's) starts with the file's credentials (local.credentials)."""
        from functions import credentials
        from local.credentials import seed_from_env

        credentials.reset()
        seed_from_env(self.config)

    def _follow_status_changes(self, *handlers: moto_patches.LambdaHandler) -> None:
        """The CDK stack's status-change rule (default bus) -> the run-data and error-router
        Lambdas; the emitter publishes what moto never does, the scheduler fires schedules."""
        import boto3

        from functions.services.triggers import TriggerRules
        from local.eventbridge import DETAIL_TYPE, SOURCE, StatusChangeEmitter
        from local.periodic import Periodic
        from local.scheduler import LocalScheduler

        self.events = boto3.client("events", region_name=REGION)
        self.scheduler_client = boto3.client("scheduler", region_name=REGION)
        self.triggers = TriggerRules(events=self.events, scheduler=self.scheduler_client,
                                     config=self.config)
        from functions.services.workflows import WorkflowService
        from functions.store.workflows import WorkflowRepository

        self.workflows = WorkflowService(self.sfn, WorkflowRepository(), self.triggers,
                                         self.config)
        from functions.handlers import triggers

        triggers._starter.cache_clear()
        moto_patches.register_lambda(TRIGGERS, triggers.lambda_handler)
        sqs = boto3.client("sqs", region_name=REGION)
        undelivered = sqs.create_queue(QueueName=UNDELIVERED)["QueueUrl"]
        # The stack's OnFailure destination of every asynchronously invoked function.
        moto_patches.set_async_failures(
            lambda record: sqs.send_message(QueueUrl=undelivered, MessageBody=record),
            lambda name: local_arn("lambda", f"function:{name}"))
        self.events.put_rule(Name=STATUS_CHANGE_RULE, EventPattern=json.dumps(
            {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}))
        targets = []
        for function, handler in zip(STATUS_CHANGE_FUNCTIONS, handlers, strict=True):
            moto_patches.register_lambda(function, handler)
            targets.append({"Id": function,
                            "Arn": local_arn("lambda", f"function:{function}")})
        self.events.put_targets(Rule=STATUS_CHANGE_RULE, Targets=targets)
        self.emitter = StatusChangeEmitter(self.sfn, self.events)
        self._emitting = Periodic(self.emitter.emit_changed, EMIT_FALLBACK_SECONDS,
                                  "sfnflow-status-events", at_once=True,
                                  min_gap_seconds=EMIT_MIN_GAP_SECONDS)
        self._execution_changed = threading.Condition()  # ``wait`` sleeps on it
        self._changes = 0  # executions started or ended so far
        self._stop_listening = moto_patches.on_execution_change(self._on_execution_change)
        self.scheduler = LocalScheduler(self.scheduler_client, self.sfn,
                                        time_scale=self.time_scale)
        # The stack's reconciler schedule (rate 5 minutes), on the same clock.
        from functions.handlers import reconciler

        reconciler._reconciler.cache_clear()
        moto_patches.register_lambda(RECONCILER, reconciler.lambda_handler)
        self.reconciler = Periodic(self.reconcile, RECONCILE_EVERY_SECONDS * self.time_scale,
                                   "sfnflow-reconciler")

    def _on_execution_change(self, execution_arn: str) -> None:
        """moto announced that an execution started or ended (from its thread)."""
        self.emitter.changed(execution_arn)
        self._emitting.wake()
        with self._execution_changed:
            self._changes += 1
            self._execution_changed.notify_all()

    def _sleep_until_a_change(self, seen: int, seconds: float) -> None:
        """Sleep until an execution starts or ends after ``seen`` (``_changes``), at most
        ``seconds`` (a fallback: a change nobody announced)."""
        with self._execution_changed:
            if self._changes == seen:
                self._execution_changed.wait(seconds)

    def start_event_threads(self) -> None:
        """What ``sfnflow serve`` runs: status-change events and schedules in the background."""
        self._emitting.start()
        self.scheduler.start()
        self.reconciler.start()

    def stop_event_threads(self) -> None:
        for runner in (getattr(self, "reconciler", None), getattr(self, "scheduler", None),
                       getattr(self, "_emitting", None)):
            if runner is not None:
                runner.stop()

    def __exit__(self, *exc_info: object) -> None:
        if self._mock is not None:
            self.stop_event_threads()
            if self.state is not None:
                self.state.close()
                self.state = None
            if hasattr(self, "_stop_listening"):
                self._stop_listening()
            moto_patches.set_async_failures(None)
            self._mock.stop()
            self._mock = None

    def reconcile(self, now: datetime | None = None) -> dict[str, Any]:
        """Invoke the reconciler as its schedule does (``now``: the scheduled time,
        default the scheduler's clock); returns what it reports."""
        import boto3

        moment = (now or self.scheduler.now()).astimezone(UTC)
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
                 "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
        response = boto3.client("lambda", region_name=REGION).invoke(
            FunctionName=RECONCILER, Payload=json.dumps(event).encode())
        result: dict[str, Any] = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            raise SfnflowError(f"the reconciler failed: {result.get('errorMessage')}")
        return result

    # ------------------------------------------------------------------ deploy and run

    def deploy(self, compiled: CompiledWorkflow) -> str:
        """Create (or update) the workflow's state machine; returns its ARN. The ARNs of
        the workflows it runs are substituted whether or not they are deployed yet. A
        definition and tags already deployed there are not deployed again."""
        enforce_limits(compiled)
        self._check_credentials(compiled)
        substitutions = {"NodeRunnerArn": NODE_RUNNER_ARN,
                         "MergeQuorumTable": self.config.merge_quorum_table,
                         "Partition": self.config.partition}
        for child, link in compiled.manifest.get("children", {}).items():
            substitutions[link["substitution"]] = state_machine_arn(child)
        definition = compiled.definition_json(substitutions)
        previous = self._compiled.get(compiled.name)
        self._compiled[compiled.name] = compiled
        arn = self._state_machines.get(compiled.name)
        tags = [{"key": k, "value": v} for k, v in compiled.manifest["tags"].items()]
        digest = hashlib.sha256(json.dumps([definition, tags]).encode()).hexdigest()
        if arn is None:
            arn = self.sfn.create_state_machine(
                name=compiled.name, definition=definition, roleArn=STATE_MACHINE_ROLE,
                tags=tags,
            )["stateMachineArn"]
            self._state_machines[compiled.name] = arn
        elif self._deployed.get(arn) != digest:  # unchanged: nothing to update or tag
            self.sfn.update_state_machine(stateMachineArn=arn, definition=definition)
            self.sfn.tag_resource(resourceArn=arn, tags=tags)
        self._deployed[arn] = digest
        if previous is None or previous.manifest != compiled.manifest or \
                previous.graph.workflow != compiled.graph.workflow:
            # What the stack's registration custom resource does: the workflow in the
            # registry, its webhooks, schedules and rules active.
            from functions.services import registration

            registration.on_event(
                {"RequestType": "Update" if previous else "Create",
                 "ResourceProperties": registration.registration_properties(compiled, arn)},
                self.workflows)
        return arn

    def _check_credentials(self, compiled: CompiledWorkflow) -> None:
        """Every credential the workflow names exists, with a type its node takes."""
        from functions.credentials import store_for
        from functions.credentials.references import credential_problems

        naming = [node for node in compiled.graph.workflow.nodes if node.credentials]
        problems = credential_problems(naming, store_for(self.config)) if naming else []
        if problems:
            raise WorkflowInvalid(problems)

    def deploy_project(self, compiled_by_name: dict[str, CompiledWorkflow]) -> dict[str, str]:
        """Deploy workflows together (e.g. ``compile_project``'s result); returns their ARNs."""
        return {name: self.deploy(compiled) for name, compiled in compiled_by_name.items()}

    def _missing_children(self, name: str) -> list[str]:
        missing, pending, seen = [], [name], {name}
        while pending:
            for child in self._compiled[pending.pop()].manifest.get("children", {}):
                if child not in self._compiled:
                    missing.append(child)
                elif child not in seen:
                    seen.add(child)
                    pending.append(child)
        return missing

    def start(
        self,
        compiled: CompiledWorkflow,
        user_input: Any = None,
        *,
        pin_data: dict[str, list[dict[str, Any]]] | None = None,
        mode: str = "manual",
    ) -> str:
        """Deploy if needed and start one execution; returns its execution id. Every
        workflow it runs must be deployed first (``deploy_project``)."""
        arn = self.deploy(compiled)
        missing = self._missing_children(compiled.name)
        if missing:
            raise SfnflowError(f"workflow {compiled.name!r} runs {', '.join(map(repr, missing))}"
                               ", not deployed: deploy the project (deploy_project) first")
        execution = self.executions.start(
            compiled.name,
            arn,
            user_input,
            pin_data=pin_data,
            mode=mode,
            version=compiled.manifest["version"],
        )
        assert execution.execution_arn is not None
        self._arns = getattr(self, "_arns", {})
        self._arns[execution.execution_id] = execution.execution_arn
        return execution.execution_id

    def wait(
        self,
        execution_id: str,
        *,
        on_event: HistoryListener | None = None,
        poll_seconds: float = 0.02,
        timeout_seconds: float = 600,
    ) -> Finished:
        """Wait until the execution ends, emulate the status-change event, return the end.
        moto announces every execution's end, so ``wait`` sleeps until one ends rather
        than describing it every ``poll_seconds``; with ``on_event`` (a live view of the
        history) it reads the history every ``poll_seconds``."""
        arn = getattr(self, "_arns", {}).get(execution_id) or self._recorded_arn(execution_id)
        seen = 0
        deadline = time.monotonic() + timeout_seconds
        while True:
            changes = self._changes
            described = self.sfn.describe_execution(executionArn=arn)
            if on_event is not None:
                events = self.history(arn)
                for event in events[seen:]:
                    on_event(event)
                seen = len(events)
            if described["status"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_id} still running after "
                                   f"{timeout_seconds}s")
            if on_event is not None:
                time.sleep(poll_seconds)
            else:
                self._sleep_until_a_change(changes, UNANNOUNCED_END_SECONDS)
        self._deliver_descendants(described, poll_seconds, deadline)
        self.emitter.emit(described)  # through EventBridge, once (the thread may have)
        self._delivered.add(described["executionArn"])
        output = described.get("output")
        return Finished(
            execution_id=execution_id,
            execution_arn=arn,
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            output=json.loads(output) if output else None,
            read_history=lambda: self.history(arn),
        )

    def _recorded_arn(self, execution_id: str) -> str:
        """Executions started elsewhere (API, error router, rules) by their run data."""
        execution = self.repository.get_execution(execution_id)
        if execution is None or execution.execution_arn is None:
            raise KeyError(f"unknown execution {execution_id!r}")
        return execution.execution_arn

    def _deliver_descendants(self, root: dict[str, Any], poll_seconds: float,
                             deadline: float) -> None:
        """Wait for every sub-workflow execution under ``root`` (fire-and-forget ones may
        outlive it), then deliver their final events, deepest first."""
        workflow = root["stateMachineArn"].rsplit(":", 1)[-1]
        if workflow not in self._compiled or not self._compiled[workflow].manifest.get(
                "children"):
            return
        machines = {workflow, *self._descendant_workflows(workflow)}
        while True:
            tree = self._executions_under(root, machines)
            if all(child["status"] in TERMINAL for child in tree):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"sub-workflows of {root['name']} still running")
            time.sleep(poll_seconds)
        tree.sort(key=lambda child: (-_depth(child), child["startDate"]))
        for child in tree:
            self.emitter.emit(child)
            self._delivered.add(child["executionArn"])

    def _descendant_workflows(self, name: str) -> set[str]:
        found: set[str] = set()
        pending = [name]
        while pending:
            for child in self._compiled[pending.pop()].manifest.get("children", {}):
                if child not in found and child in self._compiled:
                    found.add(child)
                    pending.append(child)
        return found

    def _executions_under(self, root: dict[str, Any],
                          machines: set[str]) -> list[dict[str, Any]]:
        """Described executions (not yet delivered) whose ``parent`` chain leads to root."""
        candidates: dict[str, dict[str, Any]] = {}
        for machine in machines:
            pages = self.sfn.get_paginator("list_executions").paginate(
                stateMachineArn=state_machine_arn(machine))
            for page in pages:
                for listed in page["executions"]:
                    arn = listed["executionArn"]
                    if arn not in self._delivered and arn != root["executionArn"]:
                        candidates[arn] = self.sfn.describe_execution(executionArn=arn)
        parent_of = {arn: _parent(described) for arn, described in candidates.items()}
        by_name = {described["name"]: arn for arn, described in candidates.items()}
        under: list[dict[str, Any]] = []
        for arn, described in candidates.items():
            seen: set[str] = set()
            parent = parent_of[arn]
            while parent is not None and parent in by_name and parent not in seen:
                seen.add(parent)
                parent = parent_of[by_name[parent]]
            if parent == root["name"]:
                under.append(described)
        return under

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]


# (module, cached function) of the API and stream handlers: what ``_clear_api_caches`` clears
_API_CACHES = (
    ("functions.api.dependencies", "services"),
    ("functions.api.credentials", "credential_store"),
    ("functions.api.dead_letters", "dead_letters"),
    ("functions.api.redrive", "redriver"),
    ("functions.handlers.webhooks", "_service"),
    ("functions.api.streams", "stream_tokens"),
    ("functions.handlers.stream", "_service"),
    ("functions.handlers.stream", "_tokens"),
)


def _clear_api_caches() -> None:
    """Handlers build their clients once per container; a new cloud is a new container.
    A module not imported yet has nothing cached: it is not imported here (the API's
    modules cost ``sfnflow run``, which never serves them, ~0.2 s)."""
    import sys

    for module_name, cached in _API_CACHES:
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, cached).cache_clear()


def api_gateway(api_key: str | None) -> ApiGateway:
    """The local API Gateway in front of the API and webhook handlers."""
    from functions.api.dependencies import services
    from functions.handlers import api, webhooks

    def progress(execution_id: str, after: str | None) -> dict[str, Any]:
        return services().progress.events(execution_id, after)

    def verify_token(token: str) -> str:
        from functions.api.streams import stream_tokens
        from functions.services.streams import TokenInvalid

        tokens = stream_tokens()
        if tokens is None:
            raise ValueError("stream tokens are not configured")
        try:
            return tokens.verify(token)
        except TokenInvalid as exc:
            raise ValueError(str(exc)) from exc

    return ApiGateway(api.lambda_handler, webhooks.lambda_handler, api_key, progress,
                      verify_token=verify_token)


def state_machine_arn(workflow: str) -> str:
    return local_arn("states", f"stateMachine:{workflow}")


def _envelope(described: dict[str, Any]) -> dict[str, Any]:
    try:
        envelope = json.loads(described.get("input") or "{}")
    except ValueError:
        return {}
    return envelope if isinstance(envelope, dict) else {}


def _parent(described: dict[str, Any]) -> str | None:
    """The name of the execution that started this one as a sub-workflow, if any."""
    parent = _envelope(described).get("parent")
    return parent.get("executionId") if isinstance(parent, dict) else None


def _depth(described: dict[str, Any]) -> int:
    parent = _envelope(described).get("parent")
    depth = parent.get("depth") if isinstance(parent, dict) else None
    return depth if isinstance(depth, int) else 0
