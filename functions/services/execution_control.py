"""What the API does with executions: start (idempotently, optionally waiting), describe,
cancel, and retry from the failed node.

* **Idempotency**: an ``idempotencyKey`` names the execution (a hash of workflow and key),
  and ``ExecutionService.start`` records a name at most once with a conditional write, so
  a repeated request returns the first execution and starts nothing. Step Functions itself
  refuses a second execution of one name, so even a race between two requests is safe.
* **Admission**: every start passes the workflow's ``maxConcurrency`` and priority (the
  start's own ``priority`` first) to ``ExecutionService.start``
  (``functions.services.admission``); a start beyond the limit answers ``QUEUED``.
* **Cancel** stops the execution (StopExecution) and records it ABORTED with the error type
  ``Sfnflow.Cancelled``; the status-change event that follows still reaches the error
  router. A QUEUED execution is taken off its queue instead (nothing ran, nothing to stop);
  one admitted while being cancelled is recorded ABORTED first, and its admitter stops
  what it started. A second cancel is a conflict (409), as for any ended execution.
* **Retry** starts a new execution of the workflow with the failed one's input and
  ``reuse = {from, nodes}``: every node that ran on the node runner and succeeded replays
  its recorded output instead of running again (its side effects already happened), so
  work resumes at the node that failed. Nodes lowered to native states recompute their
  (pure) outputs from the replayed ones; executeWorkflow nodes run their child again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from compiler.errors import Problem, WorkflowInvalid
from functions.config import Config
from functions.nodes.triggers import ENVELOPE_KEYS
from functions.services.admission import policy_of
from functions.services.executions import ExecutionService, execution_arn_of
from functions.services.output_pages import node_runs_page, result_items
from functions.services.waiting import ExecutionWaiter, wait_seconds
from functions.store.repository import TERMINAL, Execution, NodeRun, RunRepository, utc_now
from functions.store.workflows import WorkflowRepository

CANCELLED = "Sfnflow.Cancelled"
REUSABLE = frozenset({"success", "reused", "pinned", "cached"})


class ExecutionNotFound(LookupError):
    pass


class ExecutionConflict(Exception):
    """The execution is not in a state that allows the request."""


def idempotent_name(workflow_id: str, key: str) -> str:
    return "k-" + hashlib.sha256(f"{workflow_id}\0{key}".encode()).hexdigest()[:48]


def run_summary(run: NodeRun, *, with_items: bool = False) -> dict[str, Any]:
    summary = asdict(run)
    summary.pop("execution_id")
    summary.pop("output_ref")
    output = summary.pop("output")
    if with_items:
        summary["output"] = output
    return {_camel(key): value for key, value in summary.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class ExecutionControl:
    def __init__(self, sfn: Any, runs: RunRepository, workflows: WorkflowRepository,
                 executions: ExecutionService, config: Config,
                 sleep: Any = time.sleep, clock: Any = time.monotonic,
                 poll_sfn: Any = None) -> None:
        self.sfn = sfn
        self.runs = runs
        self.workflows = workflows
        self.executions = executions
        self.config = config
        self.sleep = sleep
        self.clock = clock
        self.poll_sfn = poll_sfn or sfn  # waits poll with it (``waiting.poll_client``)

    # ------------------------------------------------------------------ start

    def start(self, workflow_id: str, user_input: Any, *, idempotency_key: str | None = None,
              mode: str = "api", envelope_extras: dict[str, Any] | None = None,
              priority: str | None = None) -> Execution:
        """``priority``: this start's own (high, normal, low), over the workflow's."""
        record = self.workflows.get(workflow_id)
        if record is None:
            raise ExecutionNotFound(f"workflow {workflow_id!r} does not exist")
        name = idempotent_name(workflow_id, idempotency_key) if idempotency_key else None
        return self.executions.start(
            workflow_id, record.state_machine_arn, user_input, mode=mode,
            version=str(record.version), name=name, envelope_extras=envelope_extras,
            admission=policy_of(record.document, priority))

    def start_partial(self, workflow_id: str, user_input: Any, *, start_nodes: list[str],
                      destination: str | None, from_execution: str | None,
                      idempotency_key: str | None = None,
                      priority: str | None = None) -> Execution:
        """Run part of the workflow (``compiler.partial``), replaying what it depends on
        from ``from_execution``; raises ``WorkflowInvalid`` naming every node whose needed
        output was never recorded."""
        record = self.workflows.get(workflow_id)
        if record is None:
            raise ExecutionNotFound(f"workflow {workflow_id!r} does not exist")
        # The compiler loads here, not at import: the node runner imports this module
        # (waits, rendezvous) and must not compile-in the compiler at every cold start.
        from compiler import compile_workflow
        from compiler.lowering import runs_on_runner
        from compiler.partial import partial_plan

        graph = compile_workflow(record.document).graph
        plan = partial_plan(graph, start_nodes, destination)
        needed = [name for name in plan.reuse if runs_on_runner(graph, graph.index[name])]
        source = self.get(from_execution) if from_execution else None
        recorded = {run.node for run in self.runs.node_runs(from_execution, with_output=False)
                    if run.status in REUSABLE} if from_execution else set()
        problems = [
            Problem(name, "fromExecution",
                    f"its output is needed and was never recorded in execution "
                    f"{from_execution!r}" if from_execution else
                    "its output is needed: pass fromExecution, an execution that ran it",
                    "not_recorded")
            for name in needed if name not in recorded
        ]
        if problems:
            raise WorkflowInvalid(problems)
        if user_input is None and source is not None and isinstance(source.input, dict):
            user_input = {k: v for k, v in source.input.items() if k not in ENVELOPE_KEYS}
        extras: dict[str, Any] = {"skip": plan.skip}
        if from_execution:
            extras["reuse"] = {"from": from_execution, "nodes": needed}
        return self.start(workflow_id, user_input, idempotency_key=idempotency_key,
                          mode="partial", envelope_extras=extras, priority=priority)

    def replay(self, execution_id: str, user_input: Any = None) -> Execution:
        """Run the workflow again with the execution's input (or a new one), linked to it."""
        original = self.get(execution_id)
        envelope = original.input if isinstance(original.input, dict) else {}
        if user_input is None:
            user_input = {k: v for k, v in envelope.items() if k not in ENVELOPE_KEYS}
        extras = {key: envelope[key] for key in ("triggeredBy", "triggerType") if key in envelope}
        extras["replayOf"] = execution_id
        return self.start(original.workflow_id, user_input, mode="replay",
                          envelope_extras=extras)

    def wait(self, execution: Execution, timeout_seconds: float | None = None, *,
             context: Any = None, request_epoch_ms: float | None = None) -> dict[str, Any]:
        """Wait for the execution to end within the request's budget
        (``functions.services.waiting``: the Lambda ``context``'s remaining time and API
        Gateway's 29 s, with backoff); the result, or ``RUNNING`` with a status URL."""
        arn = execution.execution_arn or self._arn(execution)
        seconds = wait_seconds(context, requested=timeout_seconds,
                               request_epoch_ms=request_epoch_ms)
        waited = ExecutionWaiter(self.poll_sfn, sleep=self.sleep, clock=self.clock).wait(
            arn, seconds)
        if not waited.ended or waited.described is None:
            return {"executionId": execution.execution_id, "status": "RUNNING",
                    "statusUrl": self.status_url(execution.execution_id)}
        return self._result(execution.execution_id, waited.described)

    def status_url(self, execution_id: str) -> str:
        """Where the caller follows an execution it stopped waiting for."""
        return f"{self.config.api_url}/executions/{execution_id}"

    def _result(self, execution_id: str, described: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"executionId": execution_id, "status": described["status"]}
        if described["status"] == "SUCCEEDED":
            output = json.loads(described.get("output") or "null")
            result |= result_items(self.runs, output, self.config.response_inline_limit)
        elif described["status"] in TERMINAL:
            result["error"] = {"type": described.get("error"),
                               "message": described.get("cause")}
        return result

    # ------------------------------------------------------------------ read

    def get(self, execution_id: str) -> Execution:
        execution = self.runs.get_execution(execution_id)
        if execution is None:
            raise ExecutionNotFound(f"execution {execution_id!r} does not exist")
        return execution

    def describe(self, execution_id: str) -> dict[str, Any]:
        execution = self.get(execution_id)
        runs = self.runs.node_runs(execution_id, with_output=False)
        runs.sort(key=lambda run: (run.started_at, run.node, run.run_index))
        return execution_view(execution) | self.queue_position(execution) | {
            "nodeRuns": [run_summary(run) for run in runs]}

    def queue_position(self, execution: Execution) -> dict[str, Any]:
        """``{"position": n}`` for a QUEUED execution (1: admitted next), else nothing."""
        if execution.status != "QUEUED":
            return {}
        return {"position": self.executions.admission.position(execution)}

    def node(self, execution_id: str, node: str, offset: int = 0,
             limit: int = 100) -> dict[str, Any]:
        """A page of the node's runs with their outputs, within the response's budget
        (``functions.services.output_pages``)."""
        self.get(execution_id)
        runs = [run for run in self.runs.node_runs(execution_id, stored_outputs=False)
                if run.node == node]
        if not runs:
            raise ExecutionNotFound(f"node {node!r} has no runs in execution {execution_id!r}")
        return node_runs_page(self.runs, runs, offset, limit,
                              self.config.response_inline_limit, run_summary)

    # ------------------------------------------------------------------ control

    def cancel(self, execution_id: str) -> Execution:
        execution = self.get(execution_id)
        if execution.status == "QUEUED" and self.executions.admission.cancel(execution):
            return self.get(execution_id)
        if execution.status in TERMINAL:
            raise ExecutionConflict(f"execution {execution_id!r} already ended: "
                                    f"{execution.status}")
        message = "cancelled through the API"
        if execution.status == "QUEUED":  # admitted just now: maybe not started yet
            self.runs.record_execution_status(
                execution_id, "ABORTED", stopped_at=utc_now(),
                error={"type": CANCELLED, "message": message, "node": None})
            execution = self.get(execution_id)
        try:
            self.sfn.stop_execution(executionArn=self._arn(execution), error=CANCELLED,
                                    cause=message)
        except ClientError as exc:  # not started yet: its admitter stops it (see above)
            if exc.response["Error"]["Code"] != "ExecutionDoesNotExist" or \
                    execution.status != "ABORTED":
                raise
        self.runs.record_execution_status(
            execution_id, "ABORTED", stopped_at=utc_now(),
            error={"type": CANCELLED, "message": message, "node": None})
        return self.get(execution_id)

    def retry(self, execution_id: str) -> Execution:
        failed = self.get(execution_id)
        if failed.status not in TERMINAL - {"SUCCEEDED"}:
            raise ExecutionConflict(f"execution {execution_id!r} is {failed.status}: only a "
                                    "failed, timed out or cancelled execution can be retried")
        reusable = sorted({run.node for run in self.runs.node_runs(execution_id,
                                                                    with_output=False)
                           if run.status in REUSABLE})
        envelope = failed.input if isinstance(failed.input, dict) else {}
        user_input = {key: value for key, value in envelope.items() if key not in ENVELOPE_KEYS}
        extras = {key: envelope[key] for key in ("triggeredBy", "triggerType") if key in envelope}
        extras["reuse"] = {"from": execution_id, "nodes": reusable}
        return self.start(failed.workflow_id, user_input, mode="retry", envelope_extras=extras)

    def _arn(self, execution: Execution) -> str:
        return execution.execution_arn or execution_arn_of(
            self.config.state_machine_arn(execution.workflow_id), execution.execution_id)


def execution_view(execution: Execution) -> dict[str, Any]:
    return {
        "id": execution.execution_id,
        "workflowId": execution.workflow_id,
        "workflowVersion": execution.workflow_version,
        "status": execution.status,
        "mode": execution.mode,
        "startedAt": execution.started_at,
        "stoppedAt": execution.stopped_at,
        "error": execution.error,
        "parentExecutionId": execution.parent_execution_id,
        "replayOf": execution.input.get("replayOf") if isinstance(execution.input, dict)
        else None,
        "retryOf": ((execution.input.get("reuse") or {}).get("from")
                    if isinstance(execution.input, dict) and execution.mode == "retry"
                    else None),
    }
