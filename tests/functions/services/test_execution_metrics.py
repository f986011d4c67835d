"""Execution-level metrics: the observer of ended executions and the started count."""

from __future__ import annotations

import pytest

from functions.services import execution_metrics
from functions.services.execution_metrics import ExecutionMetrics, count_node_run
from functions.services.finished import Finished
from functions.store.repository import NodeRun


def run(status: str = "success", *, attempts: int = 1, duration_ms: int = 40) -> NodeRun:
    return NodeRun("e1", "N", "set", status, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
                   duration_ms, attempts=attempts)


def test_an_ended_execution_counts_its_status_duration_and_native_runs(collected):
    ExecutionMetrics()(Finished("e1", "wf", "FAILED",
                                {"startDate": 1_000, "stopDate": 3_500},
                                (run("error"),)))
    assert collected.values == [
        ("ExecutionsFailed", 1.0, {"workflow": "wf"}),
        ("ExecutionDuration", 2.5, {"workflow": "wf"}),
        ("NodeRuns", 1.0, {"nodeType": "set"}),
        ("NodeDuration", 0.04, {"nodeType": "set"}),
        ("NodeFailures", 1.0, {"nodeType": "set"}),
    ]


@pytest.mark.parametrize(("status", "name"), [("SUCCEEDED", "ExecutionsSucceeded"),
                                              ("ABORTED", "ExecutionsAborted"),
                                              ("TIMED_OUT", "ExecutionsTimedOut")])
def test_each_end_status_has_its_counter(collected, status, name):
    ExecutionMetrics()(Finished("e1", "wf", status,
                                {"startDate": "2026-01-01T00:00:00Z",
                                 "stopDate": "2026-01-01T00:01:00.000Z"}))
    assert collected.values == [(name, 1.0, {"workflow": "wf"}),
                                ("ExecutionDuration", 60.0, {"workflow": "wf"})]


def test_a_second_delivery_counts_nothing(collected):
    observer = ExecutionMetrics(remembered=2)
    finished = Finished("e1", "wf", "SUCCEEDED", {})
    observer(finished)
    observer(finished)
    assert [name for name, _, _ in collected.values] == ["ExecutionsSucceeded"]
    observer(Finished("e2", "wf", "SUCCEEDED", {}))
    observer(Finished("e3", "wf", "SUCCEEDED", {}))
    observer(finished)  # forgotten past ``remembered``: counted again
    assert len(collected.values) == 4


def test_retries_and_cache_hits_are_counted_per_node_type(collected):
    count_node_run(run("cached"))
    count_node_run(run(attempts=3))
    names = [name for name, _, _ in collected.values]
    assert names.count("CacheHits") == 1 and names.count("Retries") == 1
    assert names.count("NodeRuns") == 2


def test_started_counts_per_workflow(collected):
    execution_metrics.started("wf")
    assert collected.values == [("ExecutionsStarted", 1.0, {"workflow": "wf"})]


def test_the_observer_is_listed_with_the_others():
    from functions.services.finished import observers

    assert execution_metrics.observer() in observers(repository=None)  # type: ignore[arg-type]


def test_an_execution_started_elsewhere_is_counted_once_from_its_events(collected, cloud):
    """Schedules, event rules and the console start executions without ``start``: the
    first status-change event that records one counts it; a repeated one does not."""
    from functions.services.executions import ExecutionService

    detail = {"name": "sched-1", "status": "RUNNING", "input": "{}", "startDate": 1_000,
              "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:wf",
              "executionArn": "arn:aws:states:us-east-1:123456789012:execution:wf:sched-1"}
    service = ExecutionService(cloud.sfn, cloud.repository)
    service.on_status_change(detail)
    service.on_status_change(detail)
    assert collected.values == [("ExecutionsStarted", 1.0, {"workflow": "wf"})]
