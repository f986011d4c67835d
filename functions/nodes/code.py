"""The code node: runs the user's Python over all input items at once.

The code is the body of a function ``(items) -> list of items``. It is turned into that
function through the AST rather than by indenting its text, so multi-line strings keep
their content and every line number the user sees is the line they wrote.

This is NOT a security sandbox: the restricted builtins and import allow-list only keep
honest code away from the file system, processes and the network, and make mistakes show
up early. Anyone who can edit a workflow can run arbitrary code in the runner Lambda.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import sys
from types import CodeType, TracebackType
from typing import Any

from functions.errors import CodeError
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


def _filename(ctx: NodeContext) -> str:
    return f"<code node {ctx.node_name!r}>"


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


def _fail(ctx: NodeContext, exc: BaseException, line: int | None) -> CodeError:
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)  # msg: without location
    where = f" (line {line})" if line is not None else ""
    return CodeError(f"code node {ctx.node_name!r}: {type(exc).__name__}: {message}{where}")


def _as_items(ctx: NodeContext, result: Any) -> list[Item]:
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
            f"code node {ctx.node_name!r} must return a list of dicts (or one dict), not {got}"
        )
    try:
        items: list[Item] = json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise CodeError(
            f"code node {ctx.node_name!r} returned items that are not JSON: {exc}"
        ) from None
    return items


@register
class Code(Executor):
    type_name = "code"

    def run(self, inputs: Ports, ctx: NodeContext) -> Ports:
        filename = _filename(ctx)
        source = ctx.node_params().code
        try:
            code = compile_code(source, filename)
        except SyntaxError as exc:
            raise _fail(ctx, exc, exc.lineno) from None
        namespace: dict[str, Any] = {"__builtins__": SAFE_BUILTINS, "__name__": "sfnflow_code"}
        exec(code, namespace)
        try:
            result = namespace[FUNCTION_NAME](copy.deepcopy(main_input(inputs)))
        except Exception as exc:
            raise _fail(ctx, exc, _user_line(sys.exc_info()[2], filename)) from exc
        return [_as_items(ctx, result)]
