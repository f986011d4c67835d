"""Starting executions and recording their status changes, for every trigger and handler.

``start`` records the execution, then calls StartExecution. ``on_status_change`` consumes
the detail of an EventBridge "Step Functions Execution Status Change" event (in AWS a rule
delivers it; locally ``local.cloud`` emulates the delivery) and records the final status,
output and error, naming the node that failed from the run data. A sub-workflow execution
(its input has ``parent``) is recorded from its first event, linked to its parent, and
also records the parent's executeWorkflow node run (``functions.services.subworkflows``).
When an execution ends, the runs of nodes lowered to native states (no Lambda call) are
recorded from its history (``functions.services.native_runs``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from functions.nodes.triggers import ENVELOPE_KEYS
from functions.services import execution_metrics, finished, native_runs, subworkflows
from functions.services.admission import Admission, Policy
from functions.services.staging import stage_large_input
from functions.store.repository import Execution, NodeRun, RunRepository, utc_now

Item = dict[str, Any]


# Keys of the execution input that only sfnflow sets (``envelope_extras``, ``pinned``,
# ``mode``; ``parent`` by an executeWorkflow state): a caller's input must not set them, or
# an API start could name itself another execution's child and write that execution's
# node run, reuse another execution's outputs, or skip nodes.
RESERVED_KEYS = ENVELOPE_KEYS | {"parent"}


def trigger_input(user_input: Any, pinned: list[str], mode: str) -> dict[str, Any]:
    """The execution input: the caller's input plus sfnflow's envelope keys. A caller's
    object that holds reserved keys is data that looks like them: it travels as the one
    item it is (``{"items": [...]}``), all its fields kept."""
    if isinstance(user_input, list):
        envelope: dict[str, Any] = {"items": user_input}
    elif isinstance(user_input, dict) and isinstance(user_input.get("items"), list):
        envelope = {k: v for k, v in user_input.items() if k not in RESERVED_KEYS}
    elif isinstance(user_input, dict) and RESERVED_KEYS & user_input.keys():
        envelope = {"items": [user_input]}
    elif isinstance(user_input, dict):
        envelope = dict(user_input)
    elif user_input is None:
        envelope = {}
    else:
        envelope = {"items": [{"value": user_input}]}
    envelope["mode"] = mode
    if pinned:
        envelope["pinned"] = pinned
    return envelope


def is_map_run_child(detail: dict[str, Any]) -> bool:
    """A child execution of a Distributed Map: Step Functions labels its state machine ARN
    ``...:stateMachine:<machine>/<map run label>`` and its execution ARN
    ``...:execution:<machine>/<map run label>:<id>``; names of machines and executions may
    not contain ``/``, so the slash tells them apart."""
    arn = detail.get("stateMachineArn") or detail.get("executionArn") or ""
    return "/" in str(arn)


def execution_arn_of(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives execution ``name`` of a state machine."""
    machine = ":".join(state_machine_arn.split(":")[:7])  # a version's ARN names its machine
    return machine.replace(":stateMachine:", ":execution:", 1) + ":" + name


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, int | float):  # EventBridge detail uses epoch milliseconds
        return datetime.fromtimestamp(value / 1000, UTC).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def _parsed_cause(cause: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(cause) if cause else None
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error_message(cause: str | None) -> str | None:
    parsed = _parsed_cause(cause)
    return str(parsed["errorMessage"]) if "errorMessage" in parsed else cause


def _error_node(cause: str | None) -> str | None:
    """A failure raised outside the runner (a rejected wait) names its node in the cause."""
    node = _parsed_cause(cause).get("node")
    return node if isinstance(node, str) else None


class ExecutionService:
    def __init__(self, sfn: Any, repository: RunRepository) -> None:
        self.sfn = sfn
        self.repository = repository
        self.observers = finished.observers(repository)
        self.admission = Admission(sfn, repository)

    def start(
        self,
        workflow_id: str,
        state_machine_arn: str,
        user_input: Any = None,
        *,
        pin_data: dict[str, list[Item]] | None = None,
        pins: dict[str, int] | None = None,
        mode: str = "manual",
        version: str | None = None,
        name: str | None = None,
        envelope_extras: dict[str, Any] | None = None,
        admission: Policy | None = None,
    ) -> Execution:
        """Record and start one execution. With ``name`` the start is idempotent: a name
        already recorded returns that execution and starts nothing (a duplicate delivery,
        a repeated idempotency key). ``envelope_extras`` adds sfnflow keys to the input
        (``triggeredBy``, ``triggerType``, ``reuse``).

        Pins apply only when the caller passes them (manual runs, ``usePins``): ``pin_data``
        stores items as the nodes' current pins (a new version when they changed), ``pins``
        names stored pin versions (node -> version). The execution records the versions it
        uses, so a pin edited during the run does not change it.

        Under a concurrency limit (``admission``'s ``maxConcurrency``, or the stage's) the
        execution is recorded ``QUEUED`` and admitted by ``functions.services.admission``:
        it may come back RUNNING or still QUEUED."""
        versions = dict(pins or {})
        for node, items in (pin_data or {}).items():
            versions[node] = self.repository.put_pin(workflow_id, node, items)
        execution_id = name or uuid.uuid4().hex
        envelope = stage_large_input(  # a large input travels as an S3 reference
            self.repository, execution_id,
            trigger_input(user_input, sorted(versions), mode) | (envelope_extras or {}))
        execution = Execution(
            execution_id=execution_id,
            workflow_id=workflow_id,
            status="RUNNING",
            started_at=utc_now(),
            mode=mode,
            workflow_version=version,
            input=envelope,
            pinned=sorted(versions),
            pin_versions=versions,
            execution_arn=execution_arn_of(state_machine_arn, name or ""),
        )
        admitted = self.admission.applies(admission)
        if admitted:
            execution.status, execution.execution_arn = "QUEUED", None
        if name is None:
            execution.execution_arn = None
            self.repository.create_execution(execution)
        elif not self.repository.create_execution_if_absent(execution):
            existing = self.repository.get_execution(name)
            assert existing is not None
            return existing
        if admitted:
            return self.admission.submit(execution, state_machine_arn, admission)
        try:
            response = self.sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=execution.execution_id,
                input=json.dumps(envelope),
            )
        except Exception as exc:
            if name is not None:  # its caller retries the same name (a delivery, a key):
                self.repository.forget_unstarted(execution.execution_id)  # a fresh start
            else:
                self.repository.record_execution_status(
                    execution.execution_id, "FAILED", stopped_at=utc_now(),
                    error={"type": "Sfnflow.StartFailed", "message": str(exc), "node": None})
            raise
        execution.execution_arn = response["executionArn"]
        execution_metrics.started(workflow_id)
        return execution

    def on_status_change(self, detail: dict[str, Any]) -> None:
        """Record one status change (idempotent: EventBridge may deliver it twice, and the
        reconciler replays what never arrived). The final status is recorded first, from
        the run data alone; only then is the history read (slow on long executions) for
        the runs of native nodes, so a handler that times out there leaves the execution
        finished, not RUNNING. The ``executionFinished`` progress event comes last, once
        the native runs' events are written (a replay writes what a timeout left out).
        Events of Distributed Map child executions are ignored:
        their runs are recorded by the runner, and their parent's events carry the status.
        """
        if is_map_run_child(detail):
            return
        execution_id = detail["name"]
        status = detail["status"]
        envelope = subworkflows.envelope_of(detail)
        link = subworkflows.ParentLink.of(envelope)
        if link is not None:  # a sub-workflow: Step Functions started it, not ``start``
            child = subworkflows.child_execution(detail, envelope, link)
            if self.repository.create_execution_if_absent(child):
                execution_metrics.started(child.workflow_id)  # Step Functions started it
            run = subworkflows.parent_node_run(detail, envelope, link,
                                               _error_message(detail.get("cause")))
            if run is not None:
                self.repository.record_node_run(run)
        elif status == "RUNNING" or self.repository.get_execution(execution_id) is None:
            self._record_started_elsewhere(detail, envelope)
        redrives = int(detail.get("redriveCount") or 0)
        if redrives:  # RedriveExecution: the same execution runs again, from its failure
            self.repository.reopen_redriven(execution_id, redrives)
        if status == "RUNNING":
            return
        # the node runs, read once: the error names a failed one, the observers get them all
        runs = self.repository.node_runs(execution_id, stored_outputs=False)
        error = self._error(runs, detail) if status != "SUCCEEDED" else None
        output = detail.get("output")
        stopped_at = _iso(detail.get("stopDate")) or utc_now()
        self.repository.record_execution_status(
            execution_id,
            status,
            stopped_at=stopped_at,
            output=json.loads(output) if isinstance(output, str) else output,
            error=error,
            announce=False,  # last, below: after the native nodes' progress events
            redrive_count=redrives,
        )
        # its concurrency slot, if admission gave it one, goes to the next queued at once
        self.admission.on_finished(execution_id, self.repository.config.workflow_of(
            str(detail.get("stateMachineArn") or "")))
        skipped = envelope.get("skip") if isinstance(envelope, dict) else None
        arn = detail.get("executionArn")
        history = list(native_runs.history(self.sfn, arn)) if arn else []  # read once
        native = self._record_native_runs(execution_id, arn, history,
                                          set(skipped) if isinstance(skipped, list) else set())
        if error is not None and error["node"] is None:
            failed = [run for run in native if run.status == "error"]
            if failed:  # a native state failed: only the history names it
                self.repository.name_failed_node(execution_id, failed[-1].node)
        # The stream's last event: clients stop at it, so it follows every run's events.
        self.repository.announce_finished(execution_id, status, stopped_at)
        recorded = self.repository.get_execution(execution_id)
        finished.notify(self.observers, finished.Finished(
            execution_id, recorded.workflow_id if recorded is not None else None, status,
            detail, tuple(native), history, finished.all_runs(runs, native)))

    @staticmethod
    def _error(runs: list[NodeRun], detail: dict[str, Any]) -> dict[str, Any]:
        """The error of a failed execution, naming the node from its cause or the run data."""
        status = detail["status"]
        failed = [run for run in runs if run.status == "error"]
        failed.sort(key=lambda run: run.finished_at)
        node_error = failed[-1].error if failed else None
        return {
            "type": detail.get("error") or (node_error or {}).get("type") or status,
            "message": _error_message(detail.get("cause"))
            or (node_error or {}).get("message") or status.lower().replace("_", " "),
            "node": _error_node(detail.get("cause")) or (failed[-1].node if failed else None),
        }

    def _record_started_elsewhere(self, detail: dict[str, Any], envelope: Any) -> None:
        """Schedules, event rules and the console start executions without ``start``: the
        first status-change event records them."""
        machine = detail.get("stateMachineArn")
        workflow_id = self.repository.config.workflow_of(machine) if machine else None
        if workflow_id is None:
            return
        envelope = envelope if isinstance(envelope, dict) else {}
        created = self.repository.create_execution_if_absent(Execution(
            execution_id=detail["name"],
            workflow_id=workflow_id,
            status="RUNNING",
            started_at=_iso(detail.get("startDate")) or utc_now(),
            mode=str(envelope.get("mode") or "trigger"),
            execution_arn=detail.get("executionArn"),
            input=envelope,
        ))
        if created:  # a schedule, an event rule or the console started it: counted once
            execution_metrics.started(workflow_id)

    def _record_native_runs(self, execution_id: str, execution_arn: str | None,
                            history: list[dict[str, Any]],
                            skipped: set[str]) -> list[NodeRun]:
        """Record the runs of nodes lowered to native states (no Lambda), from the history;
        returns them. Outside a partial run (``skipped``) a pure native node may still
        compute — it is free and has no effects — but it is not part of the run, so it is
        not recorded."""
        if not execution_arn:
            return []

        def definition() -> dict[str, Any] | None:
            described = self.sfn.describe_state_machine_for_execution(executionArn=execution_arn)
            return json.loads(described["definition"])  # type: ignore[no-any-return]

        recorded = []
        for run in native_runs.native_node_runs(execution_id, history, definition):
            if run.node not in skipped:
                self.repository.record_node_run(run)
                recorded.append(run)
        return recorded
