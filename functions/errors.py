"""Typed node errors. ``error_type`` is what Step Functions sees (Lambda ``errorType``), so
ASL Retry/Catch match on it. Retryable by default: timeouts, connection errors, HTTP 5xx and
429 (see ``compiler.lowering.task.RETRYABLE_ERRORS``); never: 4xx, bad parameters, code errors.
"""

from __future__ import annotations

from compiler.errors import SfnflowError


class NodeError(SfnflowError):
    error_type = "Sfnflow.NodeError"
    retryable = False

    def __init__(self, message: str, *, error_type: str | None = None) -> None:
        super().__init__(message)
        if error_type:
            self.error_type = error_type


class ParameterError(NodeError):
    error_type = "Sfnflow.InvalidParameters"


class ExpressionError(NodeError):
    error_type = "Sfnflow.ExpressionError"


class CodeError(NodeError):
    error_type = "Sfnflow.CodeError"


class HttpClientError(NodeError):
    error_type = "Sfnflow.HttpClientError"


class HttpServerError(NodeError):
    error_type = "Sfnflow.HttpServerError"
    retryable = True


class RateLimited(NodeError):
    error_type = "Sfnflow.RateLimited"
    retryable = True


class NodeTimeout(NodeError):
    error_type = "Sfnflow.Timeout"
    retryable = True


class ConnectionFailed(NodeError):
    error_type = "Sfnflow.ConnectionError"
    retryable = True


class StoppedByNode(NodeError):
    error_type = "Sfnflow.StoppedByNode"


class RunDataMissing(NodeError):
    error_type = "Sfnflow.RunDataMissing"


class SubworkflowDepthExceeded(NodeError):
    """Raised by a sub-workflow's trigger when the call chain is deeper than its limit."""

    error_type = "Sfnflow.SubworkflowDepthExceeded"


class PayloadTooLarge(NodeError):
    error_type = "Sfnflow.PayloadTooLarge"
