"""A recorded cost as it is read: with its sub-workflows' costs and the suggestions.

An executeWorkflow child is an execution of its own, with its own recorded cost (and its
own line in its workflow's day). The view adds the children's totals (recursively) to
``withChildren`` without changing the execution's own figures, so nothing is counted
twice in the daily totals and the parent still shows what its whole run cost.
"""

from __future__ import annotations

from typing import Any

from compiler.errors import SfnflowError
from functions.costs.store import CostStore
from functions.costs.suggestions import suggestions

MAX_DEPTH = 16  # sub-workflow nesting; deeper children are left out of ``withChildren``


class CostNotRecorded(SfnflowError, LookupError):
    """The execution has no cost yet: unknown, or still running."""


def _children_total(store: CostStore, cost: dict[str, Any], depth: int,
                    seen: set[str]) -> float:
    total = 0.0
    for child_id in cost.get("children") or ():
        if child_id in seen or depth >= MAX_DEPTH:
            continue
        seen.add(child_id)
        child = store.execution_cost(child_id)
        if child is not None:
            total += float(child.get("total", 0)) + _children_total(store, child, depth + 1,
                                                                   seen)
    return total


def cost_view(store: CostStore, execution_id: str, graph: Any = None) -> dict[str, Any]:
    """The execution's recorded cost, ``withChildren`` and ``suggestions``."""
    cost = store.execution_cost(execution_id)
    if cost is None:
        raise CostNotRecorded(f"no cost recorded for execution {execution_id!r} (unknown, "
                              "or not ended yet)")
    children = _children_total(store, cost, 0, {execution_id})
    return cost | {
        "withChildren": {"total": float(f"{float(cost.get('total', 0)) + children:.9g}"),
                         "children": float(f"{children:.9g}")},
        "suggestions": suggestions(cost, graph),
    }
