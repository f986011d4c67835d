"""n8n's test-only node ``n8n-nodes-testing.testData``: emit the ``data`` parameter.

``data`` is a list, an object (one item) or JSON text of either; every element becomes
``{"json": element}``. It ignores its input items (n8n's test workflows feed it the
manual trigger's one empty item).
"""

from __future__ import annotations

import json
from typing import Any

from functions.n8n.call import NodeCall
from functions.n8n.items import Item, deep_copy


def run(call: NodeCall) -> list[list[Item]]:
    data: Any = call.parameter("data", 0, [])
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise call.invalid("data", f"is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise call.invalid("data", "must be an array, an object or JSON text of one")
    return [[{"json": deep_copy(element), "pairedItem": {"item": 0}} for element in data]]
