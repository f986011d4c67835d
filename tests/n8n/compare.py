"""n8n's harness comparison: what it strips from a node's output, Jest's ``toEqual``, and a
short description of the first difference (for a verdict's reason).

One home for these rules: the corpus README (step 5) states them, and both conformance
suites (``tests/functions/n8n`` through the node functions, ``tests/n8n`` on the embedded
cloud) must judge the same way.
"""

from __future__ import annotations

import json
from typing import Any

Item = dict[str, Any]

#: Item keys n8n's harness deletes before comparing (``binary`` unless ``assertBinaryData``,
#: which no JSON test sets).
STRIPPED_KEYS = ("pairedItem", "binary")


def to_equal(actual: Any, expected: Any) -> bool:
    """Jest's ``toEqual`` on JSON data: key order ignored, ``1 == 1.0``, ``true != 1``."""
    return first_difference(actual, expected) is None


def strip_paired(items: list[Item]) -> list[dict[str, Any]]:
    """Items as n8n's harness compares them: ``pairedItem`` and ``binary`` deleted."""
    return [{k: v for k, v in item.items() if k not in STRIPPED_KEYS} for item in items]


def first_difference(actual: Any, expected: Any, path: str = "") -> str | None:
    """Where ``actual`` first differs from ``expected`` under ``toEqual``, or None."""
    where = path or "(top)"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: got {_short(actual)}, expected an object"
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = ([f"missing {missing}"] if missing else []) + \
                ([f"unexpected {extra}"] if extra else [])
            return f"{where}: keys differ ({', '.join(parts)})"
        for key in expected:
            found = first_difference(actual[key], expected[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{where}: got {_short(actual)}, expected a list"
        if len(actual) != len(expected):
            return f"{where}: {len(actual)} entries, expected {len(expected)}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            found = first_difference(a, e, f"{path}[{index}]")
            if found:
                return found
        return None
    if _same_scalar(actual, expected):
        return None
    return f"{where}: got {_short(actual)}, expected {_short(expected)}"


def _same_scalar(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and actual == expected
    return type(actual) is type(expected) and actual == expected


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit - 1] + "…"
