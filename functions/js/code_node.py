"""n8n's JavaScript Code node on QuickJS, both modes.

"runOnceForAllItems": the code sees ``$input.all()`` and ``items`` and returns a list of items
(``{json: ...}``) or plain objects (each becomes ``{json: obj}``), or one object; anything else,
a mix of shapes or unknown item keys fail with n8n's messages. Output items without
``pairedItem`` get n8n's default lineage (paired_items.assign_default_lineage).
"runOnceForEachItem": the code runs once per item with ``$json``, ``$input.item``, ``$itemIndex``
and returns one object (null drops the item; undefined is an error, as in n8n); its lineage is
the input item. Input items carry ``pairedItem: {item: i}`` like n8n's, so returning
``$input.all()`` keeps lineage. Differences from n8n, on purpose: no ``require`` and no
``process`` (n8n allows allow-listed modules); n8n's extension methods work here too.

The code runs as the body of an async function (``await`` works; promise jobs are run to the
end) under the engine's CPU, memory and stack limits, which end it as :class:`CodeNodeError`
with ``kind`` "time", "memory" or "stack". ``console.log`` lines are returned in
:attr:`CodeResult.logs`, and handed to a ``logs`` list when the caller passes one: that list
receives them also when the code throws after logging, so the failing node's run keeps the
lines that explain it. There is no host access: no require, fs, network, process or env.
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
from functions.js.paired_items import assign_default_lineage
from functions.js.run_data import NodeRunData

ALL_ITEMS = "runOnceForAllItems"
EACH_ITEM = "runOnceForEachItem"
_ITEM_KEYS = {"json", "binary", "pairedItem", "error", "index"}
_UNDEFINED = {"\u0000undefined": True}  # how runtime.js sends a bare undefined
_NOTHING = object()  # the code returned undefined
_NEEDS_PYTHON = "Can not call into Python with a time limit set"
_NO_PYTHON_HELP = (
    "$jmespath(), .hash() and time zones named at run time (not as a string literal) are not "
    "available in the Code node: it runs under a CPU time limit that forbids calls out of "
    "the engine"
)


@dataclass
class CodeResult:
    items: list[dict[str, Any]]
    logs: list[str] = field(default_factory=list)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _output_error(message: str, node: str, item_index: int | None) -> CodeNodeError:
    return CodeNodeError(message, node=node, item_index=item_index, kind="output")


def _normalise(value: Any, node: str, item_index: int | None) -> list[dict[str, Any]]:
    """n8n's rules (and messages) for what a Code node may return, as items."""
    values = [value] if _is_object(value) else value
    if not isinstance(values, list) or any(not _is_object(v) for v in values):
        raise _output_error("Code doesn't return items properly", node, item_index)
    if not any("json" in v for v in values):
        return [{"json": v} for v in values]
    for position, v in enumerate(values):
        if "json" not in v:
            unknown = sorted(set(v) - _ITEM_KEYS)
            key = unknown[0] if unknown else "?"
            raise _output_error(
                f"Unknown top-level item key: {key} [item {position}]", node, item_index
            )
        if set(v) - _ITEM_KEYS or not _is_object(v["json"]):
            raise _output_error(f"Invalid output format [item {position}]", node, item_index)
    return [dict(v) for v in values]


class CodeRunner:
    """Runs one Code node's JavaScript for one node run (one context, reused across items)."""

    def __init__(self, data: NodeRunData, code: str, *, limits: Limits | None = None) -> None:
        self.data = data
        self.code = code
        self._engine = JsEngine(limits)
        self._engine.load_frame(build(data, [code]))
        self._taken: list[str] | None = None  # the logs, once taken from the engine

    def run(self, mode: str = ALL_ITEMS, logs: list[str] | None = None) -> CodeResult:
        """Run the code in ``mode``; ``logs`` (optional) receives the console lines, also
        when the run fails."""
        try:
            return self._run(mode)
        finally:
            if logs is not None:
                logs.extend(self._logs())

    def _run(self, mode: str) -> CodeResult:
        if mode == ALL_ITEMS:
            items = _normalise(self._run_once(-1), self.data.node, None)
            assign_default_lineage([items], len(self.data.input_items))
            return CodeResult(items, self._logs())
        if mode != EACH_ITEM:
            raise CodeNodeError(f"unknown mode {mode!r}", node=self.data.node, kind="output")
        out: list[dict[str, Any]] = []
        for index in range(len(self.data.input_items)):
            value = self._run_once(index)
            if value is _NOTHING:
                raise _output_error("Code doesn't return an object", self.data.node, index)
            if value is None:
                continue  # n8n drops the item when the code returns null
            if isinstance(value, list):
                raise _output_error("Code doesn't return a single object", self.data.node, index)
            for item in _normalise(value, self.data.node, index):
                item.setdefault("pairedItem", {"item": index})
                out.append(item)
        return CodeResult(out, self._logs())

    def _logs(self) -> list[str]:
        """The lines logged since the last call (each is handed over once). After a limit
        ended the code the context may not answer: then there are none to give."""
        if self._taken is not None:
            return self._taken
        try:
            logs: list[str] = json.loads(self._engine.call("takeLogs"))
        except (JsError, ValueError):
            logs = []
        self._taken = logs
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
            if _NEEDS_PYTHON in error["message"]:
                raise CodeNodeError(_NO_PYTHON_HELP, node=self.data.node, item_index=where)
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
        value = json.loads(state[1:])
        if value == _UNDEFINED:
            return _NOTHING
        return value


def run_code(
    data: NodeRunData,
    code: str,
    mode: str = ALL_ITEMS,
    *,
    limits: Limits | None = None,
    logs: list[str] | None = None,
) -> CodeResult:
    """Run a JavaScript Code node over ``data.input_items``; see the module docstring."""
    return CodeRunner(data, code, limits=limits).run(mode, logs)
