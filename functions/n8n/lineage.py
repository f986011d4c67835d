"""Item lineage: which item of an earlier node an item came from (``$('Node').item``).

n8n resolves ``$('Node').item`` by walking ``pairedItem`` back from the current item: the
current node's input item ``i`` is item ``i`` of the node feeding that input; that item's
``pairedItem`` (``{"item": j, "input": k}``, a bare index, or a list of them) points to
item ``j`` of input ``k`` of its own node, and so on until the wanted node is reached.
A list fans out; all the paths that reach the wanted node must agree on one item.

``trace_item`` does that walk over one run of each node: ``outputs[node]`` is the node's
output items per port and ``sources[node][k]`` the ``Source`` feeding its input ``k``
(``None`` for an unconnected input). Loops (several runs of a node) are the runner's:
it passes the outputs of the run it means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions.errors import ExpressionError
from functions.n8n.items import Item


@dataclass(frozen=True)
class Source:
    """One connection into a node input: the feeding node and its output port."""

    node: str
    output: int = 0


class PairedItemError(ExpressionError):
    """``$('Node').item`` has no single answer (n8n's "paired item" errors)."""

    error_type = "N8n.PairedItemError"


def _links(pairing: Any) -> list[tuple[int, int]]:
    """(item, input) pairs of a pairedItem value."""
    if pairing is None:
        return []
    if isinstance(pairing, int):
        return [(pairing, 0)]
    if isinstance(pairing, Mapping):
        return [(int(pairing.get("item", 0)), int(pairing.get("input") or 0))]
    return [link for entry in pairing for link in _links(entry)]


def _item_at(outputs: Mapping[str, Sequence[Sequence[Item]]], source: Source, index: int) -> Item:
    try:
        return outputs[source.node][source.output][index]
    except (KeyError, IndexError):
        raise PairedItemError(
            f"Paired item data for item from node '{source.node}' is unavailable"
        ) from None


def trace_item(
    outputs: Mapping[str, Sequence[Sequence[Item]]],
    sources: Mapping[str, Sequence[Source | None]],
    node: str,
    item_index: int,
    target: str,
    input_index: int = 0,
) -> Item:
    """The item of ``target`` that input item ``item_index`` of ``node`` derives from."""
    found: list[Item] = []
    pending: list[tuple[str, int, int]] = [(node, input_index, item_index)]
    seen: set[tuple[str, int, int]] = set()
    while pending:
        step = pending.pop()
        if step in seen:
            continue
        seen.add(step)
        current, input_number, index = step
        inputs = sources.get(current) or []
        source = inputs[input_number] if input_number < len(inputs) else None
        if source is None:
            continue
        item = _item_at(outputs, source, index)
        if source.node == target:
            if not any(other is item for other in found):
                found.append(item)
            continue
        pending.extend((source.node, k, j) for j, k in _links(item.get("pairedItem")))
    if not found:
        raise PairedItemError(
            f"Can't get data for expression: no path from '{node}' back to '{target}'"
        )
    if len(found) > 1:
        raise PairedItemError(f"Multiple matching items for expression [item {item_index}]")
    return found[0]
