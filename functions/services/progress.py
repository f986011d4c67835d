"""Live progress of an execution: its progress events with percent complete and an ETA.

Events are written where the work happens: the node runner appends ``nodeStarted`` when a
node starts, every recorded node run appends ``nodeFinished`` (runner nodes as they end,
native ones when the execution ends), and the final status appends ``executionFinished``.
Percent complete = distinct nodes finished / nodes in the workflow (100 when the execution
finishes: branches not taken never run). The ETA is the mean duration of the workflow's
last successful executions minus the time elapsed (None without history).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from functions.store.repository import Execution, RunRepository, utc_now
from functions.store.workflows import WorkflowRepository

HISTORY = 20  # past executions the ETA averages over
MAX_EVENTS = 20_000  # percent complete is counted over at most this many events


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


class ProgressService:
    def __init__(self, runs: RunRepository, workflows: WorkflowRepository) -> None:
        self.runs = runs
        self.workflows = workflows

    def events(self, execution_id: str, after: str | None = None,
               limit: int = 100) -> dict[str, Any]:
        execution = self._execution(execution_id)
        page: list[dict[str, Any]] = []
        for event in self._with_percent(execution):
            if (after is None or event["seq"] > after) and len(page) < limit:
                page.append(event)
        return {"items": page, "cursor": page[-1]["seq"] if page else after,
                "status": execution.status, "etaSeconds": self._eta_of(execution)}

    def live(self, execution_id: str, seqs: Collection[str]) -> list[dict[str, Any]]:
        """Events ``seqs`` as a live stream sends them (SSE locally, the WebSocket API in
        AWS): each as ``events`` pages it, plus the execution's ``etaSeconds``. Read
        consistently: the caller has just learnt that they were written."""
        execution = self._execution(execution_id)
        wanted = set(seqs)
        found = [event for event in self._with_percent(execution, consistent=True)
                 if event["seq"] in wanted]
        eta = self._eta_of(execution) if found else None
        return [{**event, "etaSeconds": eta} for event in found]

    def _execution(self, execution_id: str) -> Execution:
        execution = self.runs.get_execution(execution_id)
        if execution is None:
            raise LookupError(f"execution {execution_id!r} does not exist")
        return execution

    def _with_percent(self, execution: Execution,
                      consistent: bool = False) -> Iterator[dict[str, Any]]:
        """Every event of the execution, oldest first, with the percent complete it marks."""
        record = self.workflows.get(execution.workflow_id)
        total = len(record.manifest.get("nodes") or {}) if record else 0
        finished: set[str] = set()
        for event in self.runs.progress_events(execution.execution_id, limit=MAX_EVENTS,
                                               consistent=consistent):
            if event["type"] == "nodeFinished":
                finished.add(event["node"])
            done = event["type"] == "executionFinished"
            event["percent"] = 100.0 if done else (
                round(100.0 * min(len(finished), total) / total, 1) if total else None)
            yield event

    def _eta_of(self, execution: Execution) -> float | None:
        return None if execution.stopped_at else self._eta(execution.workflow_id,
                                                           execution.started_at)

    def _eta(self, workflow_id: str, started_at: str) -> float | None:
        past = self.runs.query_executions(workflow_id=workflow_id, status="SUCCEEDED",
                                          limit=HISTORY).items
        durations = [_seconds(e.started_at, e.stopped_at) for e in past if e.stopped_at]
        if not durations:
            return None
        return round(max(0.0, sum(durations) / len(durations)
                         - _seconds(started_at, utc_now())), 3)
