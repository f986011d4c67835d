"""Writing JSONata source text for ASL fields."""

from __future__ import annotations

import json


def jsonata(source: str) -> str:
    """An ASL JSONata field value: ``{% source %}``."""
    return "{% " + source + " %}"


def literal(value: object) -> str:
    """A JSON value as JSONata source (JSON is valid JSONata)."""
    return json.dumps(value, separators=(",", ":"))
