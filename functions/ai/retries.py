"""Retrying a model call inside the node: rate limits and transient server failures.

A retry by Step Functions starts the node again — every model turn and tool call of the
conversation so far is paid for twice — so a 429 or a 5xx on one call is retried here
first, a bounded number of times: after the server's ``Retry-After`` when it sent one
(``retry-after-ms`` too, as OpenAI's servers do), else after a short doubling backoff. A
wait longer than ``MAX_WAIT_SECONDS``, or than the time the node has left, is not slept:
the typed error goes up at once (``Sfnflow.RateLimited`` is retryable, so the state's own
Retry, which costs no Lambda time while it waits, takes over).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from functions.ai.errors import ModelResponseInvalid
from functions.errors import ConnectionFailed, HttpServerError, RateLimited

T = TypeVar("T")
MAX_WAIT_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 0.5
RETRIED = (RateLimited, HttpServerError, ModelResponseInvalid, ConnectionFailed)


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asked to wait, from ``retry-after-ms`` or ``Retry-After``
    (delta-seconds or an HTTP date); None when it said nothing readable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def with_retries(call: Callable[[], T], *, retries: int, sleep: Callable[[float], None],
                 seconds_left: Callable[[], float | None]) -> tuple[T, tuple[float, ...]]:
    """``call()`` and the seconds slept before it succeeded. A failure's ``retry_after``
    attribute (set by the client from the response) is the wait it asks for."""
    waits: list[float] = []
    attempt = 0
    while True:
        try:
            return call(), tuple(waits)
        except RETRIED as exc:
            if attempt >= retries:
                raise
            asked = getattr(exc, "retry_after", None)
            delay = asked if asked is not None else FIRST_BACKOFF_SECONDS * 2 ** attempt
            left = seconds_left()
            if delay > MAX_WAIT_SECONDS or (left is not None and delay >= left):
                limit = "no limit" if left is None else f"{left:g}s"
                raise type(exc)(f"{exc}; not waiting {delay:g}s here (at most "
                                f"{MAX_WAIT_SECONDS:g}s, the node has {limit} left)") from exc
            sleep(delay)
            waits.append(delay)
            attempt += 1
