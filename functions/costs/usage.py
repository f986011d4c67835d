"""What one execution used, counted from its history and its run data (pure: no AWS calls).

- **State transitions**: Step Functions bills one per step executed, retries included. A
  step executed is a ``...StateEntered`` event (inline Map iterations and Parallel branches
  record theirs in the same history); a retry is a Task scheduled again within one entry
  (a second ``LambdaFunctionScheduled``/``TaskScheduled`` for the same entered state).
  The children of a Distributed Map run in executions of their own: the caller counts them
  (``MapRunUsage``) and passes them in.
- **Lambda**: one request per attempt of every run the node runner recorded, its duration
  times the runner's memory (``functions.costs.memory``); a ``code`` node also calls the
  code runner (billed at the same duration: an upper bound, the runner waits for it).
  Helper states that call the runner (``#``-prefixed: a Lambda task, direct or through
  ``lambda:invoke``) are one request each, timed from their history events. Nodes lowered
  to native states make no Lambda call.
- **DynamoDB writes** of the run data, as ``functions.store`` writes them: per node run its
  item (1 unit per KB, the inline output, error and logs counted) and a ``nodeFinished``
  progress event; per runner run also ``nodeStarted``. Per execution: the execution item
  (created, finished), its ``executionFinished`` event, and the cost record itself (a
  transaction: 2 units per item, as DynamoDB bills transactional writes).
- **S3**: an output stored in S3 (``output_ref``) is one PUT, and at least one GET (the
  next node reads it).
- **Model tokens**: what an agent node's model calls used, as the runner recorded them on
  its run (``NodeRun.model_usage``: per model, input and output tokens and calls).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.costs.memory import CODE_NODE_TYPES, CODE_RUNNER_MB, NODE_RUNNER_MB
from functions.store.repository import NodeRun

Event = Mapping[str, Any]
HELPER_PREFIX = "#"  # compiler.model.HELPER_PREFIX: helper states are no node's
ITEM_OVERHEAD_BYTES = 300  # keys, names, times and counts of a node-run item
WRITE_UNIT_BYTES = 1024
EXECUTION_WRITES = 3  # the execution item created and finished, its executionFinished event
COST_RECORD_WRITES = 2 * 2  # two items (the execution's cost, the day's total) in a transaction
_SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
_ENDED = ("LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
          "TaskSucceeded", "TaskFailed", "TaskTimedOut")


@dataclass
class NodeUsage:
    transitions: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    write_units: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    #: the agent's model calls: model -> inputTokens, outputTokens, totalTokens, modelCalls
    model_tokens: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_model_usage(self, usage: Mapping[str, Mapping[str, int]]) -> None:
        for model, counts in usage.items():
            entry = self.model_tokens.setdefault(model, {})
            for key, value in counts.items():
                entry[key] = entry.get(key, 0) + int(value)


@dataclass(frozen=True)
class MapRunUsage:
    """The children of one Distributed Map run: their state transitions (all children),
    and whether they were counted from their histories or estimated."""

    state: str
    transitions: int
    children: int
    estimated: bool


@dataclass
class Usage:
    nodes: dict[str, NodeUsage] = field(default_factory=dict)
    execution_write_units: int = EXECUTION_WRITES + COST_RECORD_WRITES
    seconds: float = 0.0  # the execution's duration
    has_waits: bool = False  # Wait states or task tokens: Express could not hold them
    estimated: list[str] = field(default_factory=list)  # what was estimated, and why

    def node(self, name: str) -> NodeUsage:
        return self.nodes.setdefault(name, NodeUsage())

    @property
    def transitions(self) -> int:
        return sum(n.transitions for n in self.nodes.values())

    @property
    def lambda_requests(self) -> int:
        return sum(n.lambda_requests for n in self.nodes.values())

    @property
    def lambda_gb_seconds(self) -> float:
        return sum(n.lambda_gb_seconds for n in self.nodes.values())

    @property
    def write_units(self) -> int:
        return self.execution_write_units + sum(n.write_units for n in self.nodes.values())

    @property
    def s3_puts(self) -> int:
        return sum(n.s3_puts for n in self.nodes.values())

    @property
    def s3_gets(self) -> int:
        return sum(n.s3_gets for n in self.nodes.values())

    @property
    def model_tokens(self) -> dict[str, dict[str, int]]:
        total = NodeUsage()
        for node in self.nodes.values():
            total.add_model_usage(node.model_tokens)
        return total.model_tokens


def _entries(events: Sequence[Event]) -> dict[int, tuple[int, str]]:
    """Event id -> (id of the entered event of its state, the state's name): an entered
    event starts an entry, every later event of that entry points back to it through
    ``previousEventId`` (branches interleave, so the order alone would mix them up)."""
    entry: dict[int, tuple[int, str]] = {}
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered is not None and str(event.get("type", "")).endswith("StateEntered"):
            entry[event["id"]] = (event["id"], entered["name"])
        elif event.get("previousEventId") in entry:
            entry[event["id"]] = entry[event["previousEventId"]]
    return entry


def _seconds(start: Any, end: Any) -> float:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max((end - start).total_seconds(), 0.0)
    return 0.0


def count_history(events: Sequence[Event], usage: Usage) -> list[tuple[str, str]]:
    """Add the history's transitions, retries and helper Lambda calls to ``usage``; returns
    the Distributed Map runs it started, as (state name, map run ARN)."""
    entry_of = _entries(events)
    scheduled: Counter[int] = Counter()  # Task schedulings per entry
    scheduled_at: dict[int, Any] = {}  # helper Lambda calls in flight, per entry
    map_runs: list[tuple[str, str]] = []
    for event in events:
        kind = str(event.get("type", ""))
        if event["id"] not in entry_of:
            continue
        entry, name = entry_of[event["id"]]
        if kind.endswith("StateEntered"):
            usage.node(name).transitions += 1
            if kind == "WaitStateEntered":
                usage.has_waits = True
        elif kind in _SCHEDULED:
            scheduled[entry] += 1
            details = (event.get("taskScheduledEventDetails")
                       or event.get("lambdaFunctionScheduledEventDetails") or {})
            if "waitForTaskToken" in str(details.get("resource", "")):
                usage.has_waits = True
            if scheduled[entry] > 1:  # scheduled again within one entry: a retry
                usage.node(name).transitions += 1
            calls_lambda = (kind == "LambdaFunctionScheduled"
                            or details.get("resourceType") == "lambda")
            if name.startswith(HELPER_PREFIX) and calls_lambda:
                usage.node(name).lambda_requests += 1
                scheduled_at[entry] = event.get("timestamp")
        elif kind in _ENDED and entry in scheduled_at:
            seconds = _seconds(scheduled_at.pop(entry), event.get("timestamp"))
            usage.node(name).lambda_gb_seconds += seconds * NODE_RUNNER_MB / 1024
        elif kind == "MapRunStarted":
            arn = (event.get("mapRunStartedEventDetails") or {}).get("mapRunArn")
            if arn:
                map_runs.append((name, arn))
    if events:
        usage.seconds = _seconds(events[0].get("timestamp"), events[-1].get("timestamp"))
    return map_runs


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str)) if value else 0


def count_runs(runs: Iterable[NodeRun], native: set[tuple[str, int]], usage: Usage) -> None:
    """Add the Lambda calls and run-data writes of the recorded node runs to ``usage``."""
    for run in runs:
        node = usage.node(run.node)
        if run.model_usage:  # the agent's tokens: counted also when it failed
            node.add_model_usage(run.model_usage)
        size = (ITEM_OVERHEAD_BYTES + _json_bytes(run.output) + _json_bytes(run.error)
                + _json_bytes(run.logs))
        node.write_units += math.ceil(size / WRITE_UNIT_BYTES) + 1  # the item, nodeFinished
        if run.output_ref:
            node.s3_puts += 1
            node.s3_gets += 1
        if (run.node, run.run_index) in native or run.child_execution_id is not None:
            continue  # a native state, or an executeWorkflow recorded from its child
        node.write_units += 1  # nodeStarted
        seconds = run.duration_ms / 1000
        node.lambda_requests += max(run.attempts, 1)
        node.lambda_gb_seconds += seconds * NODE_RUNNER_MB / 1024
        if run.node_type in CODE_NODE_TYPES:
            node.lambda_requests += max(run.attempts, 1)
            node.lambda_gb_seconds += seconds * CODE_RUNNER_MB / 1024


def measure(events: Sequence[Event], runs: Iterable[NodeRun],
            native: set[tuple[str, int]]) -> tuple[Usage, list[tuple[str, str]]]:
    """The usage of the history and the runs; the Distributed Map runs still to count."""
    usage = Usage()
    map_runs = count_history(events, usage)
    count_runs(runs, native, usage)
    return usage, map_runs
