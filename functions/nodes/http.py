"""The HTTP request node: one call per input item, with parameters evaluated per item.

Failures become typed errors so that the state machine's Retry/Catch can tell them apart:
timeouts, connection failures, 429 and 5xx are retryable, other 4xx and bad URLs are not.
"""

from __future__ import annotations

from typing import Any

import requests

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


def _send(session: requests.Session, params: Any) -> requests.Response:
    return send(session, params.method, params.url, timeout=params.timeoutSeconds,
                headers=params.headers, params=params.query,
                json=params.body if params.method != "GET" and params.body is not None
                else None)


def request_items(session: requests.Session, params: Any) -> list[Item]:
    response = _send(session, params)
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
        session = ctx.http if ctx.http is not None else requests.Session()
        out: list[Item] = []
        try:
            for index, item in enumerate(items):
                out.extend(request_items(session, ctx.params(item, index)))
        finally:
            if ctx.http is None:
                session.close()
        return [out]
