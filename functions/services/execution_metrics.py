"""The execution-level metrics: an observer of ended executions
(``functions.services.finished``), the count of started ones, and the node-type metrics
of one run (the runner's runs and, through the observer, the native nodes').

An ended execution adds one to the counter of its status (``metrics.EXECUTION_ENDS``),
its start-to-stop time to ``ExecutionDuration``, and the runs of its native nodes
(recorded from the history, never by the runner) to the node-type metrics.

Status-change events may arrive twice. The final status is recorded once (a conditional
write), but ``Finished`` does not say which delivery recorded it, so this observer
remembers the executions it counted (the last ``REMEMBERED`` of them, per process): a
second delivery to the same warm Lambda or local process counts nothing. A duplicate
reaching another Lambda instance would count twice; an execution counts once per
delivery that recorded its status when ``Finished`` says so.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from functions import metrics
from functions.services.finished import Finished
from functions.store.repository import NodeRun

REMEMBERED = 10_000


def started(workflow_id: str | None) -> None:
    """One execution started (``ExecutionService.start``)."""
    metrics.record("ExecutionsStarted", workflow=workflow_id)


def _seconds(value: Any) -> float | None:
    """An EventBridge detail date (epoch milliseconds; an ISO string from a replay)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value / 1000
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def count_node_run(run: NodeRun) -> None:
    """The node-type metrics of one run, wherever it ran (runner or native state)."""
    metrics.record("NodeRuns", nodeType=run.node_type)
    metrics.record("NodeDuration", run.duration_ms / 1000, nodeType=run.node_type)
    if run.status == "error":
        metrics.record("NodeFailures", nodeType=run.node_type)
    if run.status == "cached":
        metrics.record("CacheHits", nodeType=run.node_type)
    if run.attempts > 1:
        metrics.record("Retries", nodeType=run.node_type)


class ExecutionMetrics:
    """The observer: ``ExecutionMetrics()(finished)``."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self.remembered = remembered
        self._counted: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def _first(self, execution_id: str) -> bool:
        with self._lock:
            if execution_id in self._counted:
                return False
            self._counted[execution_id] = None
            if len(self._counted) > self.remembered:
                self._counted.popitem(last=False)
            return True

    def __call__(self, finished: Finished) -> None:
        ended = metrics.EXECUTION_ENDS.get(finished.status)
        if ended is None or not self._first(finished.execution_id):
            return
        metrics.record(ended, workflow=finished.workflow_id)
        start = _seconds(finished.detail.get("startDate"))
        stop = _seconds(finished.detail.get("stopDate"))
        if start is not None and stop is not None and stop >= start:
            metrics.record("ExecutionDuration", stop - start, workflow=finished.workflow_id)
        for run in finished.native_runs:
            count_node_run(run)


_observer = ExecutionMetrics()


def observer() -> ExecutionMetrics:
    """The process's one observer (its memory of counted executions is shared)."""
    return _observer
