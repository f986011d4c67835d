"""The items n8n's trigger nodes emit, from what sfnflow's trigger machinery delivers.

sfnflow starts these workflows with its own envelopes (``functions.nodes.triggers``); each
n8n trigger turns the delivered item into the one n8n emits, so expressions such as
``$json.body.name`` or ``$json["Day of week"]`` read what they read in n8n:

- **Webhook**: the webhook route (``functions.n8n.webhook.trigger_item``) already builds
  n8n's ``{headers, params, query, body, webhookUrl, executionMode}``; it passes through.
- **Schedule Trigger**: from ``{scheduledAt, timezone}`` (the schedule's delivery), n8n's
  ``{timestamp, "Readable date", "Readable time", "Day of week", Year, Month,
  "Day of month", Hour, Minute, Second, Timezone}`` of the scheduled time in the workflow's
  timezone (n8n formats the moment the cron fired with moment-timezone; sfnflow uses the
  scheduled time, which is the same instant less Scheduler's delivery delay).
- **Error Trigger**: from the error router's item, n8n's ``{execution: {id, url, retryOf?,
  error: {message, stack?}, lastNodeExecuted, mode}, workflow: {id, name}}``.
- **Execute Workflow Trigger**: the items the parent sent; v1.1 with ``inputSource:
  workflowInputs`` keeps only the declared fields (each defaulting to null), as n8n does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.n8n.items import Item

PASSTHROUGH = "passthrough"
WORKFLOW_INPUTS = "workflowInputs"
FALLBACK_DEFAULT_VALUE = None  # n8n's value of a declared input the parent did not send


def _ordinal(day: int) -> str:
    """moment's ``Do``: 1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _offset(moment: datetime) -> str:
    """moment's ``Z``: ``+02:00``."""
    text = moment.strftime("%z") or "+0000"
    return f"{text[:3]}:{text[3:]}"


def _clock(moment: datetime) -> str:
    """moment's ``h:mm:ss a``: 12-hour clock without a leading zero, am/pm in lower case."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M:%S} {'am' if moment.hour < 12 else 'pm'}"


def schedule_item(scheduled_at: str, timezone: str) -> dict[str, Any]:
    """n8n's Schedule Trigger item for the moment ``scheduled_at`` (ISO 8601) in ``timezone``."""
    instant = datetime.fromisoformat(scheduled_at.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    moment = instant.astimezone(ZoneInfo(timezone))
    offset = _offset(moment)
    return {
        "timestamp": f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}{offset}",
        "Readable date": f"{moment:%B} {_ordinal(moment.day)} {moment:%Y}, {_clock(moment)}",
        "Readable time": _clock(moment),
        "Day of week": f"{moment:%A}",
        "Year": f"{moment:%Y}",
        "Month": f"{moment:%B}",
        "Day of month": f"{moment:%d}",
        "Hour": f"{moment:%H}",
        "Minute": f"{moment:%M}",
        "Second": f"{moment:%S}",
        "Timezone": f"{timezone} (UTC{offset})",
    }


def error_item(routed: Mapping[str, Any]) -> dict[str, Any]:
    """n8n's Error Trigger item from the error router's (``functions.services.
    error_router``), which holds n8n's fields and more (error type and node, start and
    stop times, input, partial results): n8n's keys, in n8n's order."""
    execution = routed.get("execution") if isinstance(routed.get("execution"), Mapping) else {}
    error = execution.get("error") if isinstance(execution.get("error"), Mapping) else {}
    workflow = routed.get("workflow") if isinstance(routed.get("workflow"), Mapping) else {}
    shaped_error: dict[str, Any] = {"message": error.get("message")}
    if error.get("stack"):
        shaped_error["stack"] = error["stack"]
    shaped: dict[str, Any] = {"id": execution.get("id"), "url": execution.get("url")}
    if execution.get("retryOf"):
        shaped["retryOf"] = execution["retryOf"]
    shaped |= {"error": shaped_error, "lastNodeExecuted": execution.get("lastNodeExecuted"),
               "mode": execution.get("mode")}
    return {"execution": shaped,
            "workflow": {"id": workflow.get("id"), "name": workflow.get("name")}}


def called_items(items: list[Item], version: float,
                 parameters: Mapping[str, Any]) -> list[Item]:
    """Execute Workflow Trigger: v1 (and ``passthrough``) emits the parent's items as they
    are; ``workflowInputs`` emits each item's declared fields only."""
    default = WORKFLOW_INPUTS if version >= 1.1 else PASSTHROUGH
    if parameters.get("inputSource", default) != WORKFLOW_INPUTS:
        return items
    holder = parameters.get("workflowInputs")
    values = holder.get("values") if isinstance(holder, Mapping) else None
    names = [str(field.get("name")) for field in values or [] if isinstance(field, Mapping)]
    kept = set(names)
    shaped = []
    for item in items:
        data = item.get("json") if isinstance(item.get("json"), Mapping) else {}
        json = {name: FALLBACK_DEFAULT_VALUE for name in names}
        json.update({key: value for key, value in data.items() if key in kept})
        shaped.append({**item, "json": json})
    return shaped
