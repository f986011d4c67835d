"""n8n's trigger nodes on sfnflow's own trigger machinery: what each asks of the platform.

sfnflow already serves webhooks, runs EventBridge Scheduler schedules, routes failures to
error workflows and starts sub-workflows (``compiler.triggers``, ``functions.services``);
n8n's trigger nodes are mapped onto those, never onto a second mechanism:

- ``n8n-nodes-base.webhook`` is a ``webhook`` route (its ``httpMethod`` and ``path``); its
  ``responseMode`` travels with it (``onReceived``, ``lastNode``, ``responseNode``) with the
  fields that shape n8n's answer (``n8n``: responseCode, responseData,
  responsePropertyName), which ``functions.n8n.webhook`` reads;
- ``n8n-nodes-base.scheduleTrigger`` is a ``scheduleTrigger`` with the EventBridge Scheduler
  expression of its interval (``schedule_expression``) in the workflow's
  ``settings.timezone``;
- ``n8n-nodes-base.errorTrigger`` is an ``errorTrigger`` (the error router starts it);
- ``n8n-nodes-base.executeWorkflowTrigger`` needs nothing from the platform: a parent's
  Execute Workflow node (imported as sfnflow's ``executeWorkflow``) starts the workflow.

``SFNFLOW_TRIGGER`` is that correspondence; the runner reads it to know which start fired
which node. What Scheduler or the webhook routes cannot do as n8n does is refused here,
naming the field (the catalogue's ``refusals``). Pure: no imports from ``functions``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from compiler.schedules import validate_expression

BASE = "n8n-nodes-base."
WEBHOOK = BASE + "webhook"
RESPOND_TO_WEBHOOK = BASE + "respondToWebhook"
SCHEDULE_TRIGGER = BASE + "scheduleTrigger"
ERROR_TRIGGER = BASE + "errorTrigger"
EXECUTE_WORKFLOW_TRIGGER = BASE + "executeWorkflowTrigger"
EXECUTE_WORKFLOW = BASE + "executeWorkflow"

#: n8n trigger type -> the sfnflow trigger type whose platform wiring it uses
SFNFLOW_TRIGGER: dict[str, str] = {
    WEBHOOK: "webhook",
    SCHEDULE_TRIGGER: "scheduleTrigger",
    ERROR_TRIGGER: "errorTrigger",
    EXECUTE_WORKFLOW_TRIGGER: "manualTrigger",
}

Refused = list[tuple[str, str]]

# --------------------------------------------------------------------------- webhook

WEBHOOK_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
RESPONSE_MODES = frozenset({"onReceived", "lastNode", "responseNode"})
RESPONSE_DATA = frozenset({"firstEntryJson", "allEntries", "noData"})
# options n8n's Webhook has that change what a caller gets and sfnflow does not do
_REFUSED_WEBHOOK_OPTIONS = {
    "rawBody": "the raw body is binary data, which sfnflow does not carry",
    "binaryData": "a binary body is binary data, which sfnflow does not carry",
    "binaryPropertyName": "a binary body is binary data, which sfnflow does not carry",
    "ipWhitelist": "an IP allow-list is not supported: restrict the route in API Gateway",
    "ignoreBots": "ignoring bots is not supported",
    "responseHeaders": "response headers are not supported for this response mode",
    "responseContentType": "a response content type is not supported",
}
_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$")


def _options(parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    options = parameters.get("options")
    return options if isinstance(options, Mapping) else {}


def _static(value: Any) -> bool:
    return not (isinstance(value, str) and value.startswith("="))


def webhook_fields(_version: float, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """n8n's answer, as n8n's Webhook reads it (``getResponseCode``/``getResponseData``):
    v1 and v1.1 keep responseCode at the top level, v2 as ``options.responseCode.values``
    (``customCode`` when set); ``responseData`` chooses what ``lastNode`` returns, and
    ``options.responseData`` is the text ``onReceived`` answers with (``noData`` with
    ``options.noResponseBody``)."""
    options = _options(parameters)
    mode = parameters.get("responseMode", "onReceived")
    code: Any = parameters.get("responseCode")
    held = options.get("responseCode")
    if not code and isinstance(held, Mapping) and isinstance(held.get("values"), Mapping):
        code = held["values"].get("customCode") or held["values"].get("responseCode")
    data = parameters.get("responseData")
    if not data and mode == "onReceived":
        data = options.get("responseData")
    if not data and options.get("noResponseBody"):
        data = "noData"
    if not data and mode == "lastNode":
        data = "firstEntryJson"
    return {
        "responseMode": mode,
        "responseCode": int(code) if isinstance(code, int | float) and code else 200,
        "responseData": data if isinstance(data, str) else "",
        "responsePropertyName": options.get("responsePropertyName") or None,
    }


def webhook_refusals(version: float, parameters: Mapping[str, Any]) -> Refused:
    refused: Refused = []
    if parameters.get("authentication", "none") != "none":
        refused.append(("parameters.authentication", "credentials are not supported yet: "
                        "only authentication 'none' (or sign requests with an sfnflow "
                        "webhook secret)"))
    if parameters.get("multipleMethods"):
        refused.append(("parameters.multipleMethods", "one HTTP method per Webhook node: "
                        "use one node per method"))
    method = parameters.get("httpMethod", "GET")
    if method not in WEBHOOK_METHODS:
        refused.append(("parameters.httpMethod", f"HTTP method {method!r} is not served "
                        f"(one of {', '.join(sorted(WEBHOOK_METHODS))})"))
    path = parameters.get("path", "")
    if not isinstance(path, str) or not _PATH.match(path) or len(path) > 200:
        refused.append(("parameters.path", f"path {path!r} is not a route sfnflow serves: "
                        "letters, digits and / _ . - (no ':parameters'), at most 200 "
                        "characters, starting with a letter or digit"))
    fields = webhook_fields(version, parameters)
    if fields["responseMode"] not in RESPONSE_MODES:
        refused.append(("parameters.responseMode", f"responseMode {fields['responseMode']!r}"
                        f" is not supported (one of {', '.join(sorted(RESPONSE_MODES))})"))
    if fields["responseMode"] == "lastNode" and fields["responseData"] not in RESPONSE_DATA:
        refused.append(("parameters.responseData", f"responseData "
                        f"{fields['responseData']!r} is not supported (one of "
                        f"{', '.join(sorted(RESPONSE_DATA))})"))
    if not _static(parameters.get("responseCode")) or not _static(fields["responseData"]):
        refused.append(("parameters.responseCode", "an expression in the response code or "
                        "data is not supported: the route answers before any item exists"))
    for option, why in _REFUSED_WEBHOOK_OPTIONS.items():
        if _options(parameters).get(option) not in (None, False, "", [], {}):
            refused.append((f"parameters.options.{option}", why))
    return refused


def webhook_trigger(version: float, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The ``webhook`` route's parameters (``functions.services.webhooks`` reads them)."""
    fields = webhook_fields(version, parameters)
    return {"path": str(parameters.get("path", "")).strip("/"),
            "method": parameters.get("httpMethod", "GET"), "secret": None,
            "responseMode": fields["responseMode"], "n8n": fields}


# --------------------------------------------------------------------------- respond

RESPOND_WITH = frozenset({"allIncomingItems", "firstIncomingItem", "json", "text", "noData"})


def respond_refusals(_version: float, parameters: Mapping[str, Any]) -> Refused:
    respond_with = parameters.get("respondWith", "firstIncomingItem")
    if respond_with in RESPOND_WITH:
        return []
    return [("parameters.respondWith", f"respondWith {respond_with!r} is not supported "
             f"(one of {', '.join(sorted(RESPOND_WITH))}): binary data, redirects and JWTs "
             "are not")]


# --------------------------------------------------------------------------- schedule

# n8n's defaults (ScheduleTrigger v1.x)
_DEFAULTS = {"minutesInterval": 5, "hoursInterval": 1, "daysInterval": 1, "weeksInterval": 1,
             "monthsInterval": 1, "triggerAtHour": 0, "triggerAtMinute": 0,
             "triggerAtDayOfMonth": 1}
_INTERVAL_FIELDS = {"minutes": "minutesInterval", "hours": "hoursInterval",
                    "days": "daysInterval", "weeks": "weeksInterval",
                    "months": "monthsInterval"}


class NotExpressible(ValueError):
    """What an n8n interval asks cannot be said exactly as a Scheduler expression."""


def _number(interval: Mapping[str, Any], key: str) -> int:
    value = interval.get(key, _DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise NotExpressible(f"{key} must be a whole number (an expression is not supported)")
    return int(value)


def intervals(parameters: Mapping[str, Any]) -> list[Any]:
    rule = parameters.get("rule")
    entries = rule.get("interval") if isinstance(rule, Mapping) else None
    return entries if isinstance(entries, list) else [{"field": "days"}]


def schedule_expression(interval: Mapping[str, Any]) -> str:
    """One n8n interval as a Scheduler expression firing at the same times. n8n fires at a
    random second of the minute; Scheduler at second 0. Intervals above one day, week or
    month count from the first fire in n8n, which a cron cannot say: refused."""
    field = interval.get("field", "days")
    if field == "seconds":
        raise NotExpressible("EventBridge Scheduler fires at most once a minute")
    if field == "cronExpression":
        return _cron(str(interval.get("expression") or ""))
    if field not in _INTERVAL_FIELDS:
        raise NotExpressible(f"unknown interval field {field!r}")
    every = _number(interval, _INTERVAL_FIELDS[field])
    if every < 1:
        raise NotExpressible(f"{_INTERVAL_FIELDS[field]} must be at least 1")
    if field == "minutes":
        return f"cron(*/{every} * * * ? *)" if every < 60 else _too_long(field)
    minute = _number(interval, "triggerAtMinute")
    if field == "hours":
        return f"cron({minute} */{every} * * ? *)" if every < 24 else _too_long(field)
    if every != 1:
        raise NotExpressible(f"every {every} {field} counts from the first fire in n8n, "
                             "which a Scheduler expression cannot say: use a cron expression")
    hour = _number(interval, "triggerAtHour")
    if field == "days":
        return f"cron({minute} {hour} * * ? *)"
    if field == "weeks":
        days = interval.get("triggerAtDay", [0])
        if not isinstance(days, list) or not all(isinstance(d, int) and 0 <= d <= 6
                                                 for d in days):
            raise NotExpressible("triggerAtDay must be weekday numbers 0 (Sunday) to 6")
        weekdays = ",".join(str(day + 1) for day in sorted(set(days))) or "*"
        return f"cron({minute} {hour} ? * {weekdays} *)"
    return f"cron({minute} {hour} {_number(interval, 'triggerAtDayOfMonth')} * ? *)"


def _too_long(field: str) -> NoReturn:
    raise NotExpressible(f"the {field} interval is out of n8n's range")


_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _cron(expression: str) -> str:
    """n8n's cron (5 fields, or 6 with seconds first) as an AWS ``cron()``: day-of-week
    0-7 from Sunday becomes 1-7, and the unrestricted one of day-of-month and
    day-of-week becomes ``?``. Both restricted means "either" in cron, which AWS cannot
    say; seconds other than 0 neither."""
    fields = expression.split()
    if len(fields) == 6:
        if fields[0] not in ("0", "00"):
            raise NotExpressible(f"{expression!r} fires on second {fields[0]}: EventBridge "
                                 "Scheduler fires on whole minutes")
        fields = fields[1:]
    if len(fields) != 5:
        raise NotExpressible(f"{expression!r} is not a cron expression of 5 (or 6) fields")
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise NotExpressible(f"{expression!r} restricts both the day of the month and of the "
                             "week (cron fires on either), which Scheduler cannot say")
    if weekday in ("*", "?"):
        text = f"cron({minute} {hour} {'*' if day == '?' else day} {month} ? *)"
    else:
        text = f"cron({minute} {hour} ? {month} {_weekdays(weekday)} *)"
    try:
        validate_expression(text)
    except ValueError as exc:
        raise NotExpressible(f"{expression!r}: {exc}") from None
    return text


def _weekday(text: str) -> str:
    if text.upper() in _DOW_NAMES:
        return text.upper()
    if not text.isdigit() or int(text) > 7:
        raise NotExpressible(f"day of week {text!r} is not 0-7 or SUN-SAT")
    return str(int(text) % 7 + 1)


def _weekdays(field: str) -> str:
    if "/" in field:
        raise NotExpressible("a step (/) in the day of the week is not supported by Scheduler")
    parts = []
    for part in field.split(","):
        bounds = part.split("-")
        if len(bounds) > 2:
            raise NotExpressible(f"day of week {part!r} is not a value or a range")
        parts.append("-".join(_weekday(bound) for bound in bounds))
    return ",".join(parts)


def schedule_refusals(_version: float, parameters: Mapping[str, Any]) -> Refused:
    entries = intervals(parameters)
    refused: Refused = []
    if len(entries) != 1:
        refused.append(("parameters.rule.interval", "one interval per Schedule Trigger node "
                        "(one schedule per node): split the rules into several nodes"))
    for index, interval in enumerate(entries):
        if not isinstance(interval, Mapping):
            refused.append((f"parameters.rule.interval[{index}]", "not an interval"))
            continue
        try:
            schedule_expression(interval)
        except NotExpressible as exc:
            refused.append((f"parameters.rule.interval[{index}]", str(exc)))
    return refused


def schedule_trigger(parameters: Mapping[str, Any], timezone: str) -> dict[str, Any]:
    return {"expression": schedule_expression(intervals(parameters)[0]), "timezone": timezone}


# --------------------------------------------------------------------------- sub-workflows

PASSTHROUGH = "passthrough"


def execute_trigger_refusals(version: float, parameters: Mapping[str, Any]) -> Refused:
    """v1 passes every item through; v1.1 does with ``inputSource: passthrough`` and picks
    the declared fields with ``workflowInputs`` (``functions.n8n.triggers``)."""
    source = parameters.get("inputSource", "workflowInputs" if version >= 1.1 else PASSTHROUGH)
    if source in (PASSTHROUGH, "workflowInputs"):
        return []
    return [("parameters.inputSource", f"inputSource {source!r} is not supported "
             "(passthrough or workflowInputs)")]


def platform_trigger(type_name: str, version: float, parameters: Mapping[str, Any],
                     timezone: str) -> dict[str, Any] | None:
    """``{"type", "parameters"}`` of the sfnflow trigger an n8n trigger node rides on, or
    None when it needs nothing from the platform."""
    if type_name == WEBHOOK:
        return {"type": "webhook", "parameters": webhook_trigger(version, parameters)}
    if type_name == SCHEDULE_TRIGGER:
        return {"type": "scheduleTrigger",
                "parameters": schedule_trigger(parameters, timezone)}
    if type_name == ERROR_TRIGGER:
        return {"type": "errorTrigger", "parameters": {}}
    return None
