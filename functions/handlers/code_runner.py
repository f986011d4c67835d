"""Lambda: run one code node's Python over its items, apart from the platform.

The node runner invokes this function for ``code`` nodes when ``SFNFLOW_CODE_RUNNER_ARN``
is set. Its role can write its own logs and nothing else, so the user's code cannot reach
the run data, the payload bucket or Step Functions. Event ``{"code", "items", "node"?}``;
result ``{"items": [...]}``; a failure is raised as an error whose Lambda ``errorType`` is
the node error's (``Sfnflow.CodeError``), which the caller maps back to the typed error.

Each call runs in a fresh process (``functions.sandbox``) that ends before this invocation
answers: a warm container serves many workflows, and none may see another's items. The
process gets the time this invocation has left, less a margin to answer in, and the memory
the function has, less what this interpreter needs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from functions.config import lambda_scratch_dir
from functions.errors import CodeError, NodeError
from functions.sandbox import Limits, run_isolated

logger = Logger(service="sfnflow-code-runner")

ANSWER_MARGIN_SECONDS = 2.0  # kept back from the invocation's time to answer a timeout
RUNNER_MEMORY_MB = 128  # kept back from the function's memory for this interpreter
MIN_CHILD_MEMORY_MB = 128


@cache
def _lambda_error_class(error_type: str) -> type[NodeError]:
    """The Lambda runtime reports ``type(exc).__name__`` as errorType: name a class after it."""
    return type(error_type, (NodeError,), {"error_type": error_type})


def limits_for(context: Any) -> Limits:
    """The code process's limits within this invocation (a plain default without one)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    memory = getattr(context, "memory_limit_in_mb", None)
    limits = Limits()
    return Limits(
        timeout_seconds=max(0.1, remaining() / 1000 - ANSWER_MARGIN_SECONDS)
        if callable(remaining) else limits.timeout_seconds,
        memory_mb=max(MIN_CHILD_MEMORY_MB, int(memory) - RUNNER_MEMORY_MB)
        if memory else limits.memory_mb)


def run(event: dict[str, Any], limits: Limits | None = None,
        scratch: str | None = None) -> dict[str, Any]:
    """Validate the request and run the code; raises ``NodeError`` subclasses. ``scratch``:
    the directory the code runner owns alone (Lambda's ``/tmp``), emptied after the call."""
    code, items = event.get("code"), event.get("items", [])
    node = str(event.get("node") or "code")
    if not isinstance(code, str):
        raise CodeError(f"code node {node!r}: the request has no code")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CodeError(f"code node {node!r}: items must be a list of objects")
    # the node library is not imported here: the code process checks what the code returns
    return {"items": run_isolated(code, items, node, limits, exclusive_dir=scratch)}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(node=event.get("node"))
    try:
        return run(event, limits_for(context), lambda_scratch_dir())
    except NodeError as exc:
        logger.warning("code failed", extra={"errorType": exc.error_type, "error": str(exc)})
        raise _lambda_error_class(exc.error_type)(str(exc)) from exc
