"""The JSON frame one node run hands to JavaScript (``__sfnflow.setFrame``).

Why a preloaded frame, not lazy callbacks: the binding refuses calls into Python while a time
limit is set, and the Code node must run under one. So Python sends, once per node run, the
input items and every node the code or expressions reference — found by a scan for
``$('Name')``, ``$node["Name"]``, ``$node.Name`` and ``$items("Name")``; a reference by a computed
name makes it send every node. The same scan finds time-zone names ("Europe/Berlin") whose
offset tables (zones.py) travel with the workflow's own zone. Paired items are resolved here
(paired_items.py) for every input item and sent as positions, so ``$('X').item`` is a lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from functions.js import zones
from functions.js.paired_items import (
    PairedItemError,
    check_connected,
    output_towards,
    resolve_connected,
)
from functions.js.run_data import NodeRunData

_LITERAL = r"""\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$\\]*)`)\s*"""
_BY_NAME = re.compile(r"(?:\$|\$items|\$node)\s*(?:\(|\[)" + _LITERAL + r"[)\],]")
_BY_DOT = re.compile(r"\$node\s*\.\s*([A-Za-z_$][\w$]*)")
_DYNAMIC = re.compile(r"(?:\$|\$items)\s*\(\s*[^\s\"'`)]|\$node\s*\[\s*[^\s\"'`]")


def referenced_nodes(sources: Iterable[str], data: NodeRunData) -> set[str]:
    """Names of the nodes that ``sources`` (expressions or code) may read."""
    names: set[str] = set()
    for source in sources:
        if _DYNAMIC.search(source):
            return set(data.nodes) | set(data.run_data)
        for match in _BY_NAME.finditer(source):
            raw = next(group for group in match.groups() if group is not None)
            names.add(json.loads(f'"{raw}"') if "\\" in raw else raw)
        names.update(_BY_DOT.findall(source))
    return names


def _as_input(item: Any, index: int, input_index: int) -> dict[str, Any]:
    """An input item as n8n hands it to a node: lineage renumbered to its own position."""
    paired = {"item": index, "input": input_index} if input_index else {"item": index}
    return {**item, "pairedItem": paired}


def _node_entry(data: NodeRunData, name: str) -> dict[str, Any] | None:
    info = data.nodes.get(name)
    runs = data.run_data.get(name)
    if info is None and runs is None:
        return None
    paired: list[Any] = []
    if runs:
        try:
            check_connected(data, name)
        except PairedItemError as exc:
            paired = [{"error": str(exc)}] * len(data.input_items)
        else:
            for index in range(len(data.input_items)):
                try:
                    paired.append(list(resolve_connected(data, name, index)))
                except PairedItemError as exc:
                    paired.append({"error": str(exc)})
    return {
        "executed": runs is not None,
        "runs": [[list(port) for port in task.outputs] for task in runs or ()],
        "runIndex": len(runs) - 1 if runs else -1,
        "defaultOutput": output_towards(data.connections, name, data.node)
        if data.connections
        else 0,
        "parameters": dict(info.parameters) if info else {},
        "context": dict(info.context) if info else {},
        "paired": paired,
    }


def build(data: NodeRunData, sources: Iterable[str], parameters: Any = None) -> str:
    """The frame as JSON, carrying only the nodes and time zones ``sources`` reference."""
    sources = list(sources)
    nodes: dict[str, Any] = {}
    for name in referenced_nodes(sources, data):
        entry = _node_entry(data, name)
        if entry is not None:
            nodes[name] = entry
    previous = data.sources[0] if data.sources else None
    execution = dict(data.execution)
    frame = {
        "node": data.node,
        "runIndex": data.run_index,
        "inputItems": [
            _as_input(item, index, data.input_index) for index, item in enumerate(data.input_items)
        ],
        "prevNode": None
        if previous is None
        else {
            "name": previous.previous_node,
            "outputIndex": previous.previous_node_output,
            "runIndex": previous.previous_node_run,
        },
        "workflow": {
            "id": data.workflow.get("id"),
            "name": data.workflow.get("name"),
            "active": bool(data.workflow.get("active", False)),
        },
        "execution": {
            "id": execution.get("id"),
            # n8n shows "test" for editor (manual) runs and "production" for everything else
            "mode": "test" if execution.get("mode") in ("manual", "test") else "production",
            "resumeUrl": execution.get("resumeUrl"),
            "resumeFormUrl": execution.get("resumeFormUrl"),
            "customData": {},
        },
        "mode": execution.get("mode", "integrated"),
        "vars": dict(data.variables),
        "parameters": parameters if parameters is not None else {},
        "context": dict(data.nodes[data.node].context) if data.node in data.nodes else {},
        "timezone": data.timezone,
        "zones": zones.tables(zones.zone_names(sources) | {data.timezone}),
        "nowMillis": data.now_millis,
        "nodes": nodes,
    }
    return json.dumps(frame, separators=(",", ":"), default=str)
