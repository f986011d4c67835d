"""n8n expressions: resolve a node's parameters per item, the way n8n does.

A string parameter starting with ``=`` is an expression: text with ``{{ JavaScript }}`` parts.
One part and no text yields the JavaScript value itself (converted to JSON: objects, arrays,
numbers, booleans, null; NaN -> null; a DateTime -> its ISO string); ``undefined`` comes back
as :data:`UNDEFINED` so the node can tell "no value" from null. Text with parts yields a string
joined the JavaScript way (n8n's tmpl): null/undefined parts are empty, objects read
``[object Object]``, arrays ``1,2``. As in n8n, an error inside a part that is not one of n8n's
own expression errors (a TypeError on ``$json.a.b`` when ``a`` is missing) makes the part
undefined; n8n's own (unknown node, paired item not found, ``$env``, bad syntax, extension
misuse) raise :class:`ExpressionEvaluationError` naming node, parameter and item.

Time limit: expressions run under the CPU limit; the binding refuses Python calls under one,
so an item whose expression needs Python ($jmespath, hash(), a time zone other than the
workflow's first use) is evaluated again without the limit (expressions have no side effects).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.js.engine import JsEngine, Limits, classify
from functions.js.errors import ExpressionEvaluationError, JsError
from functions.js.frame import build
from functions.js.run_data import NodeRunData
from functions.n8n.jsvalues import UNDEFINED  # one undefined for the engine and the nodes

_MARK = "\u0000undefined"
_MARK_JSON = json.dumps(_MARK)
_NEEDS_PYTHON = "Can not call into Python with a time limit set"




def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("=") else []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _restore_undefined(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and value.get(_MARK) is True:
            return UNDEFINED
        return {k: _restore_undefined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_undefined(v) for v in value]
    return value


class ExpressionEvaluator:
    """Resolves one node's parameters for each of its input items, in one JS context.

    ``parameters`` is the node's raw parameter tree (dicts, lists, scalars); only strings that
    start with ``=`` are evaluated. Build one per node run; call :meth:`resolve` per item.
    """

    def __init__(
        self,
        data: NodeRunData,
        parameters: Mapping[str, Any],
        *,
        engine: JsEngine | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.data = data
        self.parameters = dict(parameters)
        self._engine = engine or JsEngine(limits)
        self._tree = json.dumps(self.parameters, separators=(",", ":"))
        self._has_expressions = bool(_strings(self.parameters))
        self._engine.load_frame(build(data, _strings(self.parameters), self.parameters))

    def resolve(self, item_index: int) -> dict[str, Any]:
        """The parameters with every expression evaluated for input item ``item_index``."""
        if not self._has_expressions:
            return dict(self.parameters)
        reply = self._run(item_index)
        if reply.startswith("0") and _NEEDS_PYTHON in reply:
            reply = self._run(item_index, limited=False)
        if reply.startswith("1"):
            parsed: dict[str, Any] = json.loads(reply[1:])
            return _restore_undefined(parsed) if _MARK_JSON in reply else parsed
        error = json.loads(reply[1:])
        message = error["message"]
        if error["name"] == "InternalError":  # out of memory, caught inside the engine
            message = str(classify(message))
        raise ExpressionEvaluationError(
            message, node=self.data.node, parameter=error.get("path") or "", item_index=item_index
        )

    def resolve_all(self) -> list[dict[str, Any]]:
        return [self.resolve(index) for index in range(len(self.data.input_items))]

    def _run(self, item_index: int, limited: bool = True) -> str:
        try:
            if not limited:
                self._engine.set_time_limit(None)
            try:
                return self._engine.call("resolve", self._tree, item_index)
            finally:
                if not limited:
                    self._engine.set_time_limit(self._engine.limits.cpu_seconds)
        except JsError as exc:
            raise ExpressionEvaluationError(
                str(exc), node=self.data.node, parameter="", item_index=item_index
            ) from exc


def evaluate(data: NodeRunData, expression: Any, item_index: int = 0) -> Any:
    """One expression (or parameter tree) for one item: a convenience for callers and tests."""
    return ExpressionEvaluator(data, {"value": expression}).resolve(item_index)["value"]
