"""n8n's JavaScript Code node on QuickJS, both modes.

"runOnceForAllItems": the code sees ``$input.all()`` and ``items`` and returns a list of items
(``{json: ...}``) or plain objects (each becomes ``{json: obj}``), or one object. Mixing the two
shapes is an error, as in n8n. Output items without ``pairedItem`` get n8n's default lineage
(position i -> input i when counts match, item 0 when one input item).
"runOnceForEachItem": the code runs once per item with ``$json``, ``$input.item``, ``$itemIndex``
and returns one object (or nothing: the item is dropped); its lineage is the input item.

The code runs as the body of an async function (``await`` works; promise jobs are run to the
end) under the engine's CPU, memory and stack limits, which end it as :class:`CodeNodeError`
with ``kind`` "time", "memory" or "stack". ``console.log`` lines are returned in
:attr:`CodeResult.logs`. There is no host access: no require, fs, network, process or env.
Under the time limit the code cannot call into Python, so ``$jmespath``, ``hash()`` and time
zones other than UTC/fixed offsets raise in the Code node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from functions.js.engine import JsEngine, Limits
from functions.js.errors import CodeNodeError, JsError, JsLimitExceeded
from functions.js.frame import build
from functions.js.run_data import NodeRunData

ALL_ITEMS = "runOnceForAllItems"
EACH_ITEM = "runOnceForEachItem"
_ITEM_KEYS = {"json", "binary", "pairedItem", "error"}
_MARK = json.dumps("\u0000undefined")


@dataclass
class CodeResult:
    items: list[dict[str, Any]]
    logs: list[str] = field(default_factory=list)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _normalise(value: Any, node: str, item_index: int | None) -> list[dict[str, Any]]:
    """n8n's rules for what a Code node may return, as items."""
    values = [value] if _is_object(value) else value
    if not isinstance(values, list):
        raise CodeNodeError(
            "Code doesn't return items properly: return an array of objects",
            node=node,
            item_index=item_index,
            kind="output",
        )
    if any(not _is_object(v) for v in values):
        raise CodeNodeError(
            "Code doesn't return items properly: every item must be an object",
            node=node,
            item_index=item_index,
            kind="output",
        )
    wrapped = [("json" in v) for v in values]
    if any(wrapped) and not all(wrapped):
        raise CodeNodeError(
            "Inconsistent item format: return either {json: ...} items or plain objects",
            node=node,
            item_index=item_index,
            kind="output",
        )
    if not any(wrapped):
        return [{"json": v} for v in values]
    for v in values:
        unknown = set(v) - _ITEM_KEYS
        if unknown:
            raise CodeNodeError(
                f"Unknown top-level item key: {sorted(unknown)[0]}",
                node=node,
                item_index=item_index,
                kind="output",
            )
        if not _is_object(v["json"]):
            raise CodeNodeError(
                "A 'json' property isn't an object", node=node, item_index=item_index, kind="output"
            )
    return [dict(v) for v in values]


def _fill_lineage(items: list[dict[str, Any]], input_count: int) -> None:
    for position, item in enumerate(items):
        if "pairedItem" in item:
            continue
        if input_count == 1:
            item["pairedItem"] = {"item": 0}
        elif len(items) == input_count:
            item["pairedItem"] = {"item": position}


class CodeRunner:
    """Runs one Code node's JavaScript for one node run (one context, reused across items)."""

    def __init__(self, data: NodeRunData, code: str, *, limits: Limits | None = None) -> None:
        self.data = data
        self.code = code
        self._engine = JsEngine(limits)
        self._engine.call("setFrame", build(data, [code]))

    def run(self, mode: str = ALL_ITEMS) -> CodeResult:
        if mode == ALL_ITEMS:
            items = _normalise(self._run_once(-1), self.data.node, None)
            _fill_lineage(items, len(self.data.input_items))
            return CodeResult(items, self._logs())
        if mode != EACH_ITEM:
            raise CodeNodeError(f"unknown mode {mode!r}", node=self.data.node, kind="output")
        out: list[dict[str, Any]] = []
        for index in range(len(self.data.input_items)):
            value = self._run_once(index)
            if value is None:
                continue
            if isinstance(value, list):
                raise CodeNodeError(
                    "Code doesn't return a single object: "
                    "return one object in 'Run Once for Each Item' mode",
                    node=self.data.node,
                    item_index=index,
                    kind="output",
                )
            for item in _normalise(value, self.data.node, index):
                item.setdefault("pairedItem", {"item": index})
                out.append(item)
        return CodeResult(out, self._logs())

    def _logs(self) -> list[str]:
        logs: list[str] = json.loads(self._engine.call("takeLogs"))
        return logs

    def _run_once(self, item_index: int) -> Any:
        where = None if item_index < 0 else item_index
        try:
            self._engine.call("startCode", self.code, item_index)
            state = self._engine.call("codeState")
            while state == "pending":
                if not self._engine.run_pending_jobs():
                    raise CodeNodeError(
                        "the code's promise never settled", node=self.data.node, item_index=where
                    )
                state = self._engine.call("codeState")
        except JsLimitExceeded as exc:
            raise CodeNodeError(
                str(exc), node=self.data.node, item_index=where, kind=exc.kind
            ) from exc
        except JsError as exc:
            raise CodeNodeError(str(exc), node=self.data.node, item_index=where) from exc
        if state.startswith("0"):
            error = json.loads(state[1:])
            kind = "error"
            if error["name"] == "InternalError" or error["name"] == "RangeError":
                from functions.js.engine import classify

                limit = classify(error["message"])
                kind = limit.kind if isinstance(limit, JsLimitExceeded) else "error"
            raise CodeNodeError(
                f"{error['name']}: {error['message']}",
                node=self.data.node,
                item_index=where,
                kind=kind,
            )
        if _MARK in state:
            return None
        return json.loads(state[1:])


def run_code(
    data: NodeRunData, code: str, mode: str = ALL_ITEMS, *, limits: Limits | None = None
) -> CodeResult:
    """Run a JavaScript Code node over ``data.input_items``; see the module docstring."""
    return CodeRunner(data, code, limits=limits).run(mode)
