"""The HTTP request node: one call per input item, with parameters evaluated per item.

``concurrency`` (default 1) sends that many items' requests at a time
(``functions.concurrent_items``): the output keeps the items' order, and a failure is the
error a one-at-a-time run would raise (the first failing item's); no item starts after it.

Failures become typed errors so that the state machine's Retry/Catch can tell them apart:
timeouts, connection failures, 429 and 5xx are retryable, other 4xx and bad URLs are not.
"""

from __future__ import annotations

from typing import Any

import requests

from functions.concurrent_items import run_items, values_or_raise
from functions.credentials import NODE_CREDENTIALS_KEY, node_credential
from functions.credentials.http_auth import HTTP_AUTH, RequestAuth, request_auth
from functions.expressions import Item
from functions.http import send, status_error
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input

EXCERPT_CHARS = 200


def _body(response: requests.Response, response_format: str) -> Any:
    """The parsed JSON, or the text when asked for text or when the body is not JSON."""
    if response_format == "text" or not response.content:
        return response.text
    try:
        return response.json()
    except ValueError:
        return response.text


def _items(body: Any) -> list[Item]:
    """A JSON list is one item per element; anything that is not an object (text included)
    is wrapped as ``{"data": value}``."""
    values = body if isinstance(body, list) else [body]
    return [value if isinstance(value, dict) else {"data": value} for value in values]


def _send(session: requests.Session, params: Any,
          auth: RequestAuth | None = None) -> requests.Response:
    headers, query = auth.apply(params.headers, params.query) if auth is not None \
        else (params.headers, params.query)
    return send(session, params.method, params.url, timeout=params.timeoutSeconds,
                headers=headers, params=query,
                json=params.body if params.method != "GET" and params.body is not None
                else None)


def request_items(session: requests.Session, params: Any,
                  auth: RequestAuth | None = None) -> list[Item]:
    response = _send(session, params, auth)
    if response.status_code >= 400:
        excerpt = response.text[:EXCERPT_CHARS]
        raise status_error(response.status_code)(
            f"{params.method} {params.url} returned {response.status_code}: {excerpt}"
        )
    body = _body(response, params.responseFormat)
    if params.fullResponse:
        return [
            {
                "statusCode": response.status_code,
                "headers": dict(response.headers),
                "body": body,
            }
        ]
    return _items(body)


@register
class HttpRequest(Executor):
    type_name = "httpRequest"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        items = main_input(inputs)
        # the node's credential (functions.credentials), resolved once per run
        auth = request_auth(node_credential(ctx, HTTP_AUTH)) \
            if ctx.extras.get(NODE_CREDENTIALS_KEY) else None
        session = ctx.http if ctx.http is not None else requests.Session()
        try:
            outcomes = run_items(
                len(items), lambda index: ctx.params(items[index], index),
                lambda params: request_items(session, params, auth),
                concurrency=int(ctx.raw_params.get("concurrency", 1)))
        finally:
            if ctx.http is None:
                session.close()
        return [[item for found in values_or_raise(outcomes) for item in found]]
