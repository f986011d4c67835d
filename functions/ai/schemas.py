"""Checking values against the JSON Schemas of tools and answers (``jsonschema``,
Draft 2020-12; the compiler checked the schemas themselves, ``compiler.ai_params``).

Errors are collected, not stopped at the first, and each names where in the value it is
(``$.city: 'x' is too short``): the text goes back to the model verbatim, which fixes an
answer far more often when told exactly what was wrong.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

MAX_PROBLEMS = 5
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    # imported on first use: a runner that never checks a schema does not pay for it
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_text))


def problems(value: Any, schema: dict[str, Any]) -> list[str]:
    """What is wrong with ``value`` (empty: it matches)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    found = sorted(validator.iter_errors(value), key=lambda error: list(error.path))
    texts = [f"{_where(error.absolute_path)}: {error.message}" for error in found]
    if len(texts) > MAX_PROBLEMS:
        texts = texts[:MAX_PROBLEMS] + [f"... and {len(texts) - MAX_PROBLEMS} more"]
    return texts


def _where(path: Any) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                         for part in path)


def parse_json_answer(text: str) -> Any:
    """The answer as JSON; models often wrap it in a ```json fence. Raises ValueError."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    return json.loads(fenced.group(1) if fenced else stripped)
