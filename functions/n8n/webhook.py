"""n8n's Webhook node at sfnflow's webhook route: the item it starts with, the answer.

The route (``functions.services.webhooks``) finds the workflow, checks and parses the
request as for any webhook, and for an n8n Webhook (a manifest trigger with ``n8nType``,
``compiler.n8n.triggers``) asks this module for n8n's shapes:

- ``trigger_item``: n8n's item ``{headers, params, query, body, webhookUrl,
  executionMode}`` (``params`` is empty: sfnflow's paths have no ``:parameters``;
  ``executionMode`` is ``production``, the route of an active workflow).
- ``answer``, per ``responseMode``:

  * ``onReceived``: at once, ``responseCode`` with ``{"message": "Workflow was started"}``,
    or the text of ``options.responseData``, or no body (``noData``);
  * ``lastNode``: when the execution has ended, ``responseCode`` with the output of the
    workflow's last node (sfnflow: the items of its sink nodes): ``firstEntryJson`` the
    first item's json (``responsePropertyName``: one field of it), ``allEntries`` every
    item's json, ``noData`` no body;
  * ``responseNode``: as soon as a Respond to Webhook node has recorded the answer on its
    ``response`` port (``functions.n8n.respond``), while the execution goes on, as in n8n
    (the route looks for it every ``RESPONSE_POLL_SECONDS``); the first one that ran wins.

  A failed execution, or one still running when the request's time is up, is answered as
  for sfnflow's own ``lastNode`` webhooks (500 with the public error, 202 with a status
  URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.n8n.items import get_path

RESPOND_TO_WEBHOOK = "n8n-nodes-base.respondToWebhook"
RESPONSE_PORT = 1
STARTED = {"message": "Workflow was started"}
# What sfnflow answers when a responseNode workflow ended without a Respond to Webhook
# node running (n8n's own server answers this when no node sent a response).
NO_RESPONSE = {"message": "Workflow executed successfully"}


@dataclass
class Answer:
    """An HTTP answer: ``body`` is JSON unless ``text`` (sent as is); ``empty``: none."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: bool = False
    empty: bool = False


def trigger_item(headers: Mapping[str, str], query: Mapping[str, Any], body: Any,
                 webhook_url: str) -> dict[str, Any]:
    return {"headers": dict(headers), "params": {}, "query": dict(query),
            "body": {} if body is None else body, "webhookUrl": webhook_url,
            "executionMode": "production"}


def on_received(fields: Mapping[str, Any]) -> Answer:
    code = int(fields.get("responseCode") or 200)
    data = fields.get("responseData") or ""
    if data == "noData":
        return Answer(code, empty=True)
    if data:
        return Answer(code, data, text=True)
    return Answer(code, dict(STARTED))


def last_node(fields: Mapping[str, Any], items: list[Any]) -> Answer:
    code = int(fields.get("responseCode") or 200)
    data = fields.get("responseData") or "firstEntryJson"
    jsons = [item.get("json") if isinstance(item, Mapping) and "json" in item else item
             for item in items]
    if data == "noData":
        return Answer(code, empty=True)
    if data == "allEntries":
        return Answer(code, jsons)
    if not jsons:
        return Answer(500, {"message": "No item to return got found"})
    first = jsons[0]
    name = fields.get("responsePropertyName")
    return Answer(code, get_path(first, str(name)) if name else first)


def recorded_response(runs: list[Any]) -> dict[str, Any] | None:
    """The response the first Respond to Webhook run recorded (node runs, any order)."""
    ran = sorted((run for run in runs if run.node_type == RESPOND_TO_WEBHOOK
                  and run.status == "success" and run.output),
                 key=lambda run: (run.started_at, run.run_index))
    for run in ran:
        port = run.output[RESPONSE_PORT] if len(run.output) > RESPONSE_PORT else []
        item = port[0] if port else None
        json = item.get("json") if isinstance(item, Mapping) else None
        if isinstance(json, Mapping) and isinstance(json.get("response"), Mapping):
            return dict(json["response"])
    return None


def from_response(response: Mapping[str, Any] | None) -> Answer:
    if response is None:
        return Answer(200, dict(NO_RESPONSE))
    headers = {str(key): str(value) for key, value in
               (response.get("headers") or {}).items() if value is not None}
    status = int(response.get("statusCode") or 200)
    body = response.get("body")
    if body is None:
        return Answer(status, headers=headers, empty=True)
    if isinstance(body, str):
        return Answer(status, body, headers=headers, text=True)
    return Answer(status, body, headers=headers)
