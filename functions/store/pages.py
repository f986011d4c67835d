"""One page of a listing, and the opaque cursor that fetches the next one.

The cursor is DynamoDB's LastEvaluatedKey, JSON in URL-safe base64: opaque to clients,
stateless for the server. A cursor that does not decode is the caller's error.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BadCursor(ValueError):
    """The cursor was not produced by this API."""


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("cursor is not valid: pass the `cursor` of a previous page") from None
    if not isinstance(key, dict):
        raise BadCursor("cursor is not valid: pass the `cursor` of a previous page")
    return key
