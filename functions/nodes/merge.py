"""The merge node: append its inputs, combine them by a key field or by position, or pick one.

combineByKey joins with n8n's meanings: ``inner`` keeps matched pairs only, ``left`` keeps
every item of input 0 (enriched when it matches), ``outer`` also appends input 1's
unmatched items. Every matching pair yields one item (input 1's fields win); items without
the key never match. Key values compare as JSON, so ``1`` matches ``1.0``.
"""

from __future__ import annotations

from typing import Any

from functions.errors import ParameterError
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import MISSING, canonical, get_path


def _key(item: Item, path: str) -> str | None:
    value = get_path(item, path)
    return None if value is MISSING or value is None else canonical(value)


def combine_by_key(left: list[Item], right: list[Item], path: str, join: str) -> list[Item]:
    by_key: dict[str, list[int]] = {}
    for position, item in enumerate(right):
        key = _key(item, path)
        if key is not None:
            by_key.setdefault(key, []).append(position)
    out: list[Item] = []
    matched: set[int] = set()
    for item in left:
        key = _key(item, path)
        positions = by_key.get(key, []) if key is not None else []
        matched.update(positions)
        out.extend({**item, **right[position]} for position in positions)
        if not positions and join in ("left", "outer"):
            out.append(dict(item))
    if join == "outer":
        out.extend(dict(item) for position, item in enumerate(right) if position not in matched)
    return out


def combine_by_position(ports: Ports, join: str) -> list[Item]:
    """The i-th items of every input merged into one (later inputs' fields win). ``inner``
    stops at the shortest input, ``left`` follows input 0, ``outer`` the longest."""
    lengths = [len(port) for port in ports]
    size = {"inner": min(lengths), "left": lengths[0], "outer": max(lengths)}[join]
    out: list[Item] = []
    for position in range(size):
        merged: Item = {}
        for port in ports:
            if position < len(port):
                merged.update(port[position])
        out.append(merged)
    return out


@register
class Merge(Executor):
    type_name = "merge"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        params: Any = ctx.node_params()
        ports = list(inputs) + [[] for _ in range(params.numberInputs - len(inputs))]
        if params.mode == "append":
            return [[item for port in ports for item in port]]
        if params.mode == "combineByPosition":
            return [combine_by_position(ports, params.join)]
        if params.mode == "chooseBranch":
            if params.chooseBranch >= params.numberInputs:
                raise ParameterError(
                    f"node {ctx.node_name!r}: chooseBranch {params.chooseBranch} is not one of "
                    f"its {params.numberInputs} inputs"
                )
            return [list(ports[params.chooseBranch])]
        if not params.key:
            raise ParameterError(f"node {ctx.node_name!r}: combineByKey needs `key`")
        if params.numberInputs != 2:
            raise ParameterError(
                f"node {ctx.node_name!r}: combineByKey joins exactly 2 inputs, "
                f"not {params.numberInputs}"
            )
        return [combine_by_key(list(ports[0]), list(ports[1]), params.key, params.join)]
