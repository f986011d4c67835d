"""Error workflows: when an execution fails, times out or is aborted, start the workflow
its state machine names in the ``sfnflow:errorWorkflow`` tag, with one item describing the
failure (n8n's Error Trigger item plus the context the run data holds)::

    {"execution": {"id", "url", "error": {"message", "type", "node"}, "lastNodeExecuted",
                   "mode", "startedAt", "stoppedAt", "input", "partialResults"},
     "workflow": {"id", "name"}}

- **Order**: it first records the status change itself (``ExecutionService.
  on_status_change`` is idempotent), because EventBridge does not order the deliveries to
  the run-data handler and to this one; the item is then built from final run data.
- **Exactly once**: the error execution's name is derived from the failed execution's id,
  and ``ExecutionService.start`` with a name starts nothing when the name is taken — a
  second delivery of the same event is a no-op.
- **No loops**: an execution started by the router runs in mode ``"error"`` and is never
  routed again, so an error workflow never triggers itself, whether it fails or is a
  workflow handling its own failures (``errorTrigger``, tagged with its own name).
- **Distributed Map children** are not routed: their Map fails their parent, which is.
- **Sub-workflows** a parent waits for are not routed: the parent receives the error and
  either handles it (``onError``) or fails, and then its own error workflow runs.
- **Bounds**: ``input`` and ``partialResults`` each carry at most ``PAYLOAD_LIMIT`` bytes of
  JSON (Step Functions caps an execution's input at 256 KiB). ``partialResults`` maps each
  node that succeeded to its latest run's outputs (items per port), in the order the nodes
  ran; a node whose outputs do not fit — or that were stored in S3 — appears as
  ``{"truncated": true, "items": <count>}``, and an input that does not fit as
  ``{"truncated": true, "bytes": <size>}``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.config import Config
from functions.services import subworkflows
from functions.services.admission import Policy, policy_of
from functions.services.executions import ExecutionService, is_map_run_child
from functions.store.repository import Execution, NodeRun, RunRepository
from functions.store.workflows import WorkflowRepository

ERROR_WORKFLOW_TAG = "sfnflow:errorWorkflow"  # compiler.triggers.ERROR_WORKFLOW_TAG
ROUTED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
ERROR_MODE = "error"
PAYLOAD_LIMIT = 32_768
_SUCCEEDED_RUNS = frozenset({"success", "reused", "pinned", "cached"})

__all__ = ["ERROR_WORKFLOW_TAG", "PAYLOAD_LIMIT", "ErrorRouter", "error_execution_name"]


def error_execution_name(failed_execution_id: str) -> str:
    """The error execution's name: readable, unique per failed execution, ≤ 80 chars."""
    digest = hashlib.sha256(failed_execution_id.encode()).hexdigest()[:16]
    return f"{failed_execution_id[:50]}-error-{digest}"


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def _bounded_input(value: Any) -> Any:
    size = _size(value)
    return value if size <= PAYLOAD_LIMIT else {"truncated": True, "bytes": size}


def partial_results(runs: list[NodeRun]) -> dict[str, Any]:
    """Each succeeded node's latest outputs, within ``PAYLOAD_LIMIT`` bytes in all."""
    latest: dict[str, NodeRun] = {}
    for run in sorted(runs, key=lambda r: (r.finished_at, r.run_index)):
        if run.status in _SUCCEEDED_RUNS:
            latest[run.node] = run
    results: dict[str, Any] = {}
    budget = PAYLOAD_LIMIT
    for node, run in latest.items():
        output = run.output
        size = _size(output) + _size(node) + 1
        if output is None or size > budget:
            results[node] = {"truncated": True, "items": sum(run.output_counts)}
            budget -= _size(results[node]) + _size(node) + 1
        else:
            results[node] = output
            budget -= size
    return results


class ErrorRouter:
    def __init__(self, sfn: Any, executions: ExecutionService, repository: RunRepository,
                 config: Config, workflows: WorkflowRepository | None = None) -> None:
        self.sfn = sfn
        self.executions = executions
        self.repository = repository
        self.config = config
        self.workflows = workflows or WorkflowRepository()

    def on_status_change(self, detail: dict[str, Any]) -> Execution | None:
        """Route one status-change event; returns the error execution (new or the one a
        previous delivery started), or None when there is nothing to route."""
        if detail.get("status") not in ROUTED_STATUSES or is_map_run_child(detail):
            return None  # a Distributed Map child's failure reaches its parent
        self.executions.on_status_change(detail)
        failed = self.repository.get_execution(detail["name"])
        envelope = subworkflows.envelope_of(detail)
        if failed is None or failed.mode == ERROR_MODE or (
                isinstance(envelope, dict) and envelope.get("mode") == ERROR_MODE):
            return None
        link = subworkflows.ParentLink.of(envelope)
        if link is not None and link.wait:
            return None
        target = self._error_workflow(detail["stateMachineArn"])
        if target is None:
            return None
        return self.executions.start(
            target,
            self.config.state_machine_arn(target),
            [self.error_item(failed)],
            mode=ERROR_MODE,
            name=error_execution_name(failed.execution_id),
            envelope_extras={"triggerType": "errorTrigger"},
            # the error workflow's own maxConcurrency and priority (a burst of failures
            # queues its error executions like any other start)
            admission=self._policy(target),
        )

    def _policy(self, workflow_id: str) -> Policy:
        """A workflow deployed without the registry (the stack's, locally) has no record:
        no limit of its own (the stage's still applies)."""
        record = self.workflows.get(workflow_id)
        return policy_of(record.document if record is not None else None)

    def _error_workflow(self, state_machine_arn: str) -> str | None:
        response = self.sfn.list_tags_for_resource(resourceArn=state_machine_arn)
        for tag in response.get("tags", []):
            if tag.get("key") == ERROR_WORKFLOW_TAG and tag.get("value"):
                return str(tag["value"])
        return None

    def error_item(self, failed: Execution) -> dict[str, Any]:
        runs = self.repository.node_runs(failed.execution_id)
        ran = sorted(runs, key=lambda run: (run.finished_at, run.started_at))
        error = failed.error or {}
        url = f"{self.config.api_url}/executions/{failed.execution_id}"
        return {
            "execution": {
                "id": failed.execution_id,
                "url": url,
                "error": {"message": error.get("message"), "type": error.get("type"),
                          "node": error.get("node")},
                "lastNodeExecuted": ran[-1].node if ran else None,
                "mode": failed.mode,
                "startedAt": failed.started_at,
                "stoppedAt": failed.stopped_at,
                "input": _bounded_input(failed.input),
                "partialResults": partial_results(runs),
            },
            "workflow": {"id": failed.workflow_id, "name": failed.workflow_id},
        }
