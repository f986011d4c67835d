"""What becomes of the executions a restarted ``sfnflow serve`` finds unfinished.

The run data survives a restart (``local.persistence``); moto's executions do not: they
are threads of the process that stopped. So at start, before anything runs, every
execution the run data still calls RUNNING or WAITING is an orphan, and:

* **Paused** (``WAITING``: a wait for approval, a resume URL or a webhook, a top-level
  execution) it is *resumed*: a new Step Functions execution of the same workflow version
  under the same name (so the same execution id and ARN), with the input the retry from
  failure uses (``ExecutionControl.retry``: ``reuse = {from, nodes}``, here ``from`` is the
  execution itself). Every node that finished replays its recorded output without running
  again; the paused wait node runs again and pauses again, which records a fresh task
  token on the same wait (``WaitRepository.save``), so the approve / reject / resume URLs a
  person holds keep working: a resume URL is signed with the token the wait first paused
  with, which the wait keeps (``functions.services.waits``). Until the wait has paused
  again (a moment after the start) it is held (``WaitRepository.hold``): a decision is
  refused with a 409 that says to try again, rather than sent to the dead token.
* **Running** (or a paused sub-workflow, whose parent's ``.sync`` task died with the old
  process) it is recorded **FAILED** with ``Sfnflow.LocalServerRestarted``. Resuming it
  would run the node that was in flight a second time, unasked, and its side effects
  (an HTTP call, an email) may have happened already; failing says so and leaves the
  decision to the user: ``POST /executions/{id}/retry`` continues from the failed node
  (the same reuse of finished nodes' outputs), as after any failure. A paused execution
  has no node in flight: the wait had returned before the restart, so resuming it repeats
  nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from functions.services.execution_control import REUSABLE
from functions.services.workflows import unqualified
from functions.store.repository import Execution, RunRepository, utc_now
from functions.store.waits import EXECUTION_WAITING, WAITING, WaitRepository
from functions.store.workflows import WorkflowRepository

RESTARTED = "Sfnflow.LocalServerRestarted"
_log = logging.getLogger("sfnflow.state")

__all__ = ["RESTARTED", "Recovered", "recover_executions"]


@dataclass
class Recovered:
    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def recover_executions(sfn: Any, runs: RunRepository, workflows: WorkflowRepository,
                       waits: WaitRepository) -> Recovered:
    """Resume the paused executions, fail the running ones (see the module's docstring)."""
    recovered = Recovered()
    for status in ("RUNNING", EXECUTION_WAITING):
        for execution in _executions(runs, status):
            waiting = [wait for wait in waits.waits_of(execution.execution_id)
                       if wait.status == WAITING] if status == EXECUTION_WAITING else []
            paused = bool(waiting) and execution.parent_execution_id is None
            if paused:  # held before the resume, so the new pause comes after the hold
                for wait in waiting:
                    waits.hold(wait)
            if paused and _resume(sfn, runs, workflows, execution):
                recovered.resumed.append(execution.execution_id)
            else:
                _fail(runs, execution)
                recovered.failed.append(execution.execution_id)
    return recovered


def _executions(runs: RunRepository, status: str) -> list[Execution]:
    found: list[Execution] = []
    cursor: str | None = None
    while True:
        page = runs.query_executions(status=status, limit=100, cursor=cursor)
        found.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            return found


def _resume(sfn: Any, runs: RunRepository, workflows: WorkflowRepository,
            execution: Execution) -> bool:
    record = workflows.get(execution.workflow_id)
    if record is None or not isinstance(execution.input, dict):
        return False
    machine = unqualified(record.state_machine_arn)
    if execution.workflow_version:  # the version it ran, as published (one per version)
        machine = f"{machine}:{execution.workflow_version}"
    finished = sorted({run.node for run in runs.node_runs(execution.execution_id,
                                                          with_output=False)
                       if run.status in REUSABLE})
    envelope = execution.input | {"reuse": {"from": execution.execution_id,
                                            "nodes": finished}}
    try:
        sfn.start_execution(stateMachineArn=machine, name=execution.execution_id,
                            input=json.dumps(envelope))
    except Exception as exc:  # e.g. its version was deleted since: fail it, retryable
        _log.warning("could not resume execution %s: %s", execution.execution_id, exc)
        return False
    return True


def _fail(runs: RunRepository, execution: Execution) -> None:
    runs.record_execution_status(
        execution.execution_id, "FAILED", stopped_at=utc_now(),
        error={"type": RESTARTED, "node": None,
               "message": f"the local server restarted while the execution was "
                          f"{execution.status}; retry it from the failed node "
                          "(POST /executions/{id}/retry)"})
