"""Per-item evaluation of ``{% ... %}`` parameters (see ``compiler.expressions``).

Bindings follow n8n: ``$json`` (current item), ``$index``, ``$items`` (all input items),
``$node("Name")`` (that node's main output items, from the run data), ``$execution``,
``$workflow``, ``$now`` (ISO-8601 UTC) and ``$vars`` (the workflow variables, set by
setVariable nodes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jsonata.jsonata import Jsonata

from compiler.expressions import has_expression, is_expression, parse, segments
from functions.errors import ExpressionError

Item = dict[str, Any]


class Scope:
    """The values an expression can see, minus the current item."""

    def __init__(
        self,
        items: Sequence[Item],
        node_output: Callable[[str], list[Item]],
        execution: Mapping[str, Any],
        workflow: Mapping[str, Any],
        now: str,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.items = list(items)
        self.variables = dict(variables or {})
        self._base = {
            "items": self.items,
            "node": Jsonata.JLambda(lambda name: node_output(str(name))),
            "execution": dict(execution),
            "workflow": dict(workflow),
            "now": now,
            "vars": self.variables,
        }

    def bindings(self, item: Item | None, index: int) -> dict[str, Any]:
        return {**self._base, "json": item if item is not None else {}, "index": index}


def _evaluate_source(source: str, bindings: dict[str, Any]) -> Any:
    try:
        return parse(source).evaluate(None, bindings)
    except ValueError as exc:
        raise ExpressionError(str(exc)) from exc
    except Exception as exc:  # JSONata runtime errors (type errors, bad function calls)
        raise ExpressionError(f"expression {source!r} failed: {exc}") from exc


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def evaluate(value: Any, bindings: dict[str, Any]) -> Any:
    """Resolve every expression inside ``value`` (strings, lists, mappings)."""
    if isinstance(value, str):
        if is_expression(value):
            return _evaluate_source(value[2:-2].strip(), bindings)
        if has_expression(value):
            out, rest = [], value
            for source in segments(value):
                head, _, rest = rest.partition("{%")
                _, _, rest = rest.partition("%}")
                out += [head, _as_text(_evaluate_source(source, bindings))]
            return "".join(out) + rest
        return value
    if isinstance(value, dict):
        return {key: evaluate(item, bindings) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, bindings) for item in value]
    return value
