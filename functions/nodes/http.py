"""The HTTP request node: one call per input item, with parameters evaluated per item.

Failures become typed errors so that the state machine's Retry/Catch can tell them apart:
timeouts, connection failures, 429 and 5xx are retryable, other 4xx and bad URLs are not.
"""

from __future__ import annotations

from typing import Any

import requests

from functions.errors import (
    ConnectionFailed,
    HttpClientError,
    HttpServerError,
    NodeError,
    NodeTimeout,
    ParameterError,
    RateLimited,
)
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input

EXCERPT_CHARS = 200


def _status_error(status: int) -> type[NodeError]:
    if status == 429:
        return RateLimited
    return HttpServerError if status >= 500 else HttpClientError


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
    where = f"{params.method} {params.url}"
    try:
        return session.request(
            params.method,
            params.url,
            headers=params.headers,
            params=params.query,
            json=params.body if params.method != "GET" and params.body is not None else None,
            timeout=params.timeoutSeconds,
        )
    except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
        raise NodeTimeout(f"{where} timed out after {params.timeoutSeconds}s: {exc}") from exc
    except requests.ConnectionError as exc:
        raise ConnectionFailed(f"{where} failed to connect: {exc}") from exc
    except ValueError as exc:  # MissingSchema, InvalidURL, InvalidHeader...
        raise ParameterError(f"{where} is not a valid request: {exc}") from exc
    except requests.RequestException as exc:
        raise ConnectionFailed(f"{where} failed: {type(exc).__name__}: {exc}") from exc


def request_items(session: requests.Session, params: Any) -> list[Item]:
    response = _send(session, params)
    if response.status_code >= 400:
        excerpt = response.text[:EXCERPT_CHARS]
        raise _status_error(response.status_code)(
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
