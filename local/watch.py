"""``sfnflow watch``: read an execution's progress stream (SSE) from ``sfnflow serve``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests


def sse_events(url: str, api_key: str | None, execution_id: str,
               timeout: float = 60) -> Iterator[dict[str, Any]]:
    """Progress events of the execution as they happen, until it finishes."""
    headers = {"Accept": "text/event-stream"} | ({"x-api-key": api_key} if api_key else {})
    with requests.get(f"{url.rstrip('/')}/executions/{execution_id}/stream", headers=headers,
                      stream=True, timeout=timeout) as response:
        if response.status_code != 200:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise RuntimeError(f"{response.status_code}: {message}")
        kind, data = "message", []
        for line in response.iter_lines(decode_unicode=True):
            if line == "":
                if data:
                    payload = json.loads("\n".join(data))
                    if kind == "error":
                        raise RuntimeError(payload.get("message", "stream error"))
                    yield payload
                kind, data = "message", []
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
