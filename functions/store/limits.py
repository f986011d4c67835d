"""DynamoDB's item size limit, checked before a write instead of failing in it.

An item is at most 400 KB, in binary units: 409,600 bytes, counting every attribute's name
and value (AWS, "Constraints in Amazon DynamoDB"; sizes as in "Item sizes and formats":
a string is its UTF-8 bytes, a number about one byte per two significant digits plus one,
binary its bytes, a boolean or null one byte, a list or map 3 bytes plus one per element
plus its elements (a map's keys counted like attribute names)). Past it DynamoDB answers a
``ValidationException`` — which reached API callers as a 500. Every model of
``functions.store.models`` measures itself on ``save`` (``BoundedModel``) and raises
``ItemTooLarge``, which the API answers with 413 and a clear message; a repository that
updates an item in place measures the item it would leave (``check_item``).

What users send that could be that large is kept out of items before it gets here:
start inputs over the inline limit are staged to S3 (``functions.services.staging``),
large node outputs are offloaded (``RunRepository.record_node_run``), pins are compressed
and limited (``functions.store.pins``). This is the floor under all of them.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.errors import SfnflowError

ITEM_MAX_BYTES = 400 * 1024  # 409,600 bytes


class ItemTooLarge(SfnflowError, ValueError):
    """A record would exceed DynamoDB's item size limit (413)."""

    def __init__(self, what: str, size: int, limit: int = ITEM_MAX_BYTES) -> None:
        super().__init__(f"the {what} would take {size:,} bytes; DynamoDB stores at most "
                         f"{limit:,} bytes in one item: send less")
        self.what = what
        self.size = size
        self.limit = limit


def _number_bytes(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").strip("0")) or 1
    return min(21, (digits + 1) // 2 + 1)


def value_bytes(value: dict[str, Any]) -> int:
    """The size DynamoDB counts for one serialized attribute value (``{"S": ...}``)."""
    (kind, data), = value.items()
    if kind == "S":
        return len(str(data).encode("utf-8", "surrogatepass"))
    if kind == "N":
        return _number_bytes(str(data))
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode("utf-8", "surrogatepass")) for v in data)
    if kind == "NS":
        return sum(_number_bytes(str(v)) for v in data)
    if kind == "BS":
        return sum(len(v) for v in data)
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(str(k).encode("utf-8", "surrogatepass")) + value_bytes(v)
                       for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """The size of a serialized item: its attribute names and values."""
    return sum(len(name.encode("utf-8")) + value_bytes(value) for name, value in item.items())


def record_name(model: Any) -> str:
    """``WorkflowVersionModel`` -> ``workflow version record``: for error messages."""
    name = type(model).__name__.removesuffix("Model")
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower() + " record"


def check_item(model: Any) -> None:
    """Raise ``ItemTooLarge`` when the pynamodb ``model`` instance would not fit in one
    item."""
    size = item_bytes(model.serialize())
    if size > ITEM_MAX_BYTES:
        raise ItemTooLarge(record_name(model), size)
