"""Date & Time v1 and v2: n8n's date node, computed by Luxon on the embedded JavaScript engine.

Why JavaScript: n8n's v2 *is* Luxon (parse, ``plus``/``minus``, ``toFormat``, ``diff``,
``startOf``, ``toString``), and Luxon 3.4.4 is vendored for expressions (``functions.js``),
so the same library gives the same text, zones and calendar arithmetic; the rules around it
(``datetime.js``) follow n8n's node code. One engine per node run; every item is one call.

v2 (``operation``, default ``getCurrentDate``): ``getCurrentDate`` (includeTime, options.
timezone), ``addToDate`` / ``subtractFromDate`` (magnitude, timeUnit, duration),
``formatDate`` (date, format or customFormat in Luxon tokens, options.fromFormat,
options.timezone), ``roundDate`` (roundDown to toNearest / roundUp to ``to``),
``getTimeBetweenDates`` (startDate, endDate, units, options.isoString), ``extractDate``
(part). The result goes to ``outputFieldName`` of a new item, or of a copy of the input's
json with ``options.includeInputFields``. Dates are read as n8n's ``parseDate`` reads them:
epoch seconds or milliseconds, ISO 8601, RFC 2822 (what moment.js reads), in the workflow's
time zone.

v1 (``action``, default ``format``) is moment.js in n8n. ``format`` (value, toFormat,
options.fromFormat / fromTimezone / toTimezone) and ``calculate`` (add/subtract duration
timeUnit) are computed with Luxon, moment's format strings translated token by token:
``YYYY YY Q M MM MMM MMMM D DD DDD DDDD ddd dddd E W WW GGGG GG H HH h hh m mm s ss S SSS
A Z ZZ X x``, ``[literal text]`` and letters moment does not read (they print as
themselves). Any other token (``Do``, ``d``, ``dd``, ``a``, ``k``,
``w``, ``zz``, locale formats ``L``...) is a ``NodeParameterError`` naming the parameter
(``toFormat`` or ``options.fromFormat``): no silent misprint. The result is set at
``dataPropertyName`` on a copy of the item (one key: n8n's ``set`` gets it as one path
step, so ``a.b`` is a key).

Items are processed one by one; with ``continueOnFail`` a failing item becomes ``{json:
{error}}`` (v2: without ``pairedItem``, as n8n emits it; v1: paired to its item).
Differences that remain: text that is neither ISO 8601 nor RFC 2822 is parsed by the
engine's ``Date`` (QuickJS), whose lenient formats differ from V8's; the runner's local
zone is UTC (moment's local time in n8n is the server's).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from functions.errors import NodeError
from functions.js.engine import JsEngine
from functions.n8n.call import MISSING, NodeCall
from functions.n8n.errors import NodeOperationError, NodeParameterError
from functions.n8n.items import Item, paired
from functions.n8n.jsvalues import UNDEFINED

_SCRIPT = Path(__file__).with_name("datetime.js")

#: The parameters each operation reads, with n8n's defaults (v2 by operation, v1 by action).
V2_PARAMETERS: dict[str, dict[str, Any]] = {
    "getCurrentDate": {"includeTime": True, "outputFieldName": "currentDate"},
    "addToDate": {"magnitude": "", "timeUnit": "days", "duration": 0,
                  "outputFieldName": "newDate"},
    "subtractFromDate": {"magnitude": "", "timeUnit": "days", "duration": 0,
                         "outputFieldName": "newDate"},
    "formatDate": {"date": "", "format": "MM/dd/yyyy", "customFormat": "",
                   "outputFieldName": "formattedDate"},
    "roundDate": {"date": "", "mode": "roundDown", "toNearest": "month", "to": "month",
                  "outputFieldName": "roundedDate"},
    "getTimeBetweenDates": {"startDate": "", "endDate": "", "units": ["day"],
                            "outputFieldName": "timeDifference"},
    "extractDate": {"date": "", "part": "month", "outputFieldName": "datePart"},
}
V1_PARAMETERS: dict[str, dict[str, Any]] = {
    "format": {"value": "", "dataPropertyName": "data", "toFormat": "MM/DD/YYYY"},
    "calculate": {"value": "", "operation": "add", "duration": 0, "timeUnit": "days",
                  "dataPropertyName": "data"},
}


@cache
def _script() -> str:
    return _SCRIPT.read_text(encoding="utf-8")


class _Luxon:
    """One engine for one node run, the node's script loaded; calls in and out are JSON."""

    def __init__(self) -> None:
        self.engine = JsEngine()
        self.engine.set_time_limit(None)  # our own script; time zones call into Python
        self.engine.eval(_script())

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.engine.set_time_limit(None)
        answer = self.engine.eval(f"__sfnflowDateTime({json.dumps(json.dumps(request))})")
        result: dict[str, Any] = json.loads(str(answer))
        return result


def _request(call: NodeCall, index: int, names: dict[str, Any]) -> dict[str, Any]:
    request = {name: call.parameter(name, index, default) for name, default in names.items()}
    options = call.parameter("options", index, {})
    request["options"] = {key: value for key, value in (options or {}).items()
                          if value is not UNDEFINED}
    return request


def _parameters(call: NodeCall) -> tuple[str, dict[str, Any]]:
    """The operation and the parameters it reads (refused when n8n has no such one)."""
    if call.type_version >= 2:
        operation, table, name = call.parameter("operation", 0, "getCurrentDate"), \
            V2_PARAMETERS, "operation"
    else:
        operation, table, name = call.parameter("action", 0, "format"), V1_PARAMETERS, \
            "action"
    if operation not in table:
        raise NodeParameterError(call.node, name, f"unknown {name} {operation!r} (one of "
                                 f"{', '.join(table)})")
    return operation, table[operation]


def run(call: NodeCall, timezone: str = "UTC", now_millis: int | None = None,
        luxon: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[list[Item]]:
    """``timezone``: the workflow's (n8n's ``getTimezone()``); ``now_millis`` freezes the
    clock of ``getCurrentDate`` (tests)."""
    operation, names = _parameters(call)
    compute = luxon or _Luxon()
    out: list[Item] = []
    for index, item in enumerate(call.items):
        try:
            request = _request(call, index, names)
            request.update(version=call.type_version, node_operation=operation,
                           timezone=timezone, nowMillis=now_millis)
            answer = compute(request)
            if "error" in answer:
                parameter = answer.get("parameter")
                if parameter:
                    raise NodeParameterError(call.node, parameter, answer["error"],
                                             item_index=index)
                raise NodeOperationError(call.node, answer["error"], item_index=index)
            out.append(_output(call, index, item, request, answer.get("ok", UNDEFINED)))
        except NodeError as error:
            if not call.continue_on_fail:
                raise
            message = getattr(error, "message", None) or str(error)
            failed: Item = {"json": {"error": message}}
            if call.type_version < 2:
                failed["pairedItem"] = paired(index)
            out.append(failed)
    return [out]


def _output(call: NodeCall, index: int, item: Item, request: dict[str, Any],
            value: Any) -> Item:
    """The output item: v2 sets ``outputFieldName`` as a key; v1 ``dataPropertyName`` as
    a path (lodash ``set``). Undefined leaves the key out (JSON has no undefined)."""
    if call.type_version >= 2:
        include = call.parameter("options.includeInputFields", 0, False)
        json_out = dict(item["json"]) if include else {}
        field = str(request["outputFieldName"])
        json_out.pop(field, None)
        if value is not UNDEFINED:
            json_out[field] = value
        return {"json": json_out, "pairedItem": paired(index)}
    json_out = copy.deepcopy(item["json"])
    if value is not UNDEFINED:
        json_out[str(request["dataPropertyName"])] = value
    return {"json": json_out, "pairedItem": paired(index)}


__all__ = ["MISSING", "V1_PARAMETERS", "V2_PARAMETERS", "run"]
