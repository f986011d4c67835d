"""Native node runs from an execution history (functions/services/native_runs.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.services.native_runs import native_node_runs

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def entered(event_id: int, name: str, kind: str = "Pass") -> dict[str, Any]:
    return {"id": event_id, "previousEventId": event_id - 1, "type": f"{kind}StateEntered",
            "timestamp": T0 + timedelta(milliseconds=event_id),
            "stateEnteredEventDetails": {"name": name}}


def exited(event_id: int, name: str, assigned: dict[str, Any], kind: str = "Pass",
           ) -> dict[str, Any]:
    return {"id": event_id, "previousEventId": event_id - 1, "type": f"{kind}StateExited",
            "timestamp": T0 + timedelta(milliseconds=event_id * 10),
            "stateExitedEventDetails": {
                "name": name,
                "assignedVariables": {k: json.dumps(v) for k, v in assigned.items()}}}


def record(node: str, inputs: list[int], **extra: Any) -> dict[str, Any]:
    return {"sfnflowRun": True, "node": node, "type": "set", "variable": node,
            "inputs": inputs, "runIndex": 0, **extra}


PORTS = {"ports": [{"count": 1, "items": [{"a": 1}]}]}


def test_a_run_per_native_state_with_items_and_none_for_tasks_or_empty_inputs() -> None:
    events = [
        entered(1, "Start", "Task"), exited(2, "Start", {"Start": PORTS}, "Task"),
        entered(3, "A"), exited(4, "A", {"A": PORTS, "A_run": record("A", [1])}),
        entered(5, "B"), exited(6, "B", {"B": {"ports": [{"count": 0, "items": []}]},
                                          "B_run": record("B", [0])}),
    ]
    (run,) = native_node_runs("e1", events)
    assert (run.node, run.status, run.input_counts, run.output_counts, run.output) == (
        "A", "success", [1], [1], [[{"a": 1}]])
    assert run.started_at == "2026-01-01T00:00:00.003Z" and run.duration_ms == 37


def test_a_stop_and_error_record_is_an_error_run() -> None:
    error = {"type": "Ops.Halt", "message": "no"}
    events = [entered(1, "#stop? S", "Choice"),
              exited(2, "#stop? S", {"S_run": record("S", [2], error=error)}, "Choice")]
    (run,) = native_node_runs("e1", events)
    assert (run.node, run.status, run.error, run.output) == ("S", "error", error, None)


def test_a_failed_evaluation_reads_the_node_type_from_the_definition() -> None:
    definition = {"States": {"#parallel 1": {"Type": "Parallel", "Branches": [
        {"States": {"N": {"Type": "Pass", "Comment": "sfnflow native node: filter"}}}]}}}
    failure = {"id": 2, "previousEventId": 1, "type": "EvaluationFailed",
               "timestamp": T0 + timedelta(milliseconds=5),
               "evaluationFailedEventDetails": {"error": "States.QueryEvaluationError",
                                                "cause": "bad"}}
    (run,) = native_node_runs("e1", [entered(1, "N"), failure], lambda: definition)
    assert (run.node, run.node_type, run.status) == ("N", "filter", "error")
    assert run.error == {"type": "States.QueryEvaluationError", "message": "bad"}


def test_a_truncated_output_keeps_the_run_without_items() -> None:
    event = exited(2, "A", {"A_run": record("A", [3])})
    event["stateExitedEventDetails"]["assignedVariables"]["A"] = '{"ports": [{"cou'
    (run,) = native_node_runs("e1", [entered(1, "A"), event])
    assert run.output is None and run.output_counts == [] and run.input_counts == [3]
