"""The code node: runs the user's Python over all input items at once.

The code is the body of a function ``(items) -> list of items``. Every call runs in a fresh
process of its own (``functions.sandbox``) holding only that call's items, with no
credentials or configuration in its environment, limited and killed at its timeout: the
restricted builtins (``functions.sandbox.child``) are a convenience, not the boundary.

When ``Config.code_runner_arn`` is set (the CDK stack sets it), the call goes to the
separate code-runner Lambda (``functions.handlers.code_runner``), whose role can touch
nothing but its own logs and which, by default, has no network egress; that Lambda starts
the process. Locally (no ARN) the node runner starts it itself. Both paths raise the same
typed errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from functions.config import Config
from functions.errors import (
    CodeError,
    ConnectionFailed,
    NodeError,
    NodeTimeout,
    RateLimited,
)
from functions.expressions import Item
from functions.nodes.base import Executor, NodeContext, Ports, register
from functions.nodes.items import main_input
from functions.sandbox import Limits, run_isolated
from functions.sandbox.child import ALLOWED_MODULES, items_problem

__all__ = ["ALLOWED_MODULES", "Code", "as_items", "invoke_code_runner", "run_code"]


def as_items(node_name: str, result: Any) -> list[Item]:
    """Check the return value and pass it through JSON, so only JSON ever leaves the node."""
    items, problem = items_problem(node_name, result)
    if problem is not None or items is None:
        raise CodeError(problem or f"code node {node_name!r} returned no items")
    return items


def run_code(source: str, items: list[Item], node_name: str, limits: Limits | None = None,
             *, exclusive_dir: str | None = None,
             time_left: Callable[[], float] | None = None) -> list[Item]:
    """Run ``source`` over ``items`` in a fresh process; raises ``CodeError`` naming the
    node. The local path of the code node (the code-runner Lambda calls
    ``functions.sandbox.run_isolated`` itself, without the node library)."""
    return as_items(node_name, run_isolated(source, items, node_name, limits,
                                            exclusive_dir=exclusive_dir, time_left=time_left))


# --------------------------------------------------------------------------- code runner


# Lambda's longest timeout: the wait when the code runner's own is not configured.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# How much longer than the code runner may run the node runner waits for its answer.
READ_TIMEOUT_MARGIN_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5


def client_config(runner_timeout_seconds: float | None) -> Any:
    """botocore settings for the synchronous invoke: botocore's defaults (60 s read
    timeout, legacy mode's five attempts that retry read timeouts) would give up on a code
    node running over a minute and run it again, five times. Wait past the code runner's
    own timeout, and never retry: the state machine's Retry owns that decision."""
    from botocore.config import Config as BotoConfig

    runner_timeout = runner_timeout_seconds or LAMBDA_MAX_TIMEOUT_SECONDS
    return BotoConfig(read_timeout=runner_timeout + READ_TIMEOUT_MARGIN_SECONDS,
                      connect_timeout=CONNECT_TIMEOUT_SECONDS,
                      retries={"mode": "standard", "total_max_attempts": 1})


@cache
def _lambda_client(region: str, runner_timeout_seconds: float | None = None) -> Any:
    import boto3  # only the deployed path needs it

    return boto3.client("lambda", region_name=region,
                        config=client_config(runner_timeout_seconds))


def _node_error_types() -> dict[str, type[NodeError]]:
    """``error_type`` -> the class of ``functions.errors`` that carries it."""
    found: dict[str, type[NodeError]] = {}
    pending: list[type[NodeError]] = [NodeError]
    while pending:
        cls = pending.pop(0)
        if cls.__module__ == NodeError.__module__:
            found.setdefault(cls.error_type, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_from_runner(payload: Any) -> NodeError:
    """The typed error for a failed code-runner invoke: ``Sfnflow.*`` error types map to
    their class; anything else (a runtime crash, the runner's own timeout) is a CodeError,
    since only the user's code runs there."""
    payload = payload if isinstance(payload, dict) else {}
    error_type = str(payload.get("errorType") or "Unknown")
    message = str(payload.get("errorMessage") or "the code runner failed")
    cls = _node_error_types().get(error_type)
    if cls is not None:
        return cls(message, error_type=error_type)
    return CodeError(f"code runner failed: {error_type}: {message}")


def invoke_code_runner(function_arn: str, source: str, items: list[Item], node_name: str,
                       client: Any = None) -> Any:
    """Run the code in the code-runner Lambda (synchronously); returns its items."""
    from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

    if client is None:
        config = Config.from_env()
        client = _lambda_client(config.region, config.code_runner_timeout_seconds)
    request = {"code": source, "items": items, "node": node_name}
    try:
        response = client.invoke(FunctionName=function_arn, InvocationType="RequestResponse",
                                 Payload=json.dumps(request).encode())
        body = response["Payload"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("TooManyRequestsException", "ThrottlingException"):
            raise RateLimited(f"code runner throttled: {exc}") from exc
        raise NodeError(f"could not invoke the code runner: {exc}") from exc
    except ReadTimeoutError as exc:
        raise NodeTimeout(f"the code runner did not answer in time: {exc}") from exc
    except BotoCoreError as exc:
        raise ConnectionFailed(f"could not reach the code runner: {exc}") from exc
    payload = json.loads(body) if body else None
    if response.get("FunctionError"):
        raise error_from_runner(payload)
    if not isinstance(payload, dict) or "items" not in payload:
        raise CodeError(f"code node {node_name!r}: the code runner answered without items")
    return payload["items"]


@register
class Code(Executor):
    type_name = "code"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        source = ctx.node_params().code
        items = main_input(inputs)
        runner_arn = Config.from_env().code_runner_arn
        if runner_arn:
            result = invoke_code_runner(runner_arn, source, items, ctx.node_name)
            return [as_items(ctx.node_name, result)]
        return [run_code(source, items, ctx.node_name, limits_within(ctx.seconds_left()),
                         time_left=ctx.time_left)]


# The shortest run a code process gets, even when the invocation's time is all but gone.
MIN_CODE_SECONDS = 0.1


def limits_within(seconds_left: float | None) -> Limits:
    """The code process's limits when the invocation ends in ``seconds_left``: it is killed
    by then (its failure recorded), not left running after the node's Task timed out."""
    limits = Limits()
    if seconds_left is None or seconds_left >= limits.timeout_seconds:
        return limits
    return Limits(timeout_seconds=max(MIN_CODE_SECONDS, seconds_left))
