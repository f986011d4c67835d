"""Lambda: run one code node's Python over its items, apart from the platform.

The node runner invokes this function for ``code`` nodes when ``SFNFLOW_CODE_RUNNER_ARN``
is set. Its role can write its own logs and nothing else, so the user's code cannot reach
the run data, the payload bucket or Step Functions. Event ``{"code", "items", "node"?}``;
result ``{"items": [...]}``; a failure is raised as an error whose Lambda ``errorType`` is
the node error's (``Sfnflow.CodeError``), which the caller maps back to the typed error.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from functions.errors import CodeError, NodeError
from functions.nodes.code import run_code

logger = Logger(service="sfnflow-code-runner")


@cache
def _lambda_error_class(error_type: str) -> type[NodeError]:
    """The Lambda runtime reports ``type(exc).__name__`` as errorType: name a class after it."""
    return type(error_type, (NodeError,), {"error_type": error_type})


def run(event: dict[str, Any]) -> dict[str, Any]:
    """Validate the request and run the code; raises ``NodeError`` subclasses."""
    code, items = event.get("code"), event.get("items", [])
    node = str(event.get("node") or "code")
    if not isinstance(code, str):
        raise CodeError(f"code node {node!r}: the request has no code")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CodeError(f"code node {node!r}: items must be a list of objects")
    return {"items": run_code(code, items, node)}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(node=event.get("node"))
    try:
        return run(event)
    except NodeError as exc:
        logger.warning("code failed", extra={"errorType": exc.error_type, "error": str(exc)})
        raise _lambda_error_class(exc.error_type)(str(exc)) from exc
