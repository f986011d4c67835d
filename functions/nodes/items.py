"""Helpers over items: the main input port, dot paths (``"a.b.c"``), JSON comparison.

Several nodes name fields by dot path (n8n's default "dot notation"); they share these
helpers so that "missing" means the same thing everywhere: a path is missing when a
segment is absent or the value at it is not a container. ``None`` is a present value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from functions.expressions import Item


class _Missing:
    """Sentinel for "no value at this path", distinct from a JSON ``null``."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def main_input(inputs: Sequence[Sequence[Item]]) -> list[Item]:
    """The items of input port 0 (single-input nodes have nothing else)."""
    return list(inputs[0]) if inputs else []


def split_path(path: str) -> list[str]:
    return path.split(".")


def get_path(item: Any, path: str) -> Any:
    """The value at ``path``, or ``MISSING``. A numeric segment indexes into a list."""
    current = item
    for segment in split_path(path):
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return MISSING
    return current


def set_path(item: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path``, replacing any non-dict on the way by a dict (like lodash)."""
    *parents, leaf = split_path(path)
    current = item
    for segment in parents:
        child = current.get(segment)
        if not isinstance(child, dict):
            child = current[segment] = {}
        current = child
    current[leaf] = value


def delete_path(item: dict[str, Any], path: str) -> None:
    *parents, leaf = split_path(path)
    current: Any = item
    for segment in parents:
        current = current.get(segment) if isinstance(current, dict) else None
    if isinstance(current, dict):
        current.pop(leaf, None)


def _normalize(value: Any) -> Any:
    # JSON (and n8n, which runs on JavaScript) has one number type: 1 and 1.0 are equal.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    return value


def canonical(value: Any) -> str:
    """A string equal for equal JSON values, whatever their key order or number spelling."""
    return json.dumps(_normalize(value), sort_keys=True, separators=(",", ":"), default=str)
