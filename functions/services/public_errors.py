"""What a caller outside the platform sees of a failed execution: the one home of that rule.

A webhook with ``responseMode: lastNode`` answers whoever knows its URL, and
``?wait=true`` answers with the execution's result; both used to pass on DescribeExecution's
``cause``. For a failure in a Lambda that cause is the runtime's JSON report — exception
text, the stack trace, the server's file paths — and for a failed branch or child it is a
whole state input with the same report nested inside. None of it is for the caller.

So a public caller sees exactly ``{"type": <error name>, "message": <text>}``:

* ``type`` is the execution's error name (``Sfnflow.CodeError``, ``States.Timeout``, the
  ``errorType`` of a ``stopAndError`` node...): typed, stable, what Retry/Catch match on,
  and it tells the caller which kind of failure happened without saying how.
* ``message`` is the workflow author's own text when the error is one the author raised on
  purpose — a ``stopAndError`` node of the definition that ran has that ``errorType`` — and
  then only the message itself (a Fail state's ``Cause``, or the ``errorMessage`` of the
  runner's report, never its ``stackTrace``). For every other error it is a fixed sentence
  pointing to the run data, which the author reads with the API key.

The author's error types come from the definition the execution ran
(DescribeStateMachineForExecution, one call, made only for a failure); when that call fails
the message is the fixed sentence: leaking is worse than a terse answer.
"""

from __future__ import annotations

import json
from typing import Any

STOP_AND_ERROR = "stopAndError"
MESSAGE_MAX_CHARS = 4096


def fixed_message(error: str | None) -> str:
    return (f"the execution failed ({error or 'an unnamed error'}); its run data "
            "(GET /executions/{id} with the API key) says where and why")


def public_failure(error: str | None, cause: str | None,
                   authored: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``{"type", "message"}`` for a public caller (see the module's docstring);
    ``authored``: the ``errorType``s of the ``stopAndError`` nodes of the definition."""
    message = _author_message(cause) if error in authored else None
    return {"type": error, "message": message if message is not None else fixed_message(error)}


def _author_message(cause: str | None) -> str | None:
    """A Fail state's ``Cause`` is the text itself; the node runner reports a raised
    ``StoppedByNode`` as the Lambda runtime does, ``{"errorMessage", "stackTrace", ...}``."""
    if not isinstance(cause, str):
        return None
    try:
        report = json.loads(cause)
    except ValueError:
        return cause[:MESSAGE_MAX_CHARS]
    if isinstance(report, dict) and isinstance(report.get("errorMessage"), str):
        return str(report["errorMessage"])[:MESSAGE_MAX_CHARS]
    return cause[:MESSAGE_MAX_CHARS] if isinstance(report, str) else None


def authored_error_types(definition: Any) -> frozenset[str]:
    """The ``errorType`` of every ``stopAndError`` node in an ASL definition: native ones
    are Fail states marked with the node type; the others are node-runner Tasks whose
    arguments name the node's type and parameters (a JSON text)."""
    from compiler.lowering.native import node_type_of  # only on a failure, not at import

    found: set[str] = set()
    pending = [definition]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        if value.get("Type") == "Fail" and node_type_of(value) == STOP_AND_ERROR \
                and isinstance(value.get("Error"), str):
            found.add(value["Error"])
        node = value.get("node") if isinstance(value.get("node"), dict) else None
        if node is not None and node.get("type") == STOP_AND_ERROR:
            found.add(_runner_error_type(node.get("parameters")))
        pending.extend(value.values())
    return frozenset(found)


def _runner_error_type(parameters: Any) -> str:
    from compiler.nodetypes import StopAndErrorParams

    if isinstance(parameters, str):
        try:
            parameters = json.loads(parameters)
        except ValueError:
            parameters = None
    chosen = parameters.get("errorType") if isinstance(parameters, dict) else None
    default = str(StopAndErrorParams.model_fields["errorType"].default)
    return chosen if isinstance(chosen, str) else default
