"""n8n's Wait node (v1, v1.1) as sfnflow's wait: what each ``resume`` becomes, decided once.

n8n's Wait either sleeps (``timeInterval``: ``amount`` x ``unit``; ``specificTime``:
``dateTime``), waits for a call of its resume URL (``webhook``) or for a form (``form``).
sfnflow's wait node does the first two as a native Wait state and the third as a paused
Task resumed by a signed URL (``compiler.lowering.wait`` / ``resume``), so an n8n Wait is
read into sfnflow's ``WaitParams`` (``compiler.lowering.n8n_wait``), and the Wait state
is the same. This module is the reading, pure and free of the compiler's models (the
catalogue imports it for its refusals).

How each value becomes a Wait state, exactly or not at all:

* a fixed ``amount``/``unit``: ``Seconds``. n8n waits milliseconds (an amount has two
  decimals); Step Functions waits whole seconds (``Seconds`` is an integer from 0 to
  99,999,999), so a fraction of a second is rounded up: the wait is never shorter.
  A Standard execution lasts at most one year, so a longer wait is refused.
* a fixed ``dateTime``: ``Timestamp``, in UTC. Without an offset it is read in the
  workflow's time zone (``settings.timezone``, UTC by default), as n8n does.
  A moment in the past waits nothing (n8n: ``max(waitTill - now, 0)``).
* an expression JSONata computes exactly (``compiler.n8n.jsonata``: ``$json`` paths,
  literals, arithmetic, comparisons, ternaries... over the first input item, as n8n reads
  the Wait's parameters for item 0): JSONata over the Wait state's input, used where its
  guard holds and its result is in n8n's domain (an ``amount`` that is a number or a
  numeral; a ``dateTime`` that is an ISO-8601 text with an offset, or any ISO
  text in a UTC workflow). Otherwise the state fails (``States.QueryEvaluationError``,
  naming the node), where n8n might have computed or coerced a value. Any other
  expression (``$now``, method calls, ``$('Node')``...) is refused: it needs n8n's
  expression engine (the runner) before the wait, which sfnflow does not lower yet.
* ``webhook``: sfnflow's ``resume: webhook``, limited like n8n by nothing (its
  ``limitWaitTime`` needs the node's timeout, which sfnflow's n8n nodes do not carry:
  refused). The resume URL takes a POST; the data posted becomes the node's items.
* ``form``: refused (sfnflow serves no forms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

N8N_WAIT = "n8n-nodes-base.wait"
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# Step Functions: a Standard execution runs at most one year; Seconds is at most 99999999.
MAX_WAIT_SECONDS = 365 * 86400
# A value outside the exact domain fails the Wait state with this error, naming the node.
WAIT_VALUE_ERROR = "States.QueryEvaluationError"
WAIT_VALUE_DOMAIN = {"amount": "a number or numeral from 0 up to a year in seconds, a "
                               "Standard execution's longest run",
                     "dateTime": "an ISO-8601 date and time with an offset"}
# No regular expressions in these JSONata texts: a `/` of the translated expression and
# one of a regex read as a pair would hide the regex's `$` from Step Functions' scan of
# variable references (it refuses a bare `$`).
_WITH_OFFSET = ('($substring($v, -1) = "Z" or ($substring($v, -6, 1) in ["+", "-"] and '
                '$substring($v, -3, 1) = ":"))')


class WaitRefused(ValueError):
    """A Wait parameter sfnflow does not run: ``field`` (``parameters.x``) and why."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(why)
        self.field = field
        self.why = why


@dataclass(frozen=True)
class N8nWait:
    """What an n8n Wait does, in sfnflow's terms: ``resume`` ("time" or "webhook"), and
    for a time wait either fixed ``seconds``, a fixed ``moment`` (naive: read in the
    workflow's zone), or an n8n expression of the first item (``amount`` x ``factor``
    seconds, or ``moment``) that ``compiler.n8n.jsonata`` translates."""

    resume: str
    seconds: int | None = None
    moment: datetime | None = None
    amount: str | None = None
    factor: int = 1
    moment_expression: str | None = None


def _defaults(version: float) -> tuple[Any, str]:
    """n8n's default amount and unit: v1 waits 1 hour, v1.1 5 seconds."""
    return (1, "hours") if version < 1.1 else (5, "seconds")


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def read(version: float, parameters: Mapping[str, Any]) -> N8nWait:
    """The wait ``parameters`` describe; raises ``WaitRefused`` naming the field."""
    resume = parameters.get("resume", "timeInterval")
    if resume == "timeInterval":
        return _interval(version, parameters)
    if resume == "specificTime":
        return _specific_time(parameters.get("dateTime", ""))
    if resume == "webhook":
        if parameters.get("limitWaitTime") is True:
            raise WaitRefused("parameters.limitWaitTime", "a time limit on a webhook wait is "
                              "not supported yet (it needs the node's timeout)")
        return N8nWait("webhook")
    if resume == "form":
        raise WaitRefused("parameters.resume", "resuming on a form submission is not "
                          "supported: sfnflow serves no forms (use 'webhook')")
    raise WaitRefused("parameters.resume", f"unknown resume {resume!r} (timeInterval, "
                      "specificTime, webhook)")


def _interval(version: float, parameters: Mapping[str, Any]) -> N8nWait:
    default_amount, default_unit = _defaults(version)
    unit = parameters.get("unit", default_unit)
    if unit not in UNIT_SECONDS:
        raise WaitRefused("parameters.unit", "Invalid wait unit. Valid units are 'seconds', "
                          "'minutes', 'hours', or 'days'.")
    amount = parameters.get("amount", default_amount)
    factor = UNIT_SECONDS[unit]
    if _is_expression(amount):
        _translatable(amount, "parameters.amount")
        return N8nWait("time", amount=amount, factor=factor)
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0 \
            or not math.isfinite(amount):
        raise WaitRefused("parameters.amount", "Invalid wait amount. Please enter a number "
                          "that is 0 or greater.")
    seconds = math.ceil(round(amount * factor * 1000) / 1000)  # n8n counts milliseconds
    if seconds > MAX_WAIT_SECONDS:
        raise WaitRefused("parameters.amount", f"a wait of {seconds:,} s is longer than a "
                          f"Standard execution may run (one year, {MAX_WAIT_SECONDS:,} s)")
    return N8nWait("time", seconds=seconds)


def _specific_time(value: Any) -> N8nWait:
    if _is_expression(value):
        _translatable(value, "parameters.dateTime")
        return N8nWait("time", moment_expression=value)
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise WaitRefused("parameters.dateTime", "Cannot put execution to wait because "
                          "`dateTime` parameter is not a valid date. Please pick a specific "
                          "date and time to wait until.") from None
    return N8nWait("time", moment=moment)


def _translatable(expression: str, field: str) -> None:
    from compiler.n8n.jsonata import translate  # imports the lowering: not at import time

    if translate(expression) is None:
        raise WaitRefused(field, "this expression is not one sfnflow computes before a "
                          "native Wait (fixed values, $json paths, arithmetic, comparisons, "
                          "ternaries); compute the value in an earlier node and read it "
                          "with {{ $json.field }}")


def refusals(version: float, parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The catalogue's refusals of a Wait node: ``(field, why)``, none when it runs.

    Also refused, whatever its parameters, while ``compiler.nodetypes`` still builds the
    type as a runner Task (the node runner has no Wait: it would fail at run time)."""
    from compiler.nodetypes import NODE_TYPES  # at validation: no import cycle

    if NODE_TYPES[N8N_WAIT].lowering != "wait":
        return [("type", "n8n's Wait does not run yet: the compiler builds it as a runner "
                 "Task (compiler.nodetypes must use compiler.n8n.wait_params.node_type)")]
    try:
        read(version, parameters)
    except WaitRefused as refused:
        return [(refused.field, refused.why)]
    return []


def utc_timestamp(moment: datetime, timezone: str) -> str:
    """``moment`` as Step Functions' Timestamp (``...Z``, whole seconds: it truncates
    milliseconds); a naive moment is read in ``timezone``, as n8n reads it."""
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(node: str, what: str) -> str:
    """JSONata failing the state (``States.QueryEvaluationError``), naming the node."""
    message = f"node {node!r}: the wait {what} is not one sfnflow computes natively " \
              f"({WAIT_VALUE_DOMAIN[what]})"
    return f"$error({_quoted(message)})"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _translated(expression: str, first_item: str) -> tuple[str, str]:
    """``(helpers and bindings, value)`` of ``expression`` over ``first_item``'s json;
    the value is the JSONata nothing where the translation's guard does not hold."""
    from compiler.n8n.jsonata import HELPERS, translate

    translation = translate(expression)
    assert translation is not None  # read() refused the others
    prelude = f"{HELPERS} $json := ({first_item}).json; $index := 0;"
    return prelude, f"(({translation.guard}) ? {translation.value} : null)"


def seconds_jsonata(wait: N8nWait, first_item: str, node: str) -> str:
    """JSONata of the seconds to wait for an ``amount`` expression (``first_item``: the
    JSONata of the first input item, an n8n ``{json}`` item): n8n's number validation
    (text is read as a number, which fails the state when it is not one); milliseconds
    rounded up to whole seconds."""
    assert wait.amount is not None
    prelude, value = _translated(wait.amount, first_item)
    return (f"({prelude} $v := {value}; "
            f'$n := $type($v) = "number" ? $v : ($type($v) = "string" ? '
            f'$number($trim($v)) : null); '
            f"($n != null and $n >= 0 and $n * {wait.factor} <= {MAX_WAIT_SECONDS}) ? "
            f"$ceil($round($n * {wait.factor} * 1000) / 1000) : "
            f"{_error(node, 'amount')})")


def timestamp_jsonata(wait: N8nWait, first_item: str, node: str, timezone: str) -> str:
    """JSONata of the UTC timestamp for a ``dateTime`` expression: an ISO-8601 text with an
    offset (or any ISO text when the workflow's zone is UTC, where both read it the same)."""
    assert wait.moment_expression is not None
    prelude, value = _translated(wait.moment_expression, first_item)
    zoned = "true" if timezone in ("UTC", "Etc/UTC") else _WITH_OFFSET
    return (f"({prelude} $v := {value}; "
            f'($type($v) = "string" and {zoned}) ? '
            f"$fromMillis($toMillis($v), \"[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z\") : "
            f"{_error(node, 'dateTime')})")
