"""HTTP failures as typed node errors, shared by every node that calls HTTP (sfnflow's
``httpRequest`` and n8n's HTTP Request), so one Retry/Catch rule fits both.

Timeouts, connection failures, 429 and 5xx are retryable (``NodeTimeout``,
``ConnectionFailed``, ``RateLimited``, ``HttpServerError``); other 4xx
(``HttpClientError``) and requests that cannot be made (``ParameterError``) are not.
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


def status_error(status: int) -> type[NodeError]:
    """The error class of an HTTP status of 400 or more."""
    if status == 429:
        return RateLimited
    return HttpServerError if status >= 500 else HttpClientError


def send(session: requests.Session, method: str, url: str, *, timeout: float,
         **kwargs: Any) -> requests.Response:
    """``session.request`` with its failures as typed errors naming the request."""
    where = f"{method} {url}"
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
        raise NodeTimeout(f"{where} timed out after {timeout:g}s: {exc}") from exc
    except requests.ConnectionError as exc:
        raise ConnectionFailed(f"{where} failed to connect: {exc}") from exc
    except ValueError as exc:  # MissingSchema, InvalidURL, InvalidHeader...
        raise ParameterError(f"{where} is not a valid request: {exc}") from exc
    except requests.RequestException as exc:
        raise ConnectionFailed(f"{where} failed: {type(exc).__name__}: {exc}") from exc
