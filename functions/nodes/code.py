"""The code node: runs the user's Python over all input items at once.

The code is the body of a function ``(items) -> list of items``. It is turned into that
function through the AST rather than by indenting its text, so multi-line strings keep
their content and every line number the user sees is the line they wrote.

This is NOT a security sandbox: the restricted builtins and import allow-list only keep
honest code away from the file system, processes and the network, and make mistakes show
up early. That is why, when ``Config.code_runner_arn`` is set (the CDK stack sets it), the
code runs in the separate code-runner Lambda (``functions.handlers.code_runner``), whose
role can touch nothing but its own logs, instead of in the node runner, whose role can read
and write the run data. Locally (no ARN) it runs in-process. Both paths raise the same
typed errors.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import sys
from functools import cache
from types import CodeType, TracebackType
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

FUNCTION_NAME = "__sfnflow_code__"

ALLOWED_MODULES = frozenset({
    "base64", "bisect", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "hashlib", "heapq", "itertools", "json", "math", "operator", "random",
    "re", "statistics", "string", "textwrap", "time", "unicodedata", "uuid", "zoneinfo",
})  # fmt: skip

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "getattr", "hasattr",
    "hash", "hex", "id", "int", "isinstance", "issubclass", "iter", "len", "list", "map",
    "max", "min", "next", "object", "oct", "ord", "pow", "print", "range", "repr",
    "reversed", "round", "set", "setattr", "slice", "sorted", "str", "sum", "super", "tuple",
    "type", "zip", "__build_class__",
    "ArithmeticError", "AssertionError", "AttributeError", "Exception", "IndexError",
    "KeyError", "LookupError", "NotImplementedError", "OverflowError", "RuntimeError",
    "StopIteration", "TypeError", "ValueError", "ZeroDivisionError",
)  # fmt: skip


def _import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(f"module {name!r} is not available in code nodes")
    return builtins.__import__(name, *args, **kwargs)


SAFE_BUILTINS: dict[str, Any] = {
    **{name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES},
    "__import__": _import,
}


def _filename(node_name: str) -> str:
    return f"<code node {node_name!r}>"


def compile_code(source: str, filename: str) -> CodeType:
    """Compile ``source`` as the body of ``def __sfnflow_code__(items): ...``."""
    body = ast.parse(source, filename=filename).body
    # Parse the wrapper too rather than build it, so no AST field differs between versions.
    wrapper = ast.parse(f"def {FUNCTION_NAME}(items): pass")
    function = wrapper.body[0]
    assert isinstance(function, ast.FunctionDef)
    function.body = body or [ast.Pass()]
    return compile(ast.fix_missing_locations(wrapper), filename, "exec")


def _user_line(traceback: TracebackType | None, filename: str) -> int | None:
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _fail(node_name: str, exc: BaseException, line: int | None) -> CodeError:
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)  # msg: without location
    where = f" (line {line})" if line is not None else ""
    return CodeError(f"code node {node_name!r}: {type(exc).__name__}: {message}{where}")


def as_items(node_name: str, result: Any) -> list[Item]:
    """Check the return value and pass it through JSON, so only JSON ever leaves the node."""
    if isinstance(result, dict):
        result = [result]
    if result is None:
        got = "None (is `return` missing?)"
    elif not isinstance(result, list):
        got = type(result).__name__
    elif not all(isinstance(item, dict) for item in result):
        got = "a list holding " + ", ".join(sorted({type(i).__name__ for i in result}))
    else:
        got = ""
    if got:
        raise CodeError(
            f"code node {node_name!r} must return a list of dicts (or one dict), not {got}"
        )
    try:
        items: list[Item] = json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise CodeError(
            f"code node {node_name!r} returned items that are not JSON: {exc}"
        ) from None
    return items


def run_code(source: str, items: list[Item], node_name: str) -> list[Item]:
    """Run ``source`` over ``items`` in this process; raises ``CodeError`` naming the node.
    The in-process path of the code node, and what the code-runner Lambda runs."""
    filename = _filename(node_name)
    try:
        code = compile_code(source, filename)
    except SyntaxError as exc:
        raise _fail(node_name, exc, exc.lineno) from None
    namespace: dict[str, Any] = {"__builtins__": SAFE_BUILTINS, "__name__": "sfnflow_code"}
    exec(code, namespace)
    try:
        result = namespace[FUNCTION_NAME](copy.deepcopy(items))
    except Exception as exc:
        raise _fail(node_name, exc, _user_line(sys.exc_info()[2], filename)) from exc
    return as_items(node_name, result)


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
        return [run_code(source, items, ctx.node_name)]
