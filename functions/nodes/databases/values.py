"""Database values as JSON item values: the one mapping every database node uses.

Items are JSON, so: decimals become numbers (an integer when whole); dates, times and
timestamps ISO-8601 text; durations seconds; UUIDs text; bytes base64; NaN and infinities
(which JSON cannot carry) null. Objects and lists are mapped element by element.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(item) for item in value]
    return str(value)


def row_item(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    """One result row as an item; a repeated column name (``SELECT *`` over a join) gets
    a suffix (``id``, ``id_1``) instead of overwriting the first."""
    item: dict[str, Any] = {}
    for name, value in zip(unique_names(names), row, strict=True):
        item[name] = json_value(value)
    return item


def unique_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, suffix = name, 0
        while candidate in seen:
            suffix += 1
            candidate = f"{name}_{suffix}"
        seen.add(candidate)
        out.append(candidate)
    return out
