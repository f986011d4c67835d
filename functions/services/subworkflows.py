"""The run data of sub-workflows, from the child execution's status-change events.

The parent's ``executeWorkflow`` node is a native Step Functions task: no node runner is
involved, so its node run is recorded from the child's side. The child's input carries
``parent`` (``compiler.lowering.subworkflow``): which execution, node, attempt and loop
iteration started it. A child's event therefore records (1) the child execution, linked to
its parent, and (2) the parent node's run, carrying the child's execution id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.store.repository import Execution, NodeRun, utc_now

Item = dict[str, Any]
NODE_TYPE = "executeWorkflow"
SUBWORKFLOW_FAILED = "Sfnflow.SubworkflowFailed"


@dataclass(frozen=True)
class ParentLink:
    execution_id: str
    workflow: str
    node: str
    depth: int = 1
    attempt: int = 1
    run_index: int = 0
    wait: bool = True

    @classmethod
    def of(cls, envelope: Any) -> ParentLink | None:
        parent = envelope.get("parent") if isinstance(envelope, dict) else None
        if not isinstance(parent, dict) or not isinstance(parent.get("executionId"), str) \
                or not isinstance(parent.get("node"), str):
            return None
        return cls(
            execution_id=parent["executionId"],
            workflow=str(parent.get("workflow") or ""),
            node=parent["node"],
            depth=_int(parent.get("depth"), 1),
            attempt=_int(parent.get("attempt"), 1),
            run_index=_int(parent.get("runIndex"), 0),
            wait=parent.get("waitForCompletion") is not False,
        )


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def envelope_of(detail: dict[str, Any]) -> Any:
    raw = detail.get("input")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None


def child_output_items(output: Any) -> list[Item]:
    """The child's output items: every item on every port of every sink, in sink order —
    what the parent's state assigns from ``$states.result.Output.*.ports.items``."""
    if not isinstance(output, dict):
        return []
    return [
        item
        for sink in output.values() if isinstance(sink, dict)
        for port in sink.get("ports") or [] if isinstance(port, dict)
        for item in port.get("items") or []
    ]


def _iso(millis: Any) -> str | None:
    if not isinstance(millis, int | float):
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def child_execution(detail: dict[str, Any], envelope: dict[str, Any],
                    link: ParentLink) -> Execution:
    """The child's execution record (as ``ExecutionService.start`` records a root)."""
    workflow = envelope.get("workflow")
    if not isinstance(workflow, str):
        workflow = str(detail.get("stateMachineArn", "")).rsplit(":", 1)[-1]
    return Execution(
        execution_id=detail["name"],
        workflow_id=workflow,
        status="RUNNING",
        started_at=_iso(detail.get("startDate")) or utc_now(),
        mode=str(envelope.get("mode") or "subworkflow"),
        execution_arn=detail.get("executionArn"),
        input=envelope,
        parent_execution_id=link.execution_id,
        parent_node=link.node,
    )


def failure_message(workflow: str, detail: dict[str, Any], message: str | None) -> str:
    """Same text as the parent's ``#failed`` state and error item (compiler.lowering)."""
    parts = [f"{workflow} execution {detail['name']} {str(detail['status']).lower()}",
             detail.get("error"), message]
    return ": ".join(part for part in parts if part)


def parent_node_run(detail: dict[str, Any], envelope: dict[str, Any], link: ParentLink,
                    child_message: str | None) -> NodeRun | None:
    """The parent node's run, or None while a waited-for child is still running."""
    status = detail["status"]
    if link.wait and status == "RUNNING":
        return None
    items = envelope.get("items") if isinstance(envelope.get("items"), list) else []
    started = detail.get("startDate")
    stopped = detail.get("stopDate") if link.wait else started
    run = NodeRun(
        execution_id=link.execution_id,
        node=link.node,
        node_type=NODE_TYPE,
        status="success",
        started_at=_iso(started) or utc_now(),
        finished_at=_iso(stopped) or utc_now(),
        duration_ms=int(stopped - started) if isinstance(started, int | float) and
        isinstance(stopped, int | float) else 0,
        attempts=link.attempt,
        run_index=link.run_index,
        input_counts=[len(items)],
        child_execution_id=detail["name"],
    )
    if not link.wait:
        run.output, run.output_counts = [items], [len(items)]
        return run
    if status == "SUCCEEDED":
        output = detail.get("output")
        outputs = child_output_items(json.loads(output) if isinstance(output, str) else output)
        run.output, run.output_counts = [outputs], [len(outputs)]
        return run
    workflow = str(envelope.get("workflow") or "")
    run.status = "error"
    run.error = {"type": SUBWORKFLOW_FAILED,
                 "message": failure_message(workflow, detail, child_message)}
    return run
