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
"""

from __future__ import annotations

from typing import Any, Protocol

from compiler import CompiledWorkflow, compile_workflow
from compiler.errors import Problem, WorkflowInvalid
from compiler.limits import enforce_limits
from compiler.model import NAME_MAX
from compiler.triggers import event_bus_problems
from functions.config import Config
from functions.store.repository import utc_now
from functions.store.workflows import Webhook, WorkflowRecord, WorkflowRepository

KEPT_VERSIONS = 5  # published versions kept per machine (Step Functions allows 1,000)
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
                                        self.config.allowed_event_buses)]
        if problems:
            raise WorkflowInvalid(problems)
        return compiled

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
        if self.workflows.get(compiled.name) is not None:
            raise WorkflowConflict(f"workflow {compiled.name!r} already exists: "
                                   "PUT /workflows/{id} makes a new version")
        if active:
            self._check_webhooks(compiled.name, compiled.manifest)
        arn = self.sfn.create_state_machine(
            name=self.config.state_machine_name(compiled.name),
            definition=compiled.definition_json(
                definition_substitutions(compiled.manifest, self.config)),
            roleArn=self.config.state_machine_role_arn,
            tags=tag_list(compiled.manifest),
            **observability(self.config),
            publish=True, versionDescription=f"{compiled.name} version 1",
        )["stateMachineVersionArn"]
        now = utc_now()
        record = WorkflowRecord(compiled.name, 1, active, document, compiled.manifest, arn,
                                now, now)
        self.workflows.create(record)
        if active:
            self._activate(record)
        return record

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
        version_arn = self.sfn.update_state_machine(
            stateMachineArn=unqualified(current.state_machine_arn),
            definition=compiled.definition_json(
                definition_substitutions(compiled.manifest, self.config)),
            **observability(self.config),
            publish=True, versionDescription=f"{workflow_id} version {current.version + 1}",
        )["stateMachineVersionArn"]
        if current.active:
            self._deactivate(current)
        record = WorkflowRecord(workflow_id, current.version + 1, current.active, document,
                                compiled.manifest, version_arn, current.created_at, utc_now())
        self.workflows.update(record)
        self._forget_old_versions(version_arn)
        if record.active:
            self._activate(record)
        return record

    def delete(self, workflow_id: str) -> None:
        record = self.get(workflow_id)
        _refuse_stack_workflow(record, "deleted")
        self._deactivate(record)
        self.triggers.remove(record.manifest)
        self.sfn.delete_state_machine(stateMachineArn=unqualified(record.state_machine_arn))
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
            self.workflows.create(record)
        elif (current.document, current.manifest, current.state_machine_arn) == (
                document, manifest, state_machine_arn):
            record = current
        else:
            if current.active:
                self._check_webhooks(workflow_id, manifest)
                self._deactivate(current)
            record = WorkflowRecord(workflow_id, current.version + 1, current.active,
                                    document, manifest, state_machine_arn,
                                    current.created_at, utc_now())
            self.workflows.update(record)
        if record.active:
            self._activate(record)
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
            if active:
                self._activate(record)
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
            self.sfn.delete_state_machine_version(stateMachineVersionArn=old)

    def _check_webhooks(self, workflow_id: str, manifest: dict[str, Any]) -> None:
        for hook in webhooks_of(workflow_id, manifest):
            owner = self.workflows.webhook_owner(hook.method, hook.path)
            if owner not in (None, workflow_id):
                raise WorkflowConflict(f"webhook {hook.method} /webhook/{hook.path} already "
                                       f"belongs to workflow {owner!r}")

    def _activate(self, record: WorkflowRecord) -> None:
        self._check_webhooks(record.workflow_id, record.manifest)
        for hook in webhooks_of(record.workflow_id, record.manifest):
            self.workflows.put_webhook(hook)
        self.triggers.activate(record.manifest)

    def _deactivate(self, record: WorkflowRecord) -> None:
        for hook in webhooks_of(record.workflow_id, record.manifest):
            if self.workflows.webhook_owner(hook.method, hook.path) == record.workflow_id:
                self.workflows.delete_webhook(hook.method, hook.path)
        self.triggers.deactivate(record.manifest)
