"""Stop and Error v1: the node fails the run with the author's error.

``errorType`` (default ``errorMessage``) picks the source: ``errorMessage`` is the message
itself; ``errorObject`` is a JSON object (text, or an object an expression produced) whose
message is n8n's first non-empty string of ``message``, ``description``, ``error``, else
``Error: <the object as JSON>``; its string ``description`` and ``type`` are kept beside it.
Parameters are read for item 0 only, as n8n does.

The error is sfnflow's ``StoppedByNode`` (``Sfnflow.StoppedByNode``), the error type
sfnflow's own ``stopAndError`` node fails with by default, so one Catch on that type covers
both. The object's ``type`` is not made the Step Functions error type: n8n only shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.errors import StoppedByNode
from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeParameterError
from functions.n8n.items import Item


class UserThrownError(StoppedByNode):
    """What a Stop and Error node raises: n8n's message, with the node and the object."""

    def __init__(self, node: str, message: str, *, description: str = "",
                 kind: str = "", metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.description = description
        self.kind = kind
        self.metadata = dict(metadata or {})


def _text(value: Any) -> str:
    """n8n's ``isString``: a non-empty string, else nothing."""
    return value if isinstance(value, str) and value else ""


def _error_object(call: NodeCall) -> Mapping[str, Any]:
    raw = call.parameter("errorObject", 0, "")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise NodeParameterError(call.node, "errorObject",
                                     "could not parse the JSON object") from None
    if not isinstance(raw, Mapping):
        raise NodeParameterError(call.node, "errorObject", "must be a JSON object")
    return raw


def error_of(call: NodeCall) -> UserThrownError:
    """The error the node raises (``run`` raises it; exposed so tests read it directly)."""
    error_type = call.parameter("errorType", 0, "errorMessage")
    if error_type == "errorMessage":
        return UserThrownError(call.node, str(call.parameter("errorMessage", 0, "")))
    if error_type != "errorObject":
        raise NodeParameterError(call.node, "errorType", f"unknown error type {error_type!r}")
    obj = _error_object(call)
    message = (_text(obj.get("message")) or _text(obj.get("description"))
               or _text(obj.get("error"))
               or "Error: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    return UserThrownError(call.node, message, description=_text(obj.get("description")),
                           kind=_text(obj.get("type")), metadata=obj)


def run(call: NodeCall) -> list[list[Item]]:
    raise error_of(call)
