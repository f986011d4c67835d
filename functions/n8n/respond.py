"""Respond to Webhook v1, v1.1: the webhook call's answer; the items pass through.

n8n sends the answer from inside the node (``sendResponse``). On sfnflow the webhook route
is another Lambda waiting for the execution, so the node *records* the answer instead: its
second port, ``response``, holds one item ``{"json": {"response": {body, headers,
statusCode}}}`` — exactly what n8n v1.3 puts on its own second output — and the node run
recorded in DynamoDB is where the webhook route reads it (``functions.n8n.webhook``).

Parameters read (n8n's defaults): ``respondWith`` (firstIncomingItem): allIncomingItems
(every item's json, a list), firstIncomingItem (the first item's json), json
(``responseBody``, an object or JSON text), text (``responseBody`` as is), noData;
``options.responseCode`` (200), ``options.responseHeaders.entries`` ``[{name, value}]``
(names lower-cased) and ``options.responseKey`` (wraps the items' json under that path).
Binary, redirect and JWT answers are refused by the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError
from functions.n8n.items import Item, paired, set_path


def _with_key(key: Any, value: Any) -> Any:
    if not key:
        return value
    holder: dict[str, Any] = {}
    set_path(holder, str(key), value)
    return holder


def response(call: NodeCall) -> dict[str, Any]:
    """n8n's ``{body, headers, statusCode}`` for the node's input items."""
    items = call.items
    options = call.parameter("options", 0, {}) or {}
    options = options if isinstance(options, Mapping) else {}
    headers: dict[str, Any] = {}
    entries = options.get("responseHeaders")
    for header in (entries.get("entries") if isinstance(entries, Mapping) else None) or []:
        if isinstance(header, Mapping) and header.get("name") is not None:
            value = header.get("value")
            headers[str(header["name"]).lower()] = None if value is None else str(value)
    respond_with = call.parameter("respondWith", 0, "firstIncomingItem")
    body: Any = None
    if respond_with == "json":
        given = call.parameter("responseBody", 0, '{\n  "myField": "value"\n}')
        if given and not isinstance(given, str):
            body = given
        elif given:
            try:
                body = json.loads(given)
            except ValueError:
                raise NodeOperationError(call.node, "Invalid JSON in 'Response Body' field") \
                    from None
    elif respond_with == "text":
        body = call.parameter("responseBody", 0, "")
    elif respond_with == "allIncomingItems":
        body = _with_key(options.get("responseKey"), [item["json"] for item in items])
    elif respond_with == "firstIncomingItem":
        first = items[0]["json"] if items else {}
        body = _with_key(options.get("responseKey"), first)
    elif respond_with != "noData":
        raise NodeOperationError(call.node, f'The Response Data option "{respond_with}" is '
                                 "not supported!")
    code = options.get("responseCode") or 200
    return {"body": body, "headers": headers, "statusCode": code}


def run(call: NodeCall) -> list[list[Item]]:
    passed = [{"json": item["json"], "pairedItem": paired(index)}
              for index, item in enumerate(call.items)]
    return [passed, [{"json": {"response": response(call)}}]]
