"""Typed errors of the JavaScript engine, n8n expressions and the JS Code node.

Expression and Code node failures subclass the node runner's ``ExpressionError`` and
``CodeError`` so their ``error_type`` (what Step Functions Retry/Catch match on) stays the one
the rest of sfnflow already uses; the extra fields name where it happened.
"""

from __future__ import annotations

from compiler.errors import SfnflowError
from functions.errors import CodeError, ExpressionError


class JsError(SfnflowError):
    """The engine reported an error (a message from QuickJS, first line only)."""


class JsLimitExceeded(JsError):
    """A time, memory or stack limit of the context was hit; ``kind`` says which."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind} limit exceeded: {message}")
        self.kind = kind


class ExpressionEvaluationError(ExpressionError):
    """An n8n expression failed: names the node, the parameter (dotted path) and the item."""

    def __init__(self, message: str, *, node: str, parameter: str, item_index: int) -> None:
        super().__init__(f"{node}: parameter {parameter!r}, item {item_index}: {message}")
        self.node = node
        self.parameter = parameter
        self.item_index = item_index
        self.reason = message


class CodeNodeError(CodeError):
    """A JavaScript Code node failed. ``item_index`` is None in run-once-for-all-items mode;
    ``kind`` is "error", "time", "memory", "stack" or "output" (bad return value)."""

    def __init__(
        self, message: str, *, node: str, item_index: int | None = None, kind: str = "error"
    ) -> None:
        where = f"{node}" if item_index is None else f"{node}: item {item_index}"
        super().__init__(f"{where}: {message}")
        self.node = node
        self.item_index = item_index
        self.kind = kind
        self.reason = message
