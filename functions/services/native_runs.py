"""Node runs of natively lowered nodes, read back from the execution history.

A native node (``compiler.lowering.native``, and wait) makes no Lambda call, so the runner
records nothing for it. Its state assigns, besides its outputs, a run record
(``{"sfnflowRun": true, "node", "type", "variable", "inputs", "runIndex"[, "error"]}``), and
Step Functions lists the variables a state assigned in its exit event. So when the
execution ends, one pass over the history gives every native node run: outputs from the
node's variable, timing from the state's enter and exit events. A node that had no input
items did not run (as in the runner) and is not recorded. A native state whose JSONata
failed (``EvaluationFailed``) never exits; it is recorded as an error run, its node type
read from the state's ``Comment`` in the definition (``definition_of``, called only then).
Task states are recorded by the runner itself and are never touched here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from compiler.model import HELPER_PREFIX
from functions.store.repository import NodeRun

Event = dict[str, Any]
RECORD_MAX_CHARS = 4096  # a run record is small; larger variables are node outputs


def history(sfn: Any, execution_arn: str) -> Iterator[Event]:
    """Every event of the execution, oldest first, page by page."""
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        yield from page["events"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def _millis(start: Any, end: Any) -> int:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max(int((end - start).total_seconds() * 1000), 0)
    return 0


def _run_record(assigned: dict[str, str]) -> dict[str, Any] | None:
    # Imported here: compiler.lowering loads the compiler's lowerings, and the node runner,
    # which imports this module on the way to its services, must not at cold start.
    from compiler.lowering.native import RUN_MARKER

    for value in assigned.values():
        if len(value) <= RECORD_MAX_CHARS and f'"{RUN_MARKER}"' in value:
            record = json.loads(value)
            if isinstance(record, dict) and record.get(RUN_MARKER) is True:
                return record
    return None


def _ports(value: str | None) -> list[list[Any]] | None:
    try:
        ports = json.loads(value)["ports"] if value is not None else None
    except (ValueError, KeyError, TypeError):  # e.g. a truncated value
        return None
    return [port.get("items") or [] for port in ports] if isinstance(ports, list) else None


def native_node_runs(
    execution_id: str,
    events: Iterable[Event],
    definition_of: Callable[[], dict[str, Any] | None] = lambda: None,
) -> list[NodeRun]:
    """The node runs of every native node that ran, in the order they ended."""
    entered: dict[int, Event] = {}
    last_entered: dict[str, Event] = {}
    runs: list[NodeRun] = []
    failed: list[tuple[Event, Event]] = []  # (entered event, EvaluationFailed event)
    for event in events:
        if "stateEnteredEventDetails" in event:
            entered[event["id"]] = event
            last_entered[event["stateEnteredEventDetails"]["name"]] = event
        elif "stateExitedEventDetails" in event:
            details = event["stateExitedEventDetails"]
            start = entered.get(event.get("previousEventId", -1)) or \
                last_entered.get(details["name"])
            record = _run_record(details.get("assignedVariables") or {})
            if record is not None and sum(record.get("inputs") or []) > 0:
                runs.append(_node_run(execution_id, record, details, start, event))
        elif event.get("type") == "EvaluationFailed":
            start = entered.get(event.get("previousEventId", -1))
            if start is not None:
                failed.append((start, event))
    runs += _failed_runs(execution_id, failed, definition_of)
    return runs


def _node_run(execution_id: str, record: dict[str, Any], details: Event,
              start: Event | None, end: Event) -> NodeRun:
    began = start["timestamp"] if start is not None else end["timestamp"]
    error = record.get("error")
    outputs = None
    if error is None:
        assigned = details.get("assignedVariables") or {}
        outputs = _ports(assigned.get(record.get("variable", "")))
    return NodeRun(
        execution_id=execution_id,
        node=record["node"],
        node_type=record["type"],
        status="error" if error is not None else "success",
        started_at=_iso(began),
        finished_at=_iso(end["timestamp"]),
        duration_ms=_millis(began, end["timestamp"]),
        run_index=int(record.get("runIndex") or 0),
        input_counts=list(record.get("inputs") or []),
        output_counts=[len(port) for port in outputs or []],
        output=outputs,
        error=error,
    )


def _failed_runs(execution_id: str, failed: list[tuple[Event, Event]],
                 definition_of: Callable[[], dict[str, Any] | None]) -> list[NodeRun]:
    candidates = [
        (start, event) for start, event in failed
        if not start["stateEnteredEventDetails"]["name"].startswith(HELPER_PREFIX)
        and not start.get("type", "").startswith(("Task", "Parallel", "Map"))
    ]
    if not candidates:
        return []
    types = _native_types(definition_of())
    runs = []
    for start, event in candidates:
        name = start["stateEnteredEventDetails"]["name"]
        if name not in types:
            continue
        details = event.get("evaluationFailedEventDetails") or {}
        runs.append(NodeRun(
            execution_id=execution_id,
            node=name,
            node_type=types[name],
            status="error",
            started_at=_iso(start["timestamp"]),
            finished_at=_iso(event["timestamp"]),
            duration_ms=_millis(start["timestamp"], event["timestamp"]),
            error={"type": details.get("error") or "States.QueryEvaluationError",
                   "message": details.get("cause") or ""},
        ))
    return runs


def _native_types(definition: dict[str, Any] | None) -> dict[str, str]:
    """State name -> node type of every native state in a definition (branches included)."""
    from compiler.lowering.native import node_type_of

    types: dict[str, str] = {}
    pending = [definition] if definition else []
    while pending:
        scope = pending.pop()
        for name, state in (scope.get("States") or {}).items():
            node_type = node_type_of(state)
            if node_type is not None:
                types[name] = node_type
            pending.extend(state.get("Branches") or [])
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key])
    return types
