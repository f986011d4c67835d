"""Deploying workflows at run time: the API's create / update / delete / (de)activate.

A workflow's id is its name, and it runs as the state machine
``Config.state_machine_name(id)``. Creating one validates and compiles the document (every
problem reported at once), checks the workflows it runs exist and that the call graph has
no cycle, creates the state machine (tagged with the manifest's tags, which the error
router reads), stores version 1, and — when active — registers its webhook routes and
creates its schedules and event rules (``TriggerSync``). An update is a new version of
all of that; a delete removes all of it. Executions are not deleted: their run data stays
until it expires.

Every create and update publishes a version (``publish=True``) and the record keeps that
version's ARN: executions start on it, so a start right after an update runs the new
definition (UpdateStateMachine alone is eventually consistent: starts in the next few
seconds may still run the previous one). The newest ``KEPT_VERSIONS`` are kept.

**Complete or roll back.** A deploy spans Step Functions, the registry (DynamoDB) and
EventBridge, which share no transaction. So everything that can be checked is checked
before anything is created — the document compiles, the name is free (no record and no
state machine left over), the webhook routes are free, the record fits in a DynamoDB item
(``WorkflowRepository.check_fits``) — and then each step registers its undo
(``functions.services.rollback``): a failure later on (an event bus that does not exist, a
throttled call) removes what this request created, restores what it replaced, and
propagates the step's own error (a typed 4xx, or a 500 the API logs). No orphaned state
machine, no "active" workflow whose triggers were never made.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botocore.exceptions import ClientError

from compiler import CompiledWorkflow, compile_workflow
from compiler.errors import Problem, WorkflowInvalid
from compiler.limits import enforce_limits
from compiler.model import NAME_MAX
from compiler.triggers import event_bus_problems
from functions.config import Config
from functions.services.rollback import Rollback
from functions.store.repository import utc_now
from functions.store.workflows import (
    Webhook,
    WorkflowExists,
    WorkflowRecord,
    WorkflowRepository,
)

logger = logging.getLogger(__name__)

KEPT_VERSIONS = 5  # published versions kept per machine (Step Functions allows 1,000)
MACHINE_MISSING = ("StateMachineDoesNotExist", "ResourceNotFound")
_PLATFORM_SUBSTITUTIONS = {"NodeRunnerArn": "node_runner_arn",
                           "MergeQuorumTable": "merge_quorum_table", "Partition": "partition"}


class TriggerSync(Protocol):
    """Creates and deletes a workflow's schedules and event rules from its manifest."""

    def activate(self, manifest: dict[str, Any]) -> None: ...

    def deactivate(self, manifest: dict[str, Any]) -> None: ...

    def remove(self, manifest: dict[str, Any]) -> None: ...


DEPLOYED_BY = "deployedBy"  # a registry manifest's key: "stack" for ``register``ed ones
STACK = "stack"


def _refuse_stack_workflow(record: WorkflowRecord, change: str) -> None:
    """CloudFormation owns a stack workflow's state machine: changing it through the API
    would drift from the stack (and be undone by the next deploy)."""
    if record.manifest.get(DEPLOYED_BY) == STACK:
        raise WorkflowConflict(
            f"workflow {record.workflow_id!r} is deployed with the stack: it is {change} by "
            "changing its file in workflows/ and deploying (activate and deactivate work)")


class WorkflowNotFound(LookupError):
    pass


class WorkflowConflict(Exception):
    """The request contradicts the registry (an id taken, a name that does not match)."""


def definition_substitutions(manifest: dict[str, Any], config: Config) -> dict[str, str]:
    """Values for the ``${...}`` placeholders of a compiled definition."""
    values: dict[str, str] = {}
    for key in manifest.get("substitutions", []):
        attribute = _PLATFORM_SUBSTITUTIONS.get(key)
        value = getattr(config, attribute) if attribute else None
        if value:
            values[key] = value
    for child, link in manifest.get("children", {}).items():
        values[link["substitution"]] = config.state_machine_arn(child)
    return values


def observability(config: Config) -> dict[str, Any]:
    """What the stack's own machines have (``cdk/sfnflow_cdk/state_machines.py``): every
    event logged without execution data (items live in the run data) to the stage's log
    group for API-created machines, and X-Ray tracing. Sent on create and on update, so a
    machine created before the setting existed gets it with its next version."""
    settings: dict[str, Any] = {"tracingConfiguration": {"enabled": config.state_machine_tracing}}
    if config.state_machine_log_group_arn:
        arn = config.state_machine_log_group_arn
        settings["loggingConfiguration"] = {
            "level": "ALL", "includeExecutionData": False,
            # Step Functions wants the log group's ARN in its ``:*`` form.
            "destinations": [{"cloudWatchLogsLogGroup": {
                "logGroupArn": arn if arn.endswith(":*") else f"{arn}:*"}}]}
    return settings


def unqualified(state_machine_arn: str) -> str:
    """The machine's own ARN, without a version (``...:stateMachine:<name>:<n>``)."""
    return ":".join(state_machine_arn.split(":")[:7])


def version_number(state_machine_arn: str) -> int | None:
    qualifier = state_machine_arn.split(":")[7:]
    return int(qualifier[0]) if qualifier and qualifier[0].isdigit() else None


def tag_list(manifest: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in manifest.get("tags", {}).items()]


def webhooks_of(workflow_id: str, manifest: dict[str, Any]) -> list[Webhook]:
    return [
        Webhook(trigger["parameters"].get("method", "POST"), trigger["parameters"]["path"],
                workflow_id, trigger["node"])
        for trigger in manifest.get("triggers") or [] if trigger.get("type") == "webhook"
    ]


class WorkflowService:
    def __init__(self, sfn: Any, workflows: WorkflowRepository, triggers: TriggerSync,
                 config: Config) -> None:
        self.sfn = sfn
        self.workflows = workflows
        self.triggers = triggers
        self.config = config

    def get(self, workflow_id: str) -> WorkflowRecord:
        record = self.workflows.get(workflow_id)
        if record is None:
            raise WorkflowNotFound(f"workflow {workflow_id!r} does not exist")
        return record

    def compile(self, document: Any, *, replacing: str | None = None) -> CompiledWorkflow:
        """Compile and check against the registry; raises ``WorkflowInvalid``."""
        compiled = enforce_limits(compile_workflow(document))
        problems = [*self._call_problems(compiled, replacing), *self._name_problems(compiled),
                    *event_bus_problems(compiled.manifest.get("triggers") or [],
                                        self.config.allowed_event_buses),
                    *self._credential_problems(compiled)]
        if problems:
            raise WorkflowInvalid(problems)
        return compiled

    def _credential_problems(self, compiled: CompiledWorkflow) -> list[Problem]:
        """Every credential the workflow names exists with a type its node takes: a deploy
        lists them all now rather than each node failing when it first runs. No Secrets
        Manager call for a workflow that names none."""
        naming = [node for node in compiled.graph.workflow.nodes if node.credentials]
        if not naming:
            return []
        from functions.credentials import store_for
        from functions.credentials.references import credential_problems

        return credential_problems(naming, store_for(self.config))

    def _name_problems(self, compiled: CompiledWorkflow) -> list[Problem]:
        """The workflow runs as ``<stage prefix><name>``, which Step Functions caps at 80
        characters (its rules and schedules, ``trigger_name``, fit EventBridge's 64)."""
        machine = self.config.state_machine_name(compiled.name)
        if len(machine) <= NAME_MAX:
            return []
        room = NAME_MAX - len(self.config.state_machine_prefix)
        return [Problem(None, "name", f"workflow {compiled.name!r} would run as state machine "
                        f"{machine!r} ({len(machine)} characters; Step Functions allows "
                        f"{NAME_MAX}): use a name of at most {room} characters",
                        "name_too_long")]

    def _call_problems(self, compiled: CompiledWorkflow, replacing: str | None) -> list[Problem]:
        """Children must be deployed, and no call chain may lead back to this workflow."""
        problems: list[Problem] = []
        for child, link in compiled.manifest.get("children", {}).items():
            for node in link["nodes"]:
                if child == compiled.name:
                    problems.append(Problem(node, "parameters.workflow",
                                            "a workflow may not run itself", "recursion"))
                elif self.workflows.get(child) is None:
                    problems.append(Problem(node, "parameters.workflow",
                                            f"runs workflow {child!r}, which is not deployed",
                                            "unknown_workflow"))
                elif replacing and self._reaches(child, compiled.name):
                    problems.append(Problem(node, "parameters.workflow",
                                            f"runs {child!r}, which runs {compiled.name!r} "
                                            "again: recursion never ends", "recursion"))
        return problems

    def _reaches(self, start: str, target: str) -> bool:
        pending, seen = [start], {start}
        while pending:
            record = self.workflows.get(pending.pop())
            for child in (record.manifest.get("children") or {}) if record else {}:
                if child == target:
                    return True
                if child not in seen:
                    seen.add(child)
                    pending.append(child)
        return False

    def create(self, document: Any, *, active: bool = True) -> WorkflowRecord:
        compiled = self.compile(document)
        name = compiled.name
        if self.workflows.get(name) is not None:
            raise WorkflowConflict(f"workflow {name!r} already exists: "
                                   "PUT /workflows/{id} makes a new version")
        if active:
            self._check_webhooks(name, compiled.manifest)
        now = utc_now()
        record = WorkflowRecord(name, 1, active, document, compiled.manifest,
                                f"{self.config.state_machine_arn(name)}:1", now, now)
        self.workflows.check_fits(record)  # with the ARN it will have: the same length
        self._refuse_leftover_machine(name)
        with Rollback() as rollback:
            record.state_machine_arn = arn = self.sfn.create_state_machine(
                name=self.config.state_machine_name(name),
                definition=compiled.definition_json(
                    definition_substitutions(compiled.manifest, self.config)),
                roleArn=self.config.state_machine_role_arn,
                tags=tag_list(compiled.manifest),
                **observability(self.config),
                publish=True, versionDescription=f"{name} version 1",
            )["stateMachineVersionArn"]
            rollback.add("state machine", lambda: self.sfn.delete_state_machine(
                stateMachineArn=unqualified(arn)))
            try:
                self.workflows.create(record)
            except WorkflowExists:
                rollback.drop("state machine")  # a concurrent create of the name owns it
                raise WorkflowConflict(f"workflow {name!r} already exists: "
                                       "PUT /workflows/{id} makes a new version") from None
            rollback.add("registry record", lambda: self.workflows.delete(name))
            if active:
                self._activate(record, rollback)
        return record

    def _refuse_leftover_machine(self, name: str) -> None:
        """A machine of the name without a record (made outside sfnflow, or left by a
        deploy that died before it could roll back) is not adopted: CreateStateMachine
        would answer with it when the definitions match, and executions would run
        whatever it holds."""
        arn = self.config.state_machine_arn(name)
        try:
            described = self.sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MACHINE_MISSING:
                return
            raise
        if described.get("status") == "DELETING":  # deletion is asynchronous in AWS
            raise WorkflowConflict(f"state machine {described.get('name')!r} is still being "
                                   "deleted (a deploy rolled back, or a delete): try again "
                                   "in a minute")
        raise WorkflowConflict(
            f"state machine {self.config.state_machine_name(name)!r} exists but workflow "
            f"{name!r} is not registered: delete the machine or choose another name")

    def update(self, workflow_id: str, document: Any) -> WorkflowRecord:
        current = self.get(workflow_id)
        _refuse_stack_workflow(current, "changed")
        if isinstance(document, dict) and document.get("name") not in (None, workflow_id):
            raise WorkflowConflict(f"the document is named {document.get('name')!r}; "
                                   f"a workflow's name is its id ({workflow_id!r})")
        if isinstance(document, dict) and "name" not in document:
            document = {"name": workflow_id, **document}
        compiled = self.compile(document, replacing=workflow_id)
        if current.active:
            self._check_webhooks(workflow_id, compiled.manifest)
        record = WorkflowRecord(
            workflow_id, current.version + 1, current.active, document, compiled.manifest,
            f"{unqualified(current.state_machine_arn)}:{current.version + 1}",
            current.created_at, utc_now())
        self.workflows.check_fits(record)
        with Rollback() as rollback:
            record.state_machine_arn = version_arn = self.sfn.update_state_machine(
                stateMachineArn=unqualified(current.state_machine_arn),
                definition=compiled.definition_json(
                    definition_substitutions(compiled.manifest, self.config)),
                **observability(self.config),
                publish=True, versionDescription=f"{workflow_id} version {record.version}",
            )["stateMachineVersionArn"]
            rollback.add("new version", lambda: self._restore_version(current, version_arn))
            if current.active:
                self._deactivate(current)
                rollback.add("previous triggers", lambda: self._activate(current))
                self._activate(record, rollback)
            self.workflows.update(record)  # last: the record names what now exists
        self._forget_old_versions(version_arn)
        return record

    def _restore_version(self, previous: WorkflowRecord, version_arn: str) -> None:
        """Undo an update's UpdateStateMachine: the machine's latest definition goes back
        to the previous version's (schedules and rules start the unqualified machine) and
        the published version is deleted."""
        described = self.sfn.describe_state_machine(stateMachineArn=previous.state_machine_arn)
        self.sfn.update_state_machine(stateMachineArn=unqualified(previous.state_machine_arn),
                                      definition=described["definition"])
        self.sfn.delete_state_machine_version(stateMachineVersionArn=version_arn)

    def delete(self, workflow_id: str) -> None:
        """Triggers first (nothing new starts), then the machine, then the record. When the
        machine cannot be deleted the triggers come back: the workflow stays as it was.
        When the record cannot be, deleting again finishes the job (a machine already gone
        is no error)."""
        record = self.get(workflow_id)
        _refuse_stack_workflow(record, "deleted")
        with Rollback() as rollback:
            if record.active:
                rollback.add(f"triggers of {workflow_id}", lambda: self._activate(record))
            self._deactivate(record)
            self.triggers.remove(record.manifest)
            try:
                self.sfn.delete_state_machine(
                    stateMachineArn=unqualified(record.state_machine_arn))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in MACHINE_MISSING:
                    raise
        self.workflows.delete(workflow_id)

    def register(self, document: Any, manifest: dict[str, Any],
                 state_machine_arn: str) -> WorkflowRecord:
        """Record a workflow whose state machine was deployed elsewhere (the CDK stack's
        registration custom resource; ``LocalCloud.deploy``) and activate it: webhooks,
        schedules and rules, as ``create`` does. Idempotent: registering it again keeps its
        version (and re-puts its triggers when active); a changed document or manifest is
        the next version; an operator's deactivation survives."""
        workflow_id = str(manifest["workflow"])
        manifest = {**manifest, DEPLOYED_BY: STACK}
        current = self.workflows.get(workflow_id)
        if current is None:
            self._check_webhooks(workflow_id, manifest)
            now = utc_now()
            record = WorkflowRecord(workflow_id, 1, True, document, manifest,
                                    state_machine_arn, now, now)
            self.workflows.check_fits(record)
            with Rollback() as rollback:
                self.workflows.create(record)
                rollback.add("registry record", lambda: self.workflows.delete(workflow_id))
                self._activate(record, rollback)
            return record
        if (current.document, current.manifest, current.state_machine_arn) == (
                document, manifest, state_machine_arn):
            if current.active:
                with Rollback() as rollback:
                    self._activate(current, rollback)
            return current
        record = WorkflowRecord(workflow_id, current.version + 1, current.active, document,
                                manifest, state_machine_arn, current.created_at, utc_now())
        self.workflows.check_fits(record)
        with Rollback() as rollback:
            if current.active:
                self._check_webhooks(workflow_id, manifest)
                self._deactivate(current)
                rollback.add("previous triggers", lambda: self._activate(current))
                self._activate(record, rollback)
            self.workflows.update(record)
        return record

    def unregister(self, workflow_id: str) -> None:
        """Forget a workflow whose state machine is deleted elsewhere: its webhooks,
        schedules, rules and registry entry go; its executions' run data stays."""
        record = self.workflows.get(workflow_id)
        if record is None:
            return
        self._deactivate(record)
        self.triggers.remove(record.manifest)
        self.workflows.delete(workflow_id)

    def set_active(self, workflow_id: str, active: bool) -> WorkflowRecord:
        record = self.get(workflow_id)
        if record.active != active:
            with Rollback() as rollback:
                if active:
                    self._activate(record, rollback)
                else:
                    self._deactivate(record)
                self.workflows.set_active(workflow_id, active, utc_now())
            record.active = active
        return record

    def _forget_old_versions(self, version_arn: str) -> None:
        """Step Functions keeps at most 1,000 versions of a machine: keep the newest
        ``KEPT_VERSIONS`` (executions already running on an older one are not affected)."""
        number = version_number(version_arn)
        if number is not None and number > KEPT_VERSIONS:
            old = f"{unqualified(version_arn)}:{number - KEPT_VERSIONS}"
            try:  # housekeeping after a complete update: a failure fails nothing
                self.sfn.delete_state_machine_version(stateMachineVersionArn=old)
            except ClientError:
                logger.exception("old version %s was not deleted", old)

    def _check_webhooks(self, workflow_id: str, manifest: dict[str, Any]) -> None:
        for hook in webhooks_of(workflow_id, manifest):
            owner = self.workflows.webhook_owner(hook.method, hook.path)
            if owner not in (None, workflow_id):
                raise WorkflowConflict(f"webhook {hook.method} /webhook/{hook.path} already "
                                       f"belongs to workflow {owner!r}")

    def _activate(self, record: WorkflowRecord, rollback: Rollback | None = None) -> None:
        """Webhook routes, schedules and rules; with ``rollback``, a failure part-way
        leaves none of them (the undo is registered before the first is made)."""
        self._check_webhooks(record.workflow_id, record.manifest)
        if rollback is not None:
            rollback.add(f"triggers of {record.workflow_id}", lambda: self._deactivate(record))
        for hook in webhooks_of(record.workflow_id, record.manifest):
            self.workflows.put_webhook(hook)
        self.triggers.activate(record.manifest)

    def _deactivate(self, record: WorkflowRecord) -> None:
        for hook in webhooks_of(record.workflow_id, record.manifest):
            if self.workflows.webhook_owner(hook.method, hook.path) == record.workflow_id:
                self.workflows.delete_webhook(hook.method, hook.path)
        self.triggers.deactivate(record.manifest)
