"""n8n's item lineage: which item of node X the current item descends from (``$('X').item``).

Resolution walks back from the current node's input: the current item ``i`` of input ``k`` is
item ``i`` of the output that feeds input ``k`` (n8n renumbers input items before a node runs).
That output item's ``pairedItem`` names an item of the producing node's input, whose source
names the node before, and so on until the walk reaches X. A ``pairedItem`` list (Merge-like,
aggregating nodes) branches the walk; all branches that reach X must agree on one item, else
the answer is ambiguous. The result is a position ``(run, output, index)`` in X's run data, so
the caller can hand it to JavaScript without copying the item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions.js.run_data import NodeRunData, Source, TaskData

Position = tuple[int, int, int]


@dataclass(frozen=True)
class PairedItemError(Exception):
    """Why an item has no unique ancestor in the referenced node (n8n's message)."""

    message: str

    def __str__(self) -> str:
        return self.message


def _normalise(paired: Any) -> list[dict[str, Any]]:
    if paired is None:
        return []
    entries = paired if isinstance(paired, list) else [paired]
    return [{"item": entry} if isinstance(entry, int) else dict(entry) for entry in entries]


def _task(run_data: Mapping[str, Sequence[TaskData]], source: Source) -> TaskData | None:
    runs = run_data.get(source.previous_node)
    if runs is None or source.previous_node_run >= len(runs):
        return None
    return runs[source.previous_node_run]


def _walk(
    run_data: Mapping[str, Sequence[TaskData]],
    target: str,
    source: Source | None,
    index: int,
    method: str,
) -> Position:
    if source is None:
        raise PairedItemError(
            f"Paired item resolution failed: could not trace back to node '{target}'"
        )
    task = _task(run_data, source)
    if task is None:
        raise PairedItemError(
            f"Paired item resolution failed: node '{source.previous_node}' has no run data"
        )
    if source.previous_node_output >= len(task.outputs):
        raise PairedItemError(
            f"Missing output: expected output #{source.previous_node_output} "
            f"from node {source.previous_node}"
        )
    items = task.outputs[source.previous_node_output]
    if source.previous_node == target:
        if index >= len(items):
            raise _missing(target, method)
        return (source.previous_node_run, source.previous_node_output, index)
    if index >= len(items):
        raise _missing(source.previous_node, method)
    nexts = _normalise(items[index].get("pairedItem"))
    if not nexts:
        raise _missing(source.previous_node, method)
    found: list[Position] = []
    errors: list[PairedItemError] = []
    for entry in nexts:
        input_index = int(entry.get("input") or 0)
        if input_index >= len(task.source):
            continue
        try:
            found.append(
                _walk(run_data, target, task.source[input_index], int(entry["item"]), method)
            )
        except PairedItemError as exc:
            errors.append(exc)
    if not found:
        if errors:
            raise errors[0]
        raise PairedItemError("Invalid expression: no path back to referenced node")
    if any(position != found[0] for position in found[1:]):
        raise PairedItemError(f"Multiple matches found: multiple matching items for item [{index}]")
    return found[0]


def _missing(node: str, method: str) -> PairedItemError:
    return PairedItemError(
        f"Paired item data for {method} from node '{node}' is unavailable. "
        f"Ensure '{node}' is providing the required output."
    )


def ancestors(connections: Mapping[str, Any], node: str) -> set[str]:
    """Every node with a main-connection path to ``node``."""
    parents: dict[str, set[str]] = {}
    for source, by_type in connections.items():
        for port in (by_type or {}).get("main", []) or []:
            for link in port or []:
                parents.setdefault(link["node"], set()).add(source)
    seen: set[str] = set()
    stack = [node]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def output_towards(connections: Mapping[str, Any], source: str, destination: str) -> int | None:
    """Which output port of ``source`` leads (directly or not) to ``destination``."""
    reaching = ancestors(connections, destination) | {destination}
    for port_index, port in enumerate((connections.get(source) or {}).get("main", []) or []):
        if any(link["node"] in reaching for link in port or []):
            return port_index
    return None


def resolve(data: NodeRunData, target: str, item_index: int, method: str = "item") -> Position:
    """The position in ``target``'s run data of the ancestor of input item ``item_index``."""
    check_connected(data, target)
    return resolve_connected(data, target, item_index, method)


def check_connected(data: NodeRunData, target: str) -> None:
    """n8n refuses ``$('X').item`` when X is not upstream of the current node."""
    if data.connections and target not in ancestors(data.connections, data.node):
        raise PairedItemError("Invalid expression: no path back to referenced node")


def resolve_connected(
    data: NodeRunData, target: str, item_index: int, method: str = "item"
) -> Position:
    """:func:`resolve` once :func:`check_connected` passed (the frame does it once per node)."""
    if item_index >= len(data.input_items):
        raise PairedItemError(f"Can't get data for expression: no input item {item_index}")
    source = data.sources[data.input_index] if data.input_index < len(data.sources) else None
    return _walk(data.run_data, target, source, item_index, method)


def assign_default_lineage(outputs: list[list[dict[str, Any]]], input_count: int) -> None:
    """n8n's defaults for output items without ``pairedItem`` (WorkflowExecute does this for
    every node of one main input): one input item -> all outputs descend from it; one output
    port with as many items as the input -> item i from input i; otherwise none are added."""
    single_input_item = input_count == 1
    same_count = len(outputs) == 1 and len(outputs[0]) == input_count
    for port in outputs:
        for position, item in enumerate(port):
            if "pairedItem" in item:
                continue
            if single_input_item:
                item["pairedItem"] = {"item": 0}
            elif same_count:
                item["pairedItem"] = {"item": position}
            else:
                return
