"""What happens once an execution has ended: the observers of its final status.

``ExecutionService.on_status_change`` records the final status and the native nodes' runs,
then tells every observer here, in order, about the ended execution (``Finished``). Metrics,
the execution's cost and the per-workflow statistics are such observers: each is one
function with one reason to change, and this module is the one place that lists them.

Status-change events may arrive twice (EventBridge delivers at least once, the reconciler
replays what never arrived), so an observer must be idempotent for one execution. An
observer that fails is logged and does not stop the others: the final status is already
recorded, and what an observer keeps is derived from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.store.repository import NodeRun, RunRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finished:
    """One ended execution, as the status-change event and the run data describe it."""

    execution_id: str
    workflow_id: str | None
    status: str  # SUCCEEDED, FAILED, TIMED_OUT or ABORTED
    detail: Mapping[str, Any]  # the event's detail: executionArn, startDate, stopDate, ...
    native_runs: Sequence[NodeRun] = ()
    #: the execution's history events, read once by the status-change handler (the native
    #: runs come from it); observers read it here rather than page through it again
    history: Sequence[Mapping[str, Any]] = ()
    #: every node run of the execution (the runner's and the native ones), read once by the
    #: status-change handler, outputs kept in S3 not loaded: observers read them here
    #: instead of querying the node-runs table again (one query per ended execution)
    runs: Sequence[NodeRun] = ()


def all_runs(recorded: Sequence[NodeRun], native: Sequence[NodeRun]) -> tuple[NodeRun, ...]:
    """The runs read from the table, with the native runs just recorded from the history
    in place of what an earlier delivery of the same event recorded for them (one run per
    node and run index, as the table keeps them)."""
    merged = {(run.node, run.run_index): run for run in recorded}
    merged.update({(run.node, run.run_index): run for run in native})
    return tuple(merged.values())


Observer = Callable[[Finished], None]


def observers(repository: RunRepository) -> list[Observer]:
    """Every observer of ended executions, in the order they run."""
    from functions.costs.observer import cost_observer
    from functions.services import execution_metrics, stats  # imports the store: lazily

    return [
        cost_observer(repository),  # the execution's cost, and its workflow's day (GET /costs)
        stats.count_finished(repository),  # per-workflow statistics (GET /stats)
        execution_metrics.observer(),  # Executions<Status>, ExecutionDuration (functions.metrics)
    ]


def notify(listeners: Sequence[Observer], finished: Finished) -> None:
    for observer in listeners:
        try:
            observer(finished)
        except Exception:  # noqa: BLE001 - one observer must not silence the others
            logger.exception("observer %s of ended executions failed on %s",
                             getattr(observer, "__qualname__", observer),
                             finished.execution_id)
