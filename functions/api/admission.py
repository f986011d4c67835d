"""What the API adds for admission (``functions.services.admission``): a start's own
priority, and how a start that waits for a slot is answered.

A start's priority is ``priority`` in the body or the ``X-Priority`` header (the body wins:
it is the more specific of the two); either overrides the workflow's ``settings.priority``.
A start beyond its workflow's ``maxConcurrency`` answers 202 with ``status: QUEUED``, its
``position`` (1: admitted next) and where to follow it; nothing waits in the request for a
slot to free up.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from functions.api.models import StartExecution
from functions.services.admission import PRIORITY_HEADER, parse_priority
from functions.services.execution_control import ExecutionControl
from functions.store.repository import Execution


class AdmittedStart(StartExecution):
    """``POST /workflows/{id}/executions``: a start, with its own priority."""

    priority: Literal["high", "normal", "low"] | None = Field(
        None, description="Admission priority of this start (default: the workflow's "
        "settings.priority; the X-Priority header says the same)")


def start_priority(request: AdmittedStart, event: Any) -> str | None:
    """The body's priority, else the header's (``InvalidPriority`` on a bad header)."""
    if request.priority is not None:
        return request.priority
    return parse_priority(event.headers.get(PRIORITY_HEADER))  # case-insensitive in Powertools


def queued_answer(control: ExecutionControl, execution: Execution) -> dict[str, Any]:
    """The 202 body of a start that waits for a slot."""
    return {"executionId": execution.execution_id, "status": execution.status,
            **control.queue_position(execution),
            "statusUrl": control.status_url(execution.execution_id)}
