"""Counting an execution's usage from tiny histories and node runs (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.costs.memory import CODE_RUNNER_MB, NODE_RUNNER_MB
from functions.costs.usage import (
    COST_RECORD_WRITES,
    EXECUTION_WRITES,
    Usage,
    count_history,
    count_runs,
    measure,
)
from functions.store.repository import NodeRun

T0 = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


class History:
    """Events with ids, ``previousEventId`` chained as Step Functions does."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, after: int | None = None, seconds: float = 0.0,
            **details: Any) -> int:
        event_id = len(self.events) + 1
        previous = after if after is not None else event_id - 1
        self.events.append({"id": event_id, "previousEventId": previous, "type": kind,
                            "timestamp": T0 + timedelta(seconds=seconds), **details})
        return event_id

    def enter(self, kind: str, name: str, after: int | None = None,
              seconds: float = 0.0) -> int:
        return self.add(f"{kind}StateEntered", after, seconds,
                        stateEnteredEventDetails={"name": name})


def run(node: str, *, node_type: str = "set", ms: int = 1000, attempts: int = 1,
        run_index: int = 0, **extra: Any) -> NodeRun:
    return NodeRun(execution_id="e1", node=node, node_type=node_type, status="success",
                   started_at="t0", finished_at="t1", duration_ms=ms, attempts=attempts,
                   run_index=run_index, **extra)


def test_every_state_entered_is_one_transition_and_the_duration_spans_the_history() -> None:
    h = History()
    h.add("ExecutionStarted", after=0)
    h.enter("Pass", "A")
    h.add("PassStateExited")
    h.enter("Task", "B", seconds=1)
    h.add("LambdaFunctionScheduled")
    h.add("LambdaFunctionSucceeded")
    h.add("TaskStateExited")
    h.add("ExecutionSucceeded", seconds=2.5)
    usage = Usage()
    assert count_history(h.events, usage) == []
    assert {name: node.transitions for name, node in usage.nodes.items()} == {"A": 1, "B": 1}
    assert usage.seconds == 2.5 and not usage.has_waits


def test_a_retry_is_one_more_transition_of_its_state_only() -> None:
    """Step Functions bills each retry as a transition: a Task scheduled again within one
    entry. A second entry of the same state (a loop) is its own entry, not a retry."""
    h = History()
    h.add("ExecutionStarted", after=0)
    for _entry in range(2):
        h.enter("Task", "Fetch")
        h.add("LambdaFunctionScheduled")
        h.add("LambdaFunctionFailed")
        h.add("LambdaFunctionScheduled")  # the retry
        h.add("LambdaFunctionSucceeded")
        h.add("TaskStateExited")
    usage = Usage()
    count_history(h.events, usage)
    assert usage.nodes["Fetch"].transitions == 4  # two entries, each retried once


def test_interleaved_parallel_branches_are_told_apart_by_previous_event_id() -> None:
    h = History()
    h.add("ExecutionStarted", after=0)
    h.enter("Parallel", "Both")
    left = h.enter("Task", "Left")
    right = h.enter("Task", "Right", after=2)
    h.add("LambdaFunctionScheduled", after=left)
    h.add("LambdaFunctionScheduled", after=right)
    usage = Usage()
    count_history(h.events, usage)
    assert usage.nodes["Left"].transitions == 1 == usage.nodes["Right"].transitions


def test_waits_and_task_tokens_are_seen_and_map_runs_returned() -> None:
    h = History()
    h.add("ExecutionStarted", after=0)
    h.enter("Wait", "Pause")
    h.enter("Task", "Approve")
    h.add("TaskScheduled", taskScheduledEventDetails={
        "resource": "invoke.waitForTaskToken", "resourceType": "lambda"})
    h.enter("Map", "Each")
    h.add("MapRunStarted", mapRunStartedEventDetails={"mapRunArn": "arn:run"})
    usage = Usage()
    assert count_history(h.events, usage) == [("Each", "arn:run")]
    assert usage.has_waits


def test_helper_states_calling_the_runner_are_lambda_requests_timed_by_the_history() -> None:
    h = History()
    h.add("ExecutionStarted", after=0)
    h.enter("Task", "#signal A")
    h.add("LambdaFunctionScheduled", seconds=1)
    h.add("LambdaFunctionSucceeded", seconds=1.5)
    usage = Usage()
    count_history(h.events, usage)
    helper = usage.nodes["#signal A"]
    assert helper.lambda_requests == 1
    assert helper.lambda_gb_seconds == 0.5 * NODE_RUNNER_MB / 1024


def test_runner_runs_bill_lambda_native_runs_only_their_writes() -> None:
    usage = Usage()
    runs = [run("Fetch", node_type="httpRequest", ms=2000, attempts=2),
            run("Tag", ms=5), run("Score", node_type="code", ms=500)]
    count_runs(runs, native={("Tag", 0)}, usage=usage)
    fetch, tag, score = (usage.nodes[n] for n in ("Fetch", "Tag", "Score"))
    assert (fetch.lambda_requests, fetch.lambda_gb_seconds) == (2, 2.0 * NODE_RUNNER_MB / 1024)
    assert (tag.lambda_requests, tag.lambda_gb_seconds) == (0, 0.0)
    assert score.lambda_requests == 2  # the node runner, and the code runner it calls
    assert score.lambda_gb_seconds == 0.5 * (NODE_RUNNER_MB + CODE_RUNNER_MB) / 1024
    # a runner run: its item, nodeStarted, nodeFinished; a native run: no nodeStarted
    assert (fetch.write_units, tag.write_units) == (3, 2)


def test_large_items_take_a_write_unit_per_kilobyte_and_stored_outputs_go_to_s3() -> None:
    usage = Usage()
    big = run("Big", output=[[{"text": "x" * 3000}]])
    stored = run("Stored", output_ref="s3://bucket/key")
    count_runs([big, stored], native=set(), usage=usage)
    assert usage.nodes["Big"].write_units == 4 + 2  # 3.3 KB: 4 units; nodeStarted/Finished
    assert (usage.nodes["Stored"].s3_puts, usage.nodes["Stored"].s3_gets) == (1, 1)
    assert usage.write_units == EXECUTION_WRITES + COST_RECORD_WRITES + 6 + 3


def test_an_execute_workflow_run_bills_no_lambda_its_child_does() -> None:
    usage, _ = measure([], [run("Child", node_type="executeWorkflow",
                                child_execution_id="c1")], set())
    assert usage.nodes["Child"].lambda_requests == 0


def test_helpers_through_the_lambda_invoke_integration_are_requests_too() -> None:
    h = History()
    h.add("ExecutionStarted", after=0)
    h.enter("Task", "#await B")
    h.add("TaskScheduled", seconds=1, taskScheduledEventDetails={
        "resource": "invoke", "resourceType": "lambda"})
    h.add("TaskSucceeded", seconds=3)
    usage = Usage()
    count_history(h.events, usage)
    assert usage.nodes["#await B"].lambda_requests == 1
    assert usage.nodes["#await B"].lambda_gb_seconds == 2 * NODE_RUNNER_MB / 1024
