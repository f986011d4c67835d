"""The result of one execution as ``sfnflow run --json`` prints it, from the run data.

``{"executionId", "status", "error", "output", "nodes": {NAME: {"status", "runs", "items",
"durationMs", "attempts", "output"}}, "cost"}`` where ``items`` counts output items and ``output``
holds them per output port; ``logs`` (only when the node printed something) is the
console output of its runs, in run order. Nodes lowered to native states (no Lambda call: set, if,
wait...) have their runs recorded from the execution history when it ends
(``functions.services.native_runs``), so they read like any other run. An executeWorkflow
node's run is recorded from its child's events and adds ``childExecutionId``; without one
its status and duration come from the history here. ``cost`` is what the execution cost
as recorded when it ended (``functions.costs``: by component and node, sub-workflows
included in ``withChildren``, with suggestions), or None.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from compiler import CompiledWorkflow
from functions.store.repository import Execution, NodeRun

NOT_RUN = "not run"


def _native_runs(history: list[dict[str, Any]], names: set[str]) -> dict[str, dict[str, Any]]:
    entered: dict[str, datetime] = {}
    out: dict[str, dict[str, Any]] = {}
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if not details or details.get("name") not in names:
            continue
        name = details["name"]
        if "stateEnteredEventDetails" in event:
            entered[name] = event["timestamp"]
        elif name in entered:
            millis = (event["timestamp"] - entered[name]).total_seconds() * 1000
            out[name] = {"status": "success", "durationMs": int(millis)}
    return out


def _sink_output(compiled: CompiledWorkflow, output: Any,
                 recorded: dict[str, list[list[Any]] | None]) -> dict[str, Any]:
    """The sinks' items; outputs that travelled as S3 references come from the run data."""
    if not isinstance(output, dict):
        return {}
    result: dict[str, Any] = {}
    for name, value in output.items():
        ports = (value or {}).get("ports") or []
        names = compiled.manifest["nodes"].get(name, {}).get("outputs") or []
        items = [
            (recorded.get(name) or [[]] * len(ports))[i] if "ref" in port
            else port.get("items", [])
            for i, port in enumerate(ports)
        ]
        if len(ports) == 1:
            result[name] = items[0]
        else:
            result[name] = {
                (names[i] if i < len(names) else str(i)): port_items
                for i, port_items in enumerate(items)
            }
    return result


def build_report(
    compiled: CompiledWorkflow,
    execution: Execution,
    runs: list[NodeRun],
    history: list[dict[str, Any]],
    output: Any,
    cost: dict[str, Any] | None = None,
) -> dict[str, Any]:
    by_node: dict[str, list[NodeRun]] = defaultdict(list)
    for run in runs:
        by_node[run.node].append(run)
    native_names = {n for n, spec in compiled.manifest["nodes"].items()
                    if spec["type"] == "executeWorkflow"}
    native = _native_runs(history, native_names)
    nodes: dict[str, Any] = {}
    for name in compiled.manifest["nodes"]:
        node_runs = sorted(by_node.get(name, []), key=lambda r: r.run_index)
        if node_runs:
            last = node_runs[-1]
            nodes[name] = {
                "status": last.status,
                "runs": len(node_runs),
                "items": sum(last.output_counts),
                "durationMs": sum(run.duration_ms for run in node_runs),
                "attempts": last.attempts,
                "output": last.output,
                "error": last.error,
            }
            if last.child_execution_id is not None:
                nodes[name]["childExecutionId"] = last.child_execution_id
            logs = [line for run in node_runs for line in run.logs or []]
            if logs:
                nodes[name]["logs"] = logs
        elif name in native:
            nodes[name] = {"runs": 1, "items": None, "attempts": 1, "output": None,
                           "error": None, **native[name]}
        else:
            nodes[name] = {"status": NOT_RUN, "runs": 0, "items": 0, "durationMs": 0,
                           "attempts": 0, "output": None, "error": None}
    return {
        "executionId": execution.execution_id,
        "workflow": execution.workflow_id,
        "status": execution.status,
        "startedAt": execution.started_at,
        "stoppedAt": execution.stopped_at,
        "error": execution.error,
        "output": _sink_output(
            compiled, output,
            {name: node["output"] for name, node in nodes.items()},
        ),
        "nodes": nodes,
        "cost": cost,
    }


def recorded_cost(execution_id: str, graph: Any = None) -> dict[str, Any] | None:
    """The cost recorded when the execution ended (``functions.costs``), with its
    sub-workflows' total and suggestions; None if none was recorded."""
    from functions.costs.store import CostStore
    from functions.costs.view import CostNotRecorded, cost_view

    try:
        return cost_view(CostStore(), execution_id, graph)
    except CostNotRecorded:
        return None


def cost_line(cost: dict[str, Any]) -> str:
    """One line of the cost for people: total, components, suggestions."""
    parts = ", ".join(f"{name} ${value:.7f}" for name, value in cost["components"].items())
    line = (f"cost: ${cost['withChildren']['total']:.7f} ({parts}; "
            f"{cost['usage']['stateTransitions']} state transitions, "
            f"{cost['prices']['region']} prices of {cost['prices']['readOn']})")
    return "\n".join([line, *(f"  suggestion: {s['message']}" for s in cost["suggestions"])])
