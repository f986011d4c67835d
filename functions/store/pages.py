"""One page of a listing, and the opaque cursor that fetches the next one.

The cursor is DynamoDB's LastEvaluatedKey, JSON in URL-safe base64: opaque to clients,
stateless for the server. It comes back from the client, so it is checked before it
reaches DynamoDB as an ExclusiveStartKey: exactly the key attributes of the table and index
queried (``key_schema``), each a string or number of the declared type within DynamoDB's
key-size limits, and the index's partition key the one being queried. A forged key that
passes all that is still refused by DynamoDB (``ValidationException``: "The provided
starting key is invalid"), which the repositories translate (``cursor_refused``). Every
one of these is the caller's error, ``BadCursor`` (400), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from compiler.errors import SfnflowError

T = TypeVar("T")

# DynamoDB: a partition key value is at most 2,048 bytes, a sort key value 1,024.
KEY_VALUE_MAX_BYTES = 2048
CURSOR_MAX_CHARS = 8192  # an encoded key of the largest schema here is far smaller
_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,37})(\.[0-9]{1,38})?")  # 38 digits of precision
_MESSAGE = "cursor is not valid: pass the `cursor` of a previous page"


class BadCursor(SfnflowError, ValueError):
    """The cursor was not produced by this API for this listing (400)."""

    def __init__(self, field: str = "query.cursor", message: str = _MESSAGE) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


def key_schema(model: Any, index: Any = None) -> dict[str, str]:
    """Attribute name -> DynamoDB type ("S", "N", "B") of every key attribute a
    LastEvaluatedKey of ``model`` (queried through ``index``) holds."""
    attributes = list(model.get_attributes().values())
    if index is not None:
        attributes += list(index.Meta.attributes.values())
    return {attribute.attr_name: attribute.attr_type for attribute in attributes
            if attribute.is_hash_key or attribute.is_range_key}


def partition_key(index: Any) -> str:
    """The name of an index's partition (hash) key attribute."""
    return next(attribute.attr_name for attribute in index.Meta.attributes.values()
                if attribute.is_hash_key)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _valid_value(value: Any, expected_type: str) -> bool:
    if not isinstance(value, dict) or list(value) != [expected_type]:
        return False
    scalar = value[expected_type]
    if not isinstance(scalar, str) or not scalar:
        return False
    if expected_type == "N":
        return _NUMBER.fullmatch(scalar) is not None
    try:
        return len(scalar.encode("utf-8")) <= KEY_VALUE_MAX_BYTES
    except UnicodeEncodeError:  # a lone surrogate escaped in the JSON
        return False


def decode_cursor(cursor: str | None, schema: dict[str, str] | None = None,
                  fixed: dict[str, str] | None = None,
                  field: str = "query.cursor") -> dict[str, Any] | None:
    """The ExclusiveStartKey a ``cursor`` stands for. With ``schema`` (``key_schema``) the
    key must hold exactly those attributes with those types; ``fixed`` names string key
    values it must have (the partition key of the listing queried)."""
    if not cursor:
        return None
    if len(cursor) > CURSOR_MAX_CHARS:
        raise BadCursor(field)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise BadCursor(field) from None
    if not isinstance(key, dict):
        raise BadCursor(field)
    if schema is not None and (set(key) != set(schema) or not all(
            _valid_value(key[name], kind) for name, kind in schema.items())):
        raise BadCursor(field)
    for name, value in (fixed or {}).items():
        if key.get(name) != {"S": value}:
            raise BadCursor(field, "cursor is for another listing: pass the `cursor` of a "
                                   "previous page of this one")
    return key


def cursor_refused(exc: Exception) -> bool:
    """Whether DynamoDB refused a query's ExclusiveStartKey (its ValidationException)."""
    code = getattr(exc, "cause_response_code", None)
    return code == "ValidationException"
